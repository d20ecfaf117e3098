// The command line: help, version, units, environment variables and refusals.
#include <catch2/catch.hpp>
#include <csignal>
#include <sstream>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

int count_lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

// [single-node]: the process's own command line.
TEST_CASE("help documents every flag and exits 0", "[config][single-node]") {
  const auto [code, output] = ServerProcess::run_to_exit({"--help"});
  CHECK(code == 0);
  for (const char* flag :
       {"--listen", "--max-frame", "--max-subs", "--max-connections", "--ping-interval",
        "--ping-timeout", "--outbound-limit", "--rate", "--rate-burst", "--history",
        "--history-bytes", "--token", "--drain-timeout", "--log-level", "--log-format"}) {
    CAPTURE(flag);
    CHECK(output.find(flag) != std::string::npos);
  }
  CHECK(output.find("PARLEY_LISTEN") != std::string::npos);
}

// [single-node]: the process's own command line.
TEST_CASE("version prints the version", "[config][single-node]") {
  const auto [code, output] = ServerProcess::run_to_exit({"--version"});
  CHECK(code == 0);
  CHECK(output.find("parley/") != std::string::npos);
}

// [single-node]: the process's own command line.
TEST_CASE("a bad flag value is refused with one line and exit code 2", "[config][single-node]") {
  const std::vector<std::vector<std::string>> cases = {
      {"--max-frame", "lots"},
      {"--max-frame", "10"},
      {"--ping-interval", "5 parsecs"},
      {"--ping-timeout", "0s"},
      {"--drain-timeout", "-1s"},
      {"--listen", "nowhere"},
      {"--listen", "127.0.0.1:99999"},
      {"--listen", "example.org:7878"},
      {"--log-level", "loud"},
      {"--log-format", "xml"},
      {"--outbound-limit", "8XB"},
      {"--max-subs", "0"},
      {"--rate", "-1"},
      {"--history", "many"},
      {"--no-such-flag"},
      {"--history-bytes", "1.5"},
  };
  for (const auto& args : cases) {
    CAPTURE(args);
    const auto [code, output] = ServerProcess::run_to_exit(args);
    CHECK(code == 2);
    CHECK(count_lines(output) == 1);
    CHECK(output.rfind("parley-server: ", 0) == 0);
  }
}

// [single-node]: the process's own configuration, read back from its welcome.
TEST_CASE("environment variables configure the server, units included", "[config][single-node]") {
  ServerProcess server(
      {{}, {"PARLEY_MAX_FRAME=2KiB", "PARLEY_PING_INTERVAL=2m", "PARLEY_MAX_SUBS=9"}});
  LineClient c(server.port());
  const json welcome = c.hello("env");
  CHECK(welcome["limits"] == json{{"max_frame", 2048}, {"max_subs", 9}, {"ping_interval_s", 120}});
}

// [single-node]: the process's own configuration.
TEST_CASE("flags win over the environment", "[config][single-node]") {
  ServerProcess server({{"--max-subs", "4"}, {"PARLEY_MAX_SUBS=9"}});
  LineClient c(server.port());
  CHECK(c.hello("flag")["limits"]["max_subs"] == 4);
}

// [single-node]: the process's own log lines.
TEST_CASE("json log format writes one JSON object per line", "[config][single-node]") {
  ServerProcess server({{"--log-format", "json"}});
  server.signal(SIGTERM);
  REQUIRE(server.wait_exit() == 0);
  std::istringstream lines(server.log());
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    const json entry = json::parse(line);
    CHECK(entry.contains("ts"));
    CHECK(entry.contains("level"));
    CHECK(entry.contains("msg"));
    ++parsed;
  }
  CHECK(parsed >= 3);
}

// [single-node]: the process's own listener.
TEST_CASE("an address in use is a clear error and exit code 1", "[config][single-node]") {
  ServerProcess first;
  const auto [code, output] =
      ServerProcess::run_to_exit({"--listen", "127.0.0.1:" + std::to_string(first.port())});
  CHECK(code == 1);
  CHECK(output.find("cannot serve") != std::string::npos);
}
