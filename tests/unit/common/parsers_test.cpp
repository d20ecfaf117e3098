// The one grammar for durations, sizes and addresses that the server's flags and the
// client's flags share.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/common/duration.hpp"
#include "parley/common/endpoint.hpp"
#include "parley/common/size.hpp"

using namespace parley::common;
using std::chrono::milliseconds;

TEST_CASE("durations with and without units", "[duration]") {
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK(parse_duration("1.5s") == milliseconds(1500));
  CHECK(parse_duration("2") == milliseconds(2000));
  CHECK(parse_duration("0.0001") == milliseconds(0));
  CHECK(parse_duration("2m") == milliseconds(120000));
  CHECK(parse_duration("2min") == milliseconds(120000));
  CHECK(parse_duration("1h") == milliseconds(3600000));
  CHECK(parse_duration("3 s") == milliseconds(3000));
  for (const char* bad : {"", "s", "-1", "1x", "1.2.3", "abc", "1e3", "99999999999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad));
  }
}

TEST_CASE("sizes in bytes, binary and decimal units", "[size]") {
  CHECK(parse_size("65536") == 65536u);
  CHECK(parse_size("64KiB") == 65536u);
  CHECK(parse_size("8MiB") == 8u << 20);
  CHECK(parse_size("1GB") == 1000000000u);
  CHECK(parse_size("12B") == 12u);
  for (const char* bad : {"", "KiB", "1.5", "1 TiB", "-3", "2000000TB"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_size(bad));
  }
}

TEST_CASE("one address: names, IPv4, bracketed IPv6, default host, schemes", "[endpoint]") {
  CHECK(parse_endpoint("chat.example:7878", "127.0.0.1") == Endpoint{"chat.example", 7878, false});
  CHECK(parse_endpoint("[::1]:80", "127.0.0.1") == Endpoint{"::1", 80, false});
  CHECK(parse_endpoint(":9", "127.0.0.1") == Endpoint{"127.0.0.1", 9, false});
  CHECK(parse_endpoint("tcp://h:1", "x") == Endpoint{"h", 1, false});
  CHECK(parse_endpoint("tls://h:1", "x") == Endpoint{"h", 1, true});
  CHECK(parse_endpoint("[::1]:80", "x")->text() == "[::1]:80");
  CHECK(parse_endpoint("tls://h:1", "x")->text() == "tls://h:1");
  for (const char* bad : {"", "host", "host:", "host:65536", "host:-1", "host:8x", "::1:80", "[]:1",
                          "a b:1", "http://h:1", "h:1,"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_endpoint(bad, "127.0.0.1"));
  }
}

TEST_CASE("WebSocket URLs: ws:// and wss://, with a path defaulting to /ws", "[endpoint]") {
  const auto ws = parse_endpoint("ws://h:80/ws", "x");
  REQUIRE(ws);
  CHECK(*ws == Endpoint{"h", 80, false, true, "/ws"});
  CHECK(ws->text() == "ws://h:80/ws");
  CHECK(parse_endpoint("wss://[::1]:443", "x") == Endpoint{"::1", 443, true, true, "/ws"});
  CHECK(parse_endpoint("wss://[::1]:443", "x")->text() == "wss://[::1]:443/ws");
  CHECK(parse_endpoint("ws://:7880/chat/ws?v=1", "127.0.0.1") ==
        Endpoint{"127.0.0.1", 7880, false, true, "/chat/ws?v=1"});
  for (const char* bad : {"ws://h", "ws://h:1/a b", "wss://h:x/ws", "ws:///ws"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_endpoint(bad, "127.0.0.1"));
  }
}

TEST_CASE("several comma-separated addresses, in order", "[endpoint]") {
  const auto list = parse_endpoints("a:1, [::1]:2,:3", "127.0.0.1");
  REQUIRE(list);
  CHECK(*list ==
        std::vector<Endpoint>{{"a", 1, false}, {"::1", 2, false}, {"127.0.0.1", 3, false}});
  CHECK_FALSE(parse_endpoints("", "x"));
  CHECK_FALSE(parse_endpoints("a:1,", "x"));
  CHECK_FALSE(parse_endpoints("a:1,,b:2", "x"));
}

TEST_CASE("listen addresses are literals, localhost and an empty host are mapped", "[endpoint]") {
  CHECK(parse_listen(":7878") == Endpoint{"0.0.0.0", 7878, false});
  CHECK(parse_listen("localhost:1") == Endpoint{"127.0.0.1", 1, false});
  CHECK(parse_listen("[::]:0") == Endpoint{"::", 0, false});
  CHECK_FALSE(parse_listen("example.com:1"));
  CHECK_FALSE(parse_listen("tls://127.0.0.1:1"));
  CHECK_FALSE(parse_listen("127.0.0.1:1,127.0.0.1:2"));
}
