#include "bench_stats.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace parley::client::bench {
namespace {

void put_digits(char* p, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

bool get_digits(const char* p, int width, std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    const unsigned digit = static_cast<unsigned char>(p[i]) - unsigned{'0'};
    if (digit > 9) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

double rate(double count, std::int64_t from_ns, std::int64_t to_ns) {
  return to_ns > from_ns ? count * 1e9 / static_cast<double>(to_ns - from_ns) : 0.0;
}

double to_us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e3;
}

// Rounds for output: figures with more digits than this only look precise.
double round_to(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string make_payload_template(std::size_t size) {
  static constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string payload(std::max(size, kHeaderSize), '0');
  for (std::size_t i = kHeaderSize; i < payload.size(); ++i)
    payload[i] = kAlphabet[i % kAlphabet.size()];
  stamp_header(payload.data(), kData, 0, 0, 0);
  return payload;
}

void stamp_header(char* p, char kind, std::uint32_t pub, std::uint64_t seq, std::int64_t sent_ns) {
  p[0] = kind;
  put_digits(p + 1, pub, 6);
  put_digits(p + 7, seq, 12);
  put_digits(p + 19, static_cast<std::uint64_t>(sent_ns), 20);
  p[39] = '.';
}

bool parse_header(std::string_view payload, Header& header) {
  if (payload.size() < kHeaderSize || payload[39] != '.') return false;
  if (payload[0] != kData && payload[0] != kProbe) return false;
  std::uint64_t pub = 0;
  std::uint64_t seq = 0;
  std::uint64_t sent = 0;
  if (!get_digits(payload.data() + 1, 6, pub) || !get_digits(payload.data() + 7, 12, seq) ||
      !get_digits(payload.data() + 19, 20, sent) || sent > INT64_MAX) {
    return false;
  }
  header.kind = payload[0];
  header.pub = static_cast<std::uint32_t>(pub);
  header.seq = seq;
  header.sent_ns = static_cast<std::int64_t>(sent);
  return true;
}

Histogram::Histogram() : counts_(kBuckets, 0) {}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

std::uint64_t Histogram::upper_edge(std::size_t i) {
  if (i < (std::size_t{1} << kSubBits)) return i;
  const std::size_t shift = (i >> (kSubBits - 1)) - 1;
  const std::uint64_t mantissa = i - (shift << (kSubBits - 1));
  if (mantissa + 1 >= (std::uint64_t{1} << (64 - shift))) return UINT64_MAX;
  return ((mantissa + 1) << shift) - 1;
}

std::uint64_t Histogram::quantile(double q) const {
  if (total_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::max(std::min(upper_edge(i), max_), min_);
  }
  return max_;
}

Summary summarize(const Counts& counts, const Histogram& latency_ns) {
  Summary s;
  s.counts = counts;
  s.expected = counts.published * static_cast<std::uint64_t>(std::max(counts.subs, 0));
  // Reordered arrivals (duplicates) are counted as delivered, so they could hide a loss;
  // the summary shows them next to `lost`.
  s.lost = s.expected > counts.delivered ? s.expected - counts.delivered : 0;
  const std::int64_t end = std::max(counts.last_rx_ns, counts.last_write_ns);
  if (counts.first_send_ns > 0 && end > counts.first_send_ns)
    s.elapsed_s = static_cast<double>(end - counts.first_send_ns) / 1e9;
  s.publish_msgs_s =
      rate(static_cast<double>(counts.published), counts.first_send_ns, counts.last_write_ns);
  s.delivered_msgs_s = rate(static_cast<double>(counts.delivered), counts.first_send_ns, end);
  s.delivered_mb_s = s.delivered_msgs_s * static_cast<double>(counts.size) / 1e6;
  s.p50_us = to_us(latency_ns.quantile(0.5));
  s.p90_us = to_us(latency_ns.quantile(0.9));
  s.p99_us = to_us(latency_ns.quantile(0.99));
  s.p999_us = to_us(latency_ns.quantile(0.999));
  s.max_us = to_us(latency_ns.max());
  s.latency_samples = latency_ns.count();
  if (counts.server_pid != 0 && counts.delivered > 0)
    s.server_cpu_ns_per_delivery =
        counts.server_cpu_s * 1e9 / static_cast<double>(counts.delivered);
  s.clean = s.lost == 0 && counts.error_count == 0 && counts.disconnected == 0;
  return s;
}

nlohmann::json to_json(const Summary& s) {
  const Counts& c = s.counts;
  nlohmann::json j;
  j["pubs"] = c.pubs;
  j["subs"] = c.subs;
  j["size"] = c.size;
  j["topic"] = c.topic;
  j["published"] = c.published;
  j["expected"] = s.expected;
  j["delivered"] = c.delivered;
  j["lost"] = s.lost;
  j["reordered"] = c.reordered;
  j["gaps"] = c.gaps;
  j["bad_payloads"] = c.bad_payloads;
  j["disconnected"] = c.disconnected;
  j["window_stalls"] = c.window_stalls;
  j["elapsed_s"] = round_to(s.elapsed_s, 4);
  j["publish_msgs_s"] = std::llround(s.publish_msgs_s);
  j["delivered_msgs_s"] = std::llround(s.delivered_msgs_s);
  j["delivered_MB_s"] = round_to(s.delivered_mb_s, 2);
  j["latency_us"] = {{"p50", round_to(s.p50_us, 1)}, {"p90", round_to(s.p90_us, 1)},
                     {"p99", round_to(s.p99_us, 1)}, {"p99_9", round_to(s.p999_us, 1)},
                     {"max", round_to(s.max_us, 1)}, {"samples", s.latency_samples}};
  if (c.server_pid != 0) {
    // The shared load generator's "server" object, plus the cost per delivery.
    j["server"] = {{"pid", c.server_pid},
                   {"cpu_s", round_to(c.server_cpu_s, 3)},
                   {"cpu_ns_per_delivery", round_to(s.server_cpu_ns_per_delivery, 1)}};
  }
  j["errors"] = c.error_count;
  j["error_messages"] = c.errors;
  j["ok"] = s.clean;
  return j;
}

std::string to_text(const Summary& s) {
  const Counts& c = s.counts;
  char buf[1024];
  std::string out;
  std::snprintf(buf, sizeof buf, "bench %s: %d pub x %d sub, %zu B payloads\n", c.topic.c_str(),
                c.pubs, c.subs, c.size);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "published %llu msgs in %.3f s: %.0f msgs/s\n"
                "delivered %llu of %llu: %.0f msgs/s, %.2f MB/s\n",
                static_cast<unsigned long long>(c.published), s.elapsed_s, s.publish_msgs_s,
                static_cast<unsigned long long>(c.delivered),
                static_cast<unsigned long long>(s.expected), s.delivered_msgs_s, s.delivered_mb_s);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (%llu samples)\n",
                s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us,
                static_cast<unsigned long long>(s.latency_samples));
  out += buf;
  std::snprintf(
      buf, sizeof buf,
      "lost %llu, reordered %llu, gaps %llu, bad payloads %llu, disconnected %llu, "
      "window stalls %llu\n",
      static_cast<unsigned long long>(s.lost), static_cast<unsigned long long>(c.reordered),
      static_cast<unsigned long long>(c.gaps), static_cast<unsigned long long>(c.bad_payloads),
      static_cast<unsigned long long>(c.disconnected),
      static_cast<unsigned long long>(c.window_stalls));
  out += buf;
  if (c.server_pid != 0) {
    std::snprintf(buf, sizeof buf, "server CPU %.2f s (pid %ld): %.0f ns per delivered message\n",
                  c.server_cpu_s, c.server_pid, s.server_cpu_ns_per_delivery);
    out += buf;
  }
  if (c.error_count > 0) {
    out += "server errors: " + std::to_string(c.error_count) + "\n";
    for (const auto& e : c.errors) out += "  " + e + "\n";
  }
  return out;
}

}  // namespace parley::client::bench
