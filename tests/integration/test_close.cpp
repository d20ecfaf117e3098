// The close path: a client still writing when the server closes on purpose gets the last
// frames, not a reset; a slow consumer learns why it was cut off; one connection's burst
// of requests is handled in slices, so others are served in between.
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

// Sends everything first and only then reads, as a simple blocking client does: the
// server's last frames must survive input it never asked for. Returns what was read.
std::vector<json> send_all_then_read(LineClient& client, const std::string& bytes) {
  bool sent = true;
  try {
    client.send_raw(bytes);
  } catch (const std::exception&) {
    sent = false;  // the server reset the connection before taking everything
  }
  CHECK(sent);
  client.shutdown_write();
  return client.read_until_closed(15s);
}

// Joins a thread however the test ends, so that a failed check cannot abort the run.
struct Joining {
  std::thread& thread;
  ~Joining() {
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

TEST_CASE("a client still sending a 10 MB line gets frame_too_large and bye, not a reset",
          "[close][framing]") {
  ServerProcess server;
  LineClient c(server.port());
  const auto frames = send_all_then_read(c, std::string(10'000'000, 'x'));  // no newline
  CHECK_FALSE(c.was_reset());
  REQUIRE(frames.size() == 2);
  CHECK(matches(frames[0], {{"op", "error"}, {"code", "frame_too_large"}}));
  CHECK(matches(frames[1], {{"op", "bye"}, {"reason", "frame_too_large"}}));
}

TEST_CASE("a pipelined burst after a refused hello still gets auth_failed and bye",
          "[close][hello]") {
  ServerProcess server({{"--token", "secret"}});
  LineClient c(server.port());
  std::string burst = R"({"op":"hello","name":"eve","token":"guess"})"
                      "\n";
  for (int i = 0; i < 1'000'000; ++i)
    burst += R"({"op":"ping","id":1})"
             "\n";
  const auto frames = send_all_then_read(c, burst);
  CHECK_FALSE(c.was_reset());
  REQUIRE(frames.size() == 2);  // nothing after the refusal is answered
  CHECK(matches(frames[0], {{"op", "error"}, {"code", "auth_failed"}}));
  CHECK(matches(frames[1], {{"op", "bye"}, {"reason", "auth_failed"}}));
}

TEST_CASE("a slow consumer reading at 2 MB/s learns why it was cut off", "[close][slow_consumer]") {
  ServerProcess server;  // the default 8 MiB outbound limit
  LineClient reader(server.port());
  // A fixed receive buffer, as on a slow link: loopback's autotuning would otherwise let
  // the kernel hold tens of megabytes ahead of the last frames.
  const int receive_buffer = 64 << 10;
  setsockopt(reader.fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  reader.send({{"op", "sub"}, {"topic", "flood"}, {"id", 1}});
  reader.expect({{"op", "ok"}});
  LineClient publisher(server.port());
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    const std::string frame =
        R"({"op":"pub","topic":"flood","data":")" + std::string(4000, 'f') + "\"}\n";
    std::string batch;
    for (int i = 0; i < 64; ++i) batch += frame;
    try {
      while (!stop) publisher.send_raw(batch);
    } catch (const std::exception&) {
    }
  });
  // Read about 64 KiB every 30 ms, as a client on a slow link would.
  std::vector<std::string> tail;
  const auto keep = [&tail](std::string line) {
    tail.push_back(std::move(line));
    if (tail.size() > 4) tail.erase(tail.begin());
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !reader.closed()) {
    for (int i = 0; i < 16; ++i) {
      auto line = reader.recv_line(10ms);
      if (!line) break;
      keep(std::move(*line));
    }
    if (!stop && server.log().find("cut off as a slow consumer") != std::string::npos) stop = true;
    std::this_thread::sleep_for(30ms);
  }
  while (auto line = reader.recv_line(10ms)) keep(std::move(*line));
  stop = true;
  publisher.shutdown_write();
  flood.join();
  REQUIRE(reader.closed());
  CHECK_FALSE(reader.was_reset());
  REQUIRE(tail.size() >= 2);
  CHECK(matches(json::parse(tail[tail.size() - 2]), {{"op", "error"}, {"code", "slow_consumer"}}));
  CHECK(matches(json::parse(tail.back()), {{"op", "bye"}, {"reason", "slow_consumer"}}));
}

// [single-node]: fairness between the connections of one process's loop.
TEST_CASE("one connection's burst of expensive requests does not hold up another's",
          "[close][fairness][single-node]") {
  // 100 retained messages of 10 KB: each history request below costs a 1 MB reply.
  ServerProcess server({{"--outbound-limit", "64MiB"}});
  LineClient seeder(server.port());
  const std::string big(10'000, 'h');
  for (int i = 0; i < 100; ++i) seeder.send({{"op", "pub"}, {"topic", "archive"}, {"data", big}});
  seeder.expect_nothing();

  LineClient observer(server.port());
  observer.send({{"op", "sub"}, {"topic", "order"}, {"id", 1}});
  observer.expect({{"op", "ok"}});

  // The heavy client pipelines 100 pairs of (history, pub order i) in one write.
  LineClient heavy(server.port());
  std::string burst;
  constexpr int kPairs = 100;
  for (int i = 0; i < kPairs; ++i) {
    burst +=
        json({{"op", "history"}, {"topic", "archive"}, {"limit", 100}, {"id", i}}).dump() + "\n";
    burst += json({{"op", "pub"}, {"topic", "order"}, {"data", i}}).dump() + "\n";
  }
  heavy.send_raw(burst);
  std::atomic<int> replies{0};
  std::thread drain([&] {
    while (replies < kPairs) {
      const auto line = heavy.recv_line(20s);
      if (!line) return;
      if (line->rfind(R"({"op":"history")", 0) == 0) ++replies;
    }
  });
  const Joining join_drain{drain};
  // Once the heavy client's burst is being served, another client publishes once.
  const auto started = std::chrono::steady_clock::now();
  while (replies == 0 && std::chrono::steady_clock::now() - started < 20s) {
    std::this_thread::yield();
  }
  REQUIRE(replies > 0);
  LineClient light(server.port());
  light.send({{"op", "pub"}, {"topic", "order"}, {"data", "light"}});

  int heavy_before_light = -1;
  int heavy_seen = 0;
  while (heavy_seen < kPairs || heavy_before_light < 0) {
    const json m = observer.recv(20s);
    if (m["data"] == "light") {
      heavy_before_light = heavy_seen;
    } else {
      ++heavy_seen;
    }
  }
  drain.join();
  CHECK(replies == kPairs);
  // Served in slices, the light publish lands a few heavy requests after it was sent, not
  // after the whole burst.
  CHECK(heavy_before_light < kPairs / 2);
}
