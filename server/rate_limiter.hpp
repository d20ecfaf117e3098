#pragma once
// A token bucket for one session's publishes. `pub` may use the whole burst; `tell` may
// only run the bucket down by one second's worth (the rate), as the protocol asks.
#include <algorithm>
#include <chrono>

namespace parley::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate 0 means unlimited.
  RateLimiter(double rate_per_s, double burst, Clock::time_point now)
      : rate_(rate_per_s), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

  bool allow_publish(Clock::time_point now) { return take(now, 0.0); }
  bool allow_tell(Clock::time_point now) { return take(now, std::max(0.0, burst_ - rate_)); }

 private:
  // Takes one token if at least `reserve` remain afterwards.
  bool take(Clock::time_point now, double reserve) {
    if (rate_ <= 0) return true;
    const std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    if (tokens_ < 1.0 + reserve) return false;
    tokens_ -= 1.0;
    return true;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace parley::server
