#pragma once
// `parley bench`: a load generator. Publishers and subscribers are separate connections on
// the caller's (single-threaded) io_context; publishers write batches of pub frames as
// fast as allowed, subscribers count what arrives and measure latency. See README.md.
#include <asio.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "client_session.hpp"

namespace parley::client {

struct BenchOptions {
  int pubs = 1;
  int subs = 10;
  std::size_t size = 128;       // payload bytes, at least bench::kHeaderSize
  std::uint64_t msgs = 100000;  // total across publishers (when duration_s is 0)
  double duration_s = 0;        // > 0: publish for this long instead of `msgs`
  double rate = 0;              // total publish rate cap, msgs/s; 0 = as fast as possible
  std::string topic;            // empty: bench.<random>
  std::uint64_t window = 1000;  // max messages a publisher is ahead of subscriber 0; 0 = off
  bool json = false;            // one JSON line on stdout instead of the readable summary
  bool ws = false;              // WebSocket to the address's /ws (its HTTP listener)
  // The server's process, for its CPU per delivered message: 0 finds the process that
  // listens on a loopback --server's port (when readable); -1 never looks.
  long server_pid = 0;
};

// Runs the benchmark; prints the summary on stdout and returns the exit code: 0 clean,
// 1 loss or server errors, 2 bad options, 3 server unreachable.
asio::awaitable<int> run_bench(CommonOptions options, BenchOptions bench);

}  // namespace parley::client
