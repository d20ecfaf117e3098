#pragma once
// The I/O-free parts of `parley bench`: the payload header each message carries, the
// latency histogram, and the summary (rates, percentiles) printed at the end.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace parley::client::bench {

// ---------------------------------------------------------------------------- payload
// Every payload starts with a fixed-width printable header (the shared load generator's
// layout, so both tools carry the same bytes):
//   [0]       kind: 'D' data (counted), 'P' probe (readiness check, never counted)
//   [1, 7)    publisher index, 6 decimal digits
//   [7, 19)   sequence number of this publisher, 12 decimal digits, from 0
//   [19, 39)  send time: steady clock nanoseconds, 20 decimal digits
//   [39]      '.'
// then base-36 padding up to the payload size. No character needs escaping in JSON.
inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::uint32_t kMaxPublishers = 999999;
inline constexpr char kData = 'D';
inline constexpr char kProbe = 'P';

struct Header {
  char kind = 0;
  std::uint32_t pub = 0;
  std::uint64_t seq = 0;
  std::int64_t sent_ns = 0;
};

// The steady clock in nanoseconds, the time base of send and receive stamps.
std::int64_t now_ns();

// A payload of `size` bytes (at least kHeaderSize) whose header is still to be stamped.
std::string make_payload_template(std::size_t size);
// Writes the header into the first kHeaderSize bytes at `p`.
void stamp_header(char* p, char kind, std::uint32_t pub, std::uint64_t seq, std::int64_t sent_ns);
// False when `payload` does not start with a well-formed header.
bool parse_header(std::string_view payload, Header& header);

// -------------------------------------------------------------------------- histogram
// Log-linear latency histogram: exact below 256, then 128 buckets per power of two, so a
// reported quantile is within 0.8% of the true sample (the bucket's upper edge, clamped
// to the exact maximum). Fixed size; record() never allocates.
class Histogram {
 public:
  Histogram();

  void record(std::int64_t value) {
    const std::uint64_t v = value < 0 ? 0 : static_cast<std::uint64_t>(value);
    ++counts_[index(v)];
    ++total_;
    if (v > max_) max_ = v;
    if (v < min_) min_ = v;
  }
  void merge(const Histogram& other);

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return total_ ? max_ : 0; }
  std::uint64_t min() const { return total_ ? min_ : 0; }
  // The smallest recorded value v (within the bucket error) such that at least a
  // fraction q of the samples are <= v; 0 when empty.
  std::uint64_t quantile(double q) const;

  static constexpr int kSubBits = 8;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 2) * (std::size_t{1} << (kSubBits - 1));

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < (std::uint64_t{1} << kSubBits)) return static_cast<std::size_t>(v);
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - (kSubBits - 1);
    return (static_cast<std::size_t>(shift) << (kSubBits - 1)) +
           static_cast<std::size_t>(v >> shift);
  }
  static std::uint64_t upper_edge(std::size_t i);

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = UINT64_MAX;
};

// ---------------------------------------------------------------------------- summary
// What a run counted; times are now_ns() stamps (0 = never happened).
struct Counts {
  int pubs = 0;
  int subs = 0;
  std::size_t size = 0;
  std::string topic;
  std::uint64_t published = 0;
  std::uint64_t delivered = 0;     // data messages received, summed over subscribers
  std::uint64_t reordered = 0;     // late or duplicate arrivals (counted as delivered)
  std::uint64_t gaps = 0;          // forward jumps in a publisher's sequence
  std::uint64_t bad_payloads = 0;  // msg frames on the topic that carry no bench header
  std::uint64_t disconnected = 0;  // connections the server closed during the run
  std::uint64_t window_stalls = 0;
  std::int64_t first_send_ns = 0;   // first measured publish
  std::int64_t last_write_ns = 0;   // last publish write completed
  std::int64_t last_rx_ns = 0;      // last data message received by any subscriber
  std::vector<std::string> errors;  // error/bye frames and connection failures
  std::uint64_t error_count = 0;    // errors.size() may be capped
  // The server's process, when it runs on this machine and could be read: its CPU
  // seconds (all threads) over the measured phase. server_pid 0: unknown.
  long server_pid = 0;
  double server_cpu_s = 0;
};

struct Summary {
  Counts counts;
  std::uint64_t expected = 0;
  std::uint64_t lost = 0;
  double elapsed_s = 0;
  double publish_msgs_s = 0;
  double delivered_msgs_s = 0;
  double delivered_mb_s = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::uint64_t latency_samples = 0;
  double server_cpu_ns_per_delivery = 0;  // when the server's process was read
  bool clean = false;                     // nothing lost, no server error, no disconnect
};

// Elapsed time runs from the first measured publish to the later of the last delivery
// and the last publish write (the shared load generator's definition).
Summary summarize(const Counts& counts, const Histogram& latency_ns);
nlohmann::json to_json(const Summary& summary);
// A few readable lines, each ended by '\n'.
std::string to_text(const Summary& summary);

}  // namespace parley::client::bench
