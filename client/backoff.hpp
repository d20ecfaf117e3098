#pragma once
// The pause between reconnect attempts: doubling from `first` up to `most`, with up to a
// quarter of random spread so that clients cut off together do not return together.
#include <asio.hpp>
#include <chrono>
#include <random>

namespace parley::client {

class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds first = std::chrono::milliseconds(250),
                   std::chrono::milliseconds most = std::chrono::milliseconds(5000))
      : first_(first), most_(most), next_(first), random_(std::random_device{}()) {}

  // Waits for the current pause, then lengthens the next one.
  asio::awaitable<void> wait() {
    std::uniform_int_distribution<long> spread(0, next_.count() / 4);
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             next_ + std::chrono::milliseconds(spread(random_)));
    next_ = std::min(next_ * 2, most_);
    std::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  // After a connection that worked: start again from the shortest pause.
  void reset() { next_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds most_;
  std::chrono::milliseconds next_;
  std::minstd_rand random_;
};

}  // namespace parley::client
