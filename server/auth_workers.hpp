#pragma once
// A small pool of worker threads for what must never run on the event loop: password
// verification (tens of milliseconds of CPU each) and reading the users file. A job's
// result is posted back to the loop, where its handler runs like any other.
//
// The workers run at a lower scheduling priority than the loop (nice +5), so that a burst
// of logins on a machine with few cores slows the logins, not everyone's traffic.
// Threading: run() is called from the loop; jobs must only read what they were given.
// The destructor stops the pool (jobs not started are dropped) and joins the threads, so
// no job outlives the server that owns the pool.
#include <asio.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace parley::server {

class AuthWorkers {
 public:
  explicit AuthWorkers(std::size_t threads = 2);
  ~AuthWorkers();
  AuthWorkers(const AuthWorkers&) = delete;
  AuthWorkers& operator=(const AuthWorkers&) = delete;

  // Runs `work()` on a worker, then `done(result)` on `loop`. `done` must cope with
  // whatever it refers to being gone by then (hold a weak_ptr, not a raw pointer).
  template <class Work, class Done>
  void run(const asio::any_io_executor& loop, Work work, Done done) {
    asio::post(pool_, [loop, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work();
      asio::post(loop, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
  }

 private:
  asio::io_context pool_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::server
