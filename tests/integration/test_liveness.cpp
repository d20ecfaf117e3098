// Heartbeats, timeouts, the connection limit and running out of descriptors.
#include <catch2/catch.hpp>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

TEST_CASE("the server pings a quiet client and keeps it while it answers", "[liveness]") {
  ServerProcess server({{"--ping-interval", "150ms", "--ping-timeout", "300ms"}});
  LineClient c(server.port());
  c.hello("steady");
  for (int i = 0; i < 3; ++i) {
    c.expect({{"op", "ping"}}, 3s);
    c.send({{"op", "pong"}});
  }
  c.send({{"op", "ping"}, {"id", "still"}});
  // A server ping may be queued in between; skip it.
  while (true) {
    const json f = c.recv();
    if (f["op"] == "pong") {
      CHECK(f["id"] == "still");
      break;
    }
    CHECK(f["op"] == "ping");
  }
}

TEST_CASE("a client that stays silent gets bye timeout, and its rooms hear it leave",
          "[liveness]") {
  ServerProcess server({{"--ping-interval", "100ms", "--ping-timeout", "200ms"}});
  LineClient silent(server.port());
  silent.hello("silent");
  silent.send({{"op", "join"}, {"topic", "r"}, {"id", 1}});
  silent.expect({{"op", "joined"}});
  LineClient watcher(server.port());
  watcher.hello("watcher");
  watcher.send({{"op", "join"}, {"topic", "r"}, {"id", 1}});
  watcher.expect({{"op", "joined"}});
  silent.expect({{"op", "presence"}, {"name", "watcher"}});

  // The watcher answers its own pings meanwhile; the silent client's frames wait in its socket.
  while (true) {
    const json f = watcher.recv(5s);
    if (f["op"] == "ping") {
      watcher.send({{"op", "pong"}});
      continue;
    }
    INFO(f.dump());
    CHECK(matches(f, {{"op", "presence"}, {"name", "silent"}, {"state", "leave"}}));
    break;
  }
  const auto frames = silent.read_until_closed(5s);
  REQUIRE(frames.size() >= 2);
  CHECK(matches(frames.front(), {{"op", "ping"}}));
  CHECK(matches(frames.back(), {{"op", "bye"}, {"reason", "timeout"}}));
}

TEST_CASE("a peer that connects and says nothing is closed", "[liveness]") {
  ServerProcess server({{"--ping-interval", "100ms", "--ping-timeout", "100ms"}});
  LineClient mute(server.port());
  const auto frames = mute.read_until_closed(5s);
  REQUIRE(!frames.empty());
  CHECK(frames.back()["reason"] == "timeout");
}

TEST_CASE("partial lines are not activity", "[liveness]") {
  ServerProcess server({{"--ping-interval", "100ms", "--ping-timeout", "150ms"}});
  LineClient dribbler(server.port());
  dribbler.send_raw("{\"op\":");
  const auto frames = dribbler.read_until_closed(5s);
  REQUIRE(!frames.empty());
  CHECK(frames.back()["reason"] == "timeout");
}

// [single-node]: max_connections is per node.
TEST_CASE("past max_connections a client gets server_full and a freed slot is reused",
          "[liveness][limits][single-node]") {
  ServerProcess server({{"--max-connections", "2", "--log-level", "debug"}});
  auto a = std::make_unique<LineClient>(server.port());
  a->hello("a");
  LineClient b(server.port());
  b.hello("b");
  LineClient c(server.port());
  const auto frames = c.read_until_closed();
  REQUIRE(!frames.empty());
  CHECK(matches(frames[0], {{"op", "error"}, {"code", "server_full"}}));
  for (std::size_t i = 1; i < frames.size(); ++i) CHECK(frames[i]["op"] == "bye");

  a->send({{"op", "quit"}});
  a->read_until_closed();
  a.reset();
  // The slot frees when the server ends the session: wait for its log line, not a guess.
  REQUIRE(server.wait_for_log(") closed", 5s));
  LineClient d(server.port());
  d.hello("d");
}

// [single-node]: the process's own descriptor limit.
TEST_CASE("running out of descriptors pauses accepting, and the server recovers",
          "[liveness][resources][single-node]") {
  ServerProcess server({{"--log-level", "debug"}, {}, 48});
  std::vector<LineClient> clients;
  // The kernel completes handshakes the server cannot accept, so connect() keeps succeeding;
  // hello shows which ones the server really serves.
  for (int i = 0; i < 60; ++i) clients.emplace_back(server.port());
  REQUIRE(server.wait_for_log("accept failed", 10s));
  CHECK(server.log().find("Too many open files") != std::string::npos);
  clients.clear();  // frees descriptors on both sides
  REQUIRE(server.wait_for_log("accepting connections again", 10s));
  LineClient after(server.port());
  after.hello("after");
  after.send({{"op", "stats"}, {"id", 1}});
  CHECK(after.expect({{"op", "stats"}, {"id", 1}})["connections"].get<int>() >= 1);
}
