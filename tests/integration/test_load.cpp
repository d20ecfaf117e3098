// Load-shaped behaviour: a subscriber that stops reading is cut off without hurting
// anyone, and a thousand connections are served at once.
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

// [single-node]: the process's resident memory.
TEST_CASE(
    "a slow consumer is cut off while the publisher and others carry on and memory stays bounded",
    "[load][slow_consumer][single-node]") {
  ServerProcess server({{"--outbound-limit", "2MiB", "--history", "0"}});
  LineClient stalled(server.port());
  stalled.hello("stalled");
  stalled.send({{"op", "sub"}, {"topic", "flood"}, {"id", 1}});
  stalled.expect({{"op", "ok"}});
  stalled.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  stalled.expect({{"op", "joined"}});

  LineClient reader(server.port());
  reader.hello("reader");
  reader.send({{"op", "sub"}, {"topic", "flood"}, {"id", 1}});
  reader.expect({{"op", "ok"}});
  reader.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  reader.expect({{"op", "joined"}});
  stalled.expect({{"op", "presence"}, {"name", "reader"}});

  const long rss_before = server.rss_kib();
  constexpr int kMessages = 40000;
  const std::string payload(2000, 'p');  // 40000 x ~2 KiB = ~80 MiB through the server

  // The reader drains on its own thread, checking order, until the last message arrives.
  // The publisher stays at most kWindow messages ahead of the reader, so that the reader is
  // a fast consumer by construction, however slow this test process runs.
  constexpr int kWindow = 400;
  std::mutex progress_mutex;
  std::condition_variable progress;
  int received = 0;
  bool reader_done = false;
  bool in_order = true;
  bool saw_leave = false;
  std::thread drain([&] {
    // Lines are only scanned, not parsed, so that the reader keeps ahead of the server.
    long expected_seq = 1;
    while (received < kMessages) {
      const auto line = reader.recv_line(30s);
      if (!line) break;
      if (line->rfind(R"({"op":"presence")", 0) == 0) {
        saw_leave =
            saw_leave || line->find(R"("name":"stalled","state":"leave")") != std::string::npos;
        continue;
      }
      if (line->rfind(R"({"op":"msg")", 0) != 0) continue;
      const auto seq_at = line->rfind(R"("seq":)");
      in_order = in_order && seq_at != std::string::npos &&
                 std::stol(line->substr(seq_at + 6)) == expected_seq;
      ++expected_seq;
      std::lock_guard lock(progress_mutex);
      ++received;
      progress.notify_all();
    }
    std::lock_guard lock(progress_mutex);
    reader_done = true;
    progress.notify_all();
  });

  LineClient publisher(server.port());
  publisher.hello("publisher");
  std::string batch;
  for (int i = 0; i < kMessages; ++i) {
    batch += R"({"op":"pub","topic":"flood","data":")" + payload + "\"}\n";
    if ((i + 1) % (kWindow / 4) == 0) {
      publisher.send_raw(batch);
      batch.clear();
      std::unique_lock lock(progress_mutex);
      progress.wait(lock, [&] { return reader_done || received >= i + 1 - kWindow; });
    }
  }
  publisher.send_raw(batch);
  publisher.expect_nothing();  // every pub was taken: no error, no rate limit, no stall
  drain.join();
  const long rss_after = server.rss_kib();

  CHECK(received == kMessages);
  CHECK(in_order);
  // The cut-off is best effort to write: the stalled client finds error + bye after what
  // fitted in its queue, or just the close.
  const auto frames = stalled.read_until_closed(30s);
  bool saw_error = false;
  for (const auto& f : frames)
    saw_error = saw_error || matches(f, {{"op", "error"}, {"code", "slow_consumer"}});
  CHECK(frames.size() < static_cast<std::size_t>(kMessages));
  INFO("stalled client read " << frames.size() << " frames before the close");
  CHECK((saw_error || frames.empty() || frames.back()["op"] == "msg"));
  if (!saw_leave) reader.expect({{"op", "presence"}, {"name", "stalled"}, {"state", "leave"}});

  publisher.send({{"op", "stats"}, {"id", 1}});
  const json stats = publisher.expect({{"op", "stats"}});
  CHECK(stats["slow_consumers"] == 1);
  // Without the cut-off the stalled queue would hold ~80 MiB. AddressSanitizer keeps freed
  // memory in quarantine, so RSS says nothing about bounds in that build.
  INFO("server RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
#ifndef PARLEY_SANITIZED
  CHECK(rss_after - rss_before < 24 * 1024);
#endif
}

// [single-node]: it reads the process's own stats and descriptors.
TEST_CASE("a thousand concurrent connections are served", "[load][single-node]") {
  ServerProcess server({{"--max-connections-per-ip", "0"}});  // all from 127.0.0.1
  std::vector<LineClient> clients;
  clients.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    clients.emplace_back(server.port());
    clients.back().send({{"op", "hello"}, {"name", "c" + std::to_string(i)}});
    clients.back().send({{"op", "sub"}, {"topic", "all.>"}, {"id", 1}});
  }
  for (auto& c : clients) {
    c.expect({{"op", "welcome"}});
    c.expect({{"op", "ok"}, {"id", 1}});
  }
  LineClient pub(server.port());
  pub.send({{"op", "pub"}, {"topic", "all.hands"}, {"data", "meeting"}});
  for (auto& c : clients) c.expect({{"op", "msg"}, {"topic", "all.hands"}, {"data", "meeting"}});
  pub.send({{"op", "stats"}, {"id", 1}});
  const json stats = pub.expect({{"op", "stats"}});
  CHECK(stats["connections"] == 1001);
  CHECK(stats["msgs_out"] == 1000);
  const int fds_with_clients = server.open_descriptors();
  CHECK(fds_with_clients >= 1001);
  clients.clear();
  // Every session closes and gives back its descriptor; each poll is a real round trip.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    pub.send({{"op", "stats"}, {"id", "s"}});
    if (pub.expect({{"op", "stats"}})["connections"] == 1) break;
  }
  CHECK(server.open_descriptors() <= fds_with_clients - 1000);
}
