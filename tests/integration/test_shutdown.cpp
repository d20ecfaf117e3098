// SIGTERM and SIGINT: stop accepting, bye shutdown to everyone, no presence, exit 0.
#include <catch2/catch.hpp>
#include <csignal>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

// [single-node]: the process's own drain (a stopping node announces its members' leave, PROTOCOL.md
// § Clusters).
TEST_CASE("SIGTERM and SIGINT drain every session and exit 0", "[shutdown][single-node]") {
  const int signal_number = GENERATE(SIGTERM, SIGINT);
  ServerProcess server;
  LineClient a(server.port());
  a.hello("a");
  a.send({{"op", "join"}, {"topic", "room"}, {"id", 1}});
  a.expect({{"op", "joined"}});
  LineClient b(server.port());
  b.hello("b");
  b.send({{"op", "join"}, {"topic", "room"}, {"id", 1}});
  b.expect({{"op", "joined"}});
  a.expect({{"op", "presence"}, {"name", "b"}});
  LineClient idle(server.port());

  server.signal(signal_number);
  for (LineClient* c : {&a, &b, &idle}) {
    const auto frames = c->read_until_closed();
    REQUIRE(frames.size() == 1);  // no presence on shutdown, only the bye
    CHECK(matches(frames[0], {{"op", "bye"}, {"reason", "shutdown"}}));
  }
  REQUIRE(server.wait_exit(10s) == 0);
  const std::string log = server.log();
  CHECK(log.find("draining") != std::string::npos);
  CHECK(log.find("sessions served") != std::string::npos);
}

TEST_CASE("a client that does not read cannot hold the drain past its timeout", "[shutdown]") {
  ServerProcess server({{"--drain-timeout", "500ms", "--outbound-limit", "64MiB"}});
  LineClient stuck(server.port());
  stuck.send({{"op", "sub"}, {"topic", "fill"}, {"id", 1}});
  stuck.expect({{"op", "ok"}});
  LineClient pub(server.port());
  const std::string payload(8000, 'z');
  std::string batch;
  for (int i = 0; i < 4000; ++i)
    batch += R"({"op":"pub","topic":"fill","data":")" + payload + "\"}\n";
  pub.send_raw(batch);  // ~32 MB queued for `stuck`, more than the socket buffers hold
  pub.expect_nothing();
  const auto started = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  REQUIRE(server.wait_exit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(server.log().find("drain timeout") != std::string::npos);
}

TEST_CASE("after the signal no new connection is served", "[shutdown]") {
  ServerProcess server({{"--drain-timeout", "2s"}});
  LineClient holder(server.port());
  holder.send({{"op", "ping"}, {"id", 1}});
  holder.expect({{"op", "pong"}});
  server.signal(SIGTERM);
  holder.read_until_closed();
  REQUIRE(server.wait_exit(10s) == 0);
  CHECK_THROWS(LineClient(server.port()));
}
