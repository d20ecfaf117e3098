#pragma once
// A token bucket for one session's publishes. `pub` may use the whole burst; `tell` may
// only run the bucket down by one second's worth (the rate, at least one token), as the
// protocol asks. Time is counted in whole nanoseconds, not in fractional tokens, so the
// bucket refills exactly on time however often it is asked, and a refused attempt changes
// nothing.
#include <algorithm>
#include <chrono>
#include <cmath>

namespace parley::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate 0 means unlimited; the bucket starts full.
  RateLimiter(double rate_per_s, double burst, Clock::time_point now)
      : unlimited_(rate_per_s <= 0) {
    if (unlimited_) return;
    const double capacity = std::max(burst, 1.0);
    const double tell_burst = std::clamp(rate_per_s, 1.0, capacity);
    interval_ = std::max(span(1e9 / rate_per_s), Nanos{1});
    full_ = span(capacity * static_cast<double>(interval_.count()));
    tell_reserve_ = std::min(span((capacity - tell_burst) * static_cast<double>(interval_.count())),
                             full_ - interval_);
    empty_at_ = now - full_;
  }

  bool allow_publish(Clock::time_point now) { return take(now, Nanos{0}); }
  bool allow_tell(Clock::time_point now) { return take(now, tell_reserve_); }

 private:
  using Nanos = std::chrono::nanoseconds;

  // Rounds to whole nanoseconds, at most about 30 years, so that nothing overflows.
  static Nanos span(double ns) {
    return Nanos(static_cast<Nanos::rep>(std::llround(std::clamp(ns, 0.0, 1e18))));
  }

  // Takes one token if `reserve` worth of refill time is still in the bucket afterwards.
  // The bucket holds (now - empty_at_) / interval_ tokens, at most full_ / interval_.
  bool take(Clock::time_point now, Nanos reserve) {
    if (unlimited_) return true;
    const Clock::time_point base = std::max(empty_at_, now - full_);
    if (now - base < interval_ + reserve) return false;
    empty_at_ = base + interval_;
    return true;
  }

  bool unlimited_;
  Nanos interval_{1};      // the time one token takes to come back
  Nanos full_{1};          // the time an empty bucket takes to fill
  Nanos tell_reserve_{0};  // what a tell must leave in the bucket (burst - rate tokens)
  Clock::time_point empty_at_{};
};

}  // namespace parley::server
