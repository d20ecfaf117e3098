// Every signal the server may receive is handled on purpose: none ends it silently.
#include <catch2/catch.hpp>
#include <csignal>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

TEST_CASE("SIGHUP reloads (nothing to reload yet) and the server keeps serving", "[signals]") {
  ServerProcess server;
  LineClient c(server.port());
  c.hello("steady");
  server.signal(SIGHUP);
  REQUIRE(server.wait_for_log("nothing to reload"));
  c.send({{"op", "ping"}, {"id", 1}});
  c.expect({{"op", "pong"}, {"id", 1}});
  CHECK_FALSE(server.wait_exit(0ms).has_value());
}

TEST_CASE("SIGUSR1, SIGUSR2 and SIGPIPE are logged or ignored, never fatal", "[signals]") {
  ServerProcess server;
  LineClient c(server.port());
  c.hello("steady");
  server.signal(SIGUSR1);
  REQUIRE(server.wait_for_log("SIGUSR1: ignored"));
  server.signal(SIGUSR2);
  REQUIRE(server.wait_for_log("SIGUSR2: ignored"));
  server.signal(SIGPIPE);
  // Signals are delivered in order of sending only per signal number: a ping after a
  // second SIGUSR1's log line proves SIGPIPE was taken too.
  server.signal(SIGUSR1);
  c.send({{"op", "ping"}, {"id", 1}});
  c.expect({{"op", "pong"}, {"id", 1}});
  CHECK_FALSE(server.wait_exit(0ms).has_value());
  CHECK(server.log().find("SIGUSR1: ignored") != server.log().rfind("SIGUSR1: ignored"));
}

// [single-node]: a second signal to one draining process. A cluster node without sessions
// has finished its drain at the first SIGTERM, and the second can reach it as it exits
// (exit code 143, 1 run in a few): the process's own signal handling.
TEST_CASE("a second SIGTERM while draining closes everything at once",
          "[signals][shutdown][single-node]") {
  ServerProcess server({{"--drain-timeout", "60s", "--outbound-limit", "64MiB"}});
  LineClient stuck(server.port());
  stuck.send({{"op", "sub"}, {"topic", "fill"}, {"id", 1}});
  stuck.expect({{"op", "ok"}});
  LineClient pub(server.port());
  std::string batch;
  for (int i = 0; i < 2000; ++i) {
    batch += R"({"op":"pub","topic":"fill","data":")" + std::string(8000, 'z') + "\"}\n";
  }
  pub.send_raw(batch);  // ~16 MB queued for `stuck`, which never reads
  pub.expect_nothing();
  server.signal(SIGTERM);
  REQUIRE(server.wait_for_log("draining"));
  server.signal(SIGTERM);
  REQUIRE(server.wait_exit(10s) == 0);
  CHECK(server.log().find("again while draining") != std::string::npos);
}
