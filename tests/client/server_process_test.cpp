// Finding the server's process and reading its CPU time: the /proc parsers on fixed text,
// then the lookup against a socket this test listens on itself.
#include <unistd.h>
#include <asio.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "server_process.hpp"

using namespace parley::client;

namespace {
// /proc/net/tcp: 127.0.0.1:7878 and 0.0.0.0:7879 listening, 10.0.0.5:7878 listening (not
// reachable on loopback), 127.0.0.1:7878 in ESTABLISHED (01) state.
const std::string kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 0100007F:1EC6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1111 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:1EC7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "2222 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0500000A:1EC6 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "3333 1 0000000000000000 100 0 0 10 0\n"
    "   3: 0100007F:1EC6 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "4444 1 0000000000000000 20 4 30 10 -1\n";
// /proc/net/tcp6: [::1]:7878, [::]:7878, ::ffff:127.0.0.1:7878 and fe80::1:7878, listening.
const std::string kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1EC6 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000000000000:1EC6 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:1EC6 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 7777 1 0000000000000000 100 0 0 10 0\n"
    "   3: 000080FE000000000000000001000000:1EC6 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 8888 1 0000000000000000 100 0 0 10 0\n";
}  // namespace

TEST_CASE("listening sockets a local client reaches, by port", "[client][bench]") {
  using Inodes = std::vector<std::uint64_t>;
  CHECK(listening_inodes(kTcp, 7878) == Inodes{1111});
  CHECK(listening_inodes(kTcp, 7879) == Inodes{2222});
  CHECK(listening_inodes(kTcp, 7880).empty());
  CHECK(listening_inodes(kTcp6, 7878) == Inodes{5555, 6666, 7777});
  CHECK(listening_inodes("", 7878).empty());
  CHECK(listening_inodes("header only\n", 7878).empty());
  CHECK(listening_inodes("header\n   0: garbage\n   1: 0100007F:zz 0 0A\n", 7878).empty());
}

TEST_CASE("CPU ticks from /proc/PID/stat, whatever the command name holds", "[client][bench]") {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime ...
  CHECK(cpu_ticks_from_stat("42 (parley-server) S 1 42 42 0 -1 4194560 10 0 0 0 150 25 0 0") ==
        175u);
  CHECK(cpu_ticks_from_stat("42 (a b) c) (d) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0") == 10u);
  CHECK(cpu_ticks_from_stat("") == std::nullopt);
  CHECK(cpu_ticks_from_stat("42 (x) S 1 2 3") == std::nullopt);
  CHECK(cpu_ticks_from_stat("42 (x) S 1 42 42 0 -1 0 0 0 0 0 abc 3 0") == std::nullopt);
}

TEST_CASE("the process listening on a loopback port is found, and its CPU read",
          "[client][bench]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  CHECK(find_local_listener(port) == getpid());
  acceptor.close();
  CHECK(find_local_listener(port) == std::nullopt);

  const auto before = process_cpu_seconds(getpid());
  REQUIRE(before.has_value());
  // Spend CPU until the clock-tick counter moves (it counts in 1/100 s here).
  volatile std::uint64_t spin = 0;
  std::optional<double> after = before;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (after == before && std::chrono::steady_clock::now() < give_up) {
    for (int i = 0; i < 1'000'000; ++i) spin = spin + 1;
    after = process_cpu_seconds(getpid());
  }
  REQUIRE(after.has_value());
  CHECK(*after > *before);
  CHECK(process_cpu_seconds(-5) == std::nullopt);
}
