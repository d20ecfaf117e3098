#include "auth_workers.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace parley::server {
namespace {

// Linux applies a nice value to the one thread named by its id (a POSIX departure that
// Linux documents in setpriority(2)), so the loop thread keeps its own priority.
constexpr int kWorkerNice = 5;

void lower_own_priority() {
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, kWorkerNice) != 0)
    spdlog::debug("auth worker: could not lower its priority");
}

}  // namespace

AuthWorkers::AuthWorkers(std::size_t threads)
    : pool_(static_cast<int>(threads)), guard_(pool_.get_executor()) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      lower_own_priority();
      // A job that throws ends only that job: the worker goes on with the next.
      while (true) {
        try {
          pool_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("auth worker: a job failed: {}", e.what());
        }
      }
    });
  }
}

AuthWorkers::~AuthWorkers() {
  guard_.reset();
  pool_.stop();
  for (std::thread& thread : threads_) thread.join();
}

}  // namespace parley::server
