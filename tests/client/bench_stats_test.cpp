// parley bench's I/O-free parts: the payload header, the latency histogram and the summary.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_stats.hpp"

using namespace parley::client::bench;

TEST_CASE("bench payload headers round-trip and bad ones are refused", "[client][bench]") {
  std::string payload = make_payload_template(128);
  REQUIRE(payload.size() == 128);
  stamp_header(payload.data(), kData, 42, 123456789, 987654321012345);
  Header header;
  REQUIRE(parse_header(payload, header));
  CHECK(header.kind == kData);
  CHECK(header.pub == 42);
  CHECK(header.seq == 123456789);
  CHECK(header.sent_ns == 987654321012345);
  // Nothing in a payload needs escaping inside a JSON string.
  CHECK(payload.find_first_of("\"\\") == std::string::npos);

  stamp_header(payload.data(), kProbe, 0, 7, 1);
  REQUIRE(parse_header(payload, header));
  CHECK(header.kind == kProbe);

  CHECK_FALSE(parse_header(payload.substr(0, kHeaderSize - 1), header));
  std::string corrupt = payload;
  corrupt[10] = 'x';
  CHECK_FALSE(parse_header(corrupt, header));
  corrupt = payload;
  corrupt[0] = 'Q';
  CHECK_FALSE(parse_header(corrupt, header));
  CHECK(make_payload_template(10).size() == kHeaderSize);
}

TEST_CASE("bench histogram is exact for small values and within 1 percent above",
          "[client][bench]") {
  Histogram empty;
  CHECK(empty.count() == 0);
  CHECK(empty.quantile(0.5) == 0);
  CHECK(empty.max() == 0);

  Histogram small;
  for (int v = 1; v <= 100; ++v) small.record(v);
  CHECK(small.count() == 100);
  CHECK(small.quantile(0.5) == 50);
  CHECK(small.quantile(0.9) == 90);
  CHECK(small.quantile(0.99) == 99);
  CHECK(small.quantile(1.0) == 100);
  CHECK(small.min() == 1);
  CHECK(small.max() == 100);

  // Log-uniform samples from 1 us to 10 s: every quantile within 1% of the exact one.
  std::mt19937_64 generator(12345);
  std::uniform_real_distribution<double> exponent(3.0, 10.0);
  std::vector<std::int64_t> samples;
  Histogram big;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::int64_t>(std::pow(10.0, exponent(generator)));
    samples.push_back(v);
    big.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    const auto exact = static_cast<double>(samples[rank - 1]);
    const auto approx = static_cast<double>(big.quantile(q));
    INFO("q=" << q << " exact=" << exact << " approx=" << approx);
    CHECK(approx >= exact);
    CHECK(approx <= exact * 1.01);
  }
  CHECK(big.max() == static_cast<std::uint64_t>(samples.back()));
  CHECK(big.quantile(1.0) == static_cast<std::uint64_t>(samples.back()));
}

TEST_CASE("bench histogram clamps negatives, takes huge values and merges", "[client][bench]") {
  Histogram a;
  a.record(-5);
  a.record(INT64_MAX);
  CHECK(a.min() == 0);
  CHECK(a.max() == static_cast<std::uint64_t>(INT64_MAX));
  CHECK(a.quantile(1.0) == static_cast<std::uint64_t>(INT64_MAX));
  Histogram b;
  for (int i = 0; i < 8; ++i) b.record(1000);
  a.merge(b);
  CHECK(a.count() == 10);
  CHECK(a.quantile(0.5) >= 1000);
  CHECK(a.quantile(0.5) <= 1010);
}

TEST_CASE("bench summary computes rates, loss and percentiles", "[client][bench]") {
  Counts counts;
  counts.pubs = 2;
  counts.subs = 3;
  counts.size = 100;
  counts.topic = "bench.t";
  counts.published = 1000;
  counts.delivered = 2990;
  counts.first_send_ns = 1'000'000'000;
  counts.last_write_ns = 1'500'000'000;  // publishing took 0.5 s
  counts.last_rx_ns = 3'000'000'000;     // the last delivery came 2 s after the first send
  Histogram latency;
  for (int i = 1; i <= 1000; ++i) latency.record(i * 1000);  // 1..1000 us

  const Summary s = summarize(counts, latency);
  CHECK(s.expected == 3000);
  CHECK(s.lost == 10);
  CHECK_FALSE(s.clean);
  CHECK(s.elapsed_s == Approx(2.0));
  CHECK(s.publish_msgs_s == Approx(2000.0));
  CHECK(s.delivered_msgs_s == Approx(1495.0));
  CHECK(s.delivered_mb_s == Approx(0.1495));
  CHECK(s.p50_us == Approx(500.0).epsilon(0.01));
  CHECK(s.p90_us == Approx(900.0).epsilon(0.01));
  CHECK(s.p99_us == Approx(990.0).epsilon(0.01));
  CHECK(s.p999_us == Approx(999.0).epsilon(0.01));
  CHECK(s.max_us == Approx(1000.0));

  const auto j = to_json(s);
  CHECK(j["delivered"] == 2990);
  CHECK(j["lost"] == 10);
  CHECK(j["ok"] == false);
  CHECK(j["delivered_msgs_s"] == 1495);
  CHECK(j["latency_us"]["max"] == 1000.0);
  CHECK(j["latency_us"].contains("p99_9"));
  CHECK(to_text(s).find("lost 10") != std::string::npos);

  counts.delivered = 3000;
  const Summary clean = summarize(counts, latency);
  CHECK(clean.lost == 0);
  CHECK(clean.clean);
  counts.error_count = 1;
  counts.errors = {"pub 0: rate_limited: too fast"};
  const Summary errored = summarize(counts, latency);
  CHECK_FALSE(errored.clean);
  CHECK(to_text(errored).find("rate_limited") != std::string::npos);
}

TEST_CASE("bench summary of a run that never published is all zeros", "[client][bench]") {
  Counts counts;
  counts.pubs = 1;
  counts.subs = 0;
  const Summary s = summarize(counts, Histogram());
  CHECK(s.expected == 0);
  CHECK(s.lost == 0);
  CHECK(s.elapsed_s == 0);
  CHECK(s.delivered_msgs_s == 0);
  CHECK(s.p99_us == 0);
  CHECK(s.clean);
}
