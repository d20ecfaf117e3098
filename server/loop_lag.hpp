#pragma once
// Event-loop lag: a timer fires every period, and how late it fires is how long a ready
// handler had to wait for the loop. Kept as a Prometheus histogram (cumulative at scrape).
#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstdint>

namespace parley::server {

class LoopLagProbe {
 public:
  // Upper bounds of the histogram's buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

  struct Histogram {
    std::array<std::uint64_t, kBounds.size() + 1> counts{};  // per bucket, last is +Inf
    double sum_seconds = 0;
    std::uint64_t count = 0;
  };

  LoopLagProbe(asio::io_context& io, std::chrono::milliseconds period);
  void start();
  void stop();
  const Histogram& histogram() const noexcept { return histogram_; }
  // Records one observation (seconds late); public for tests.
  void record(double seconds) noexcept;

 private:
  void arm();

  asio::steady_timer timer_;
  std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point due_{};
  Histogram histogram_;
  bool stopped_ = false;
};

}  // namespace parley::server
