#include "loop_lag.hpp"

#include <algorithm>

namespace parley::server {

LoopLagProbe::LoopLagProbe(asio::io_context& io, std::chrono::milliseconds period)
    : timer_(io), period_(period) {}

void LoopLagProbe::start() {
  stopped_ = false;
  due_ = std::chrono::steady_clock::now() + period_;
  arm();
}

void LoopLagProbe::stop() {
  stopped_ = true;
  timer_.cancel();
}

void LoopLagProbe::arm() {
  timer_.expires_at(due_);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec || stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    record(std::chrono::duration<double>(now - due_).count());
    // The next deadline counts from now: one long stall is one late observation, not a
    // burst of catch-up firings.
    due_ = now + period_;
    arm();
  });
}

void LoopLagProbe::record(double seconds) noexcept {
  seconds = std::max(seconds, 0.0);
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(kBounds.begin(), kBounds.end(), seconds) - kBounds.begin());
  ++histogram_.counts[bucket];
  histogram_.sum_seconds += seconds;
  ++histogram_.count;
}

}  // namespace parley::server
