// The client's side of RFC 6455: masked client frames (checked against RFC 6455's example
// and read back by the server's reader at every length form), and a reader of server
// frames that refuses masked ones.
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/websocket.hpp"

using namespace parley::protocol;

namespace {

constexpr std::array<unsigned char, 4> kRfcMask = {0x37, 0xfa, 0x21, 0x3d};

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values) out.push_back(static_cast<char>(v));
  return out;
}

}  // namespace

TEST_CASE("a masked client frame is RFC 6455's example byte for byte", "[websocket]") {
  std::string out = "x";  // appended after what is there
  append_ws_masked_frame(out, WsOpcode::text, "Hello", kRfcMask);
  CHECK(out == "x" + bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST_CASE("masked client frames of every length form read back by the server's reader",
          "[websocket]") {
  for (std::size_t size : {0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001}) {
    std::string payload;
    for (std::size_t i = 0; i < size; ++i) payload.push_back(static_cast<char>('a' + i % 26));
    std::string wire;
    append_ws_masked_frame(wire, WsOpcode::text, payload, {0x01, 0x80, 0xfe, 0x5a});
    append_ws_masked_frame(wire, WsOpcode::ping, "hb", {0x11, 0x22, 0x33, 0x44});
    WsReader reader(1 << 20);
    reader.feed(wire);
    auto first = reader.next();
    REQUIRE(first);
    CHECK(first->kind == WsEvent::Kind::text);
    CHECK(first->payload == payload);
    auto second = reader.next();
    REQUIRE(second);
    CHECK(second->kind == WsEvent::Kind::ping);
    CHECK(second->payload == "hb");
    CHECK_FALSE(reader.next());
  }
}

TEST_CASE("a client's reader takes unmasked server frames and refuses masked ones", "[websocket]") {
  SECTION("the server's own builders, fed one byte at a time") {
    const std::string big(70000, 'z');
    const std::string wire =
        build_ws_text("Hello") + build_ws_ping("p") + build_ws_text(big) + build_ws_close(1001);
    WsReader reader(1 << 20, WsFramesFrom::server);
    std::vector<std::pair<WsEvent::Kind, std::string>> seen;
    for (char c : wire) {
      const std::string_view one(&c, 1);
      reader.feed(one);
      while (auto event = reader.next())
        seen.emplace_back(event->kind, std::string(event->payload));
    }
    REQUIRE(seen.size() == 4);
    CHECK(seen[0] == std::pair{WsEvent::Kind::text, std::string("Hello")});
    CHECK(seen[1] == std::pair{WsEvent::Kind::ping, std::string("p")});
    CHECK(seen[2] == std::pair{WsEvent::Kind::text, big});
    CHECK(seen[3].first == WsEvent::Kind::close);
  }
  SECTION("a masked frame from the server is a protocol error") {
    std::string wire;
    append_ws_masked_frame(wire, WsOpcode::text, "Hello", kRfcMask);
    WsReader reader(1024, WsFramesFrom::server);
    reader.feed(wire);
    auto event = reader.next();
    REQUIRE(event);
    CHECK(event->kind == WsEvent::Kind::error);
    CHECK(event->code == ws_close::protocol_error);
  }
  SECTION("the server's reader still refuses the unmasked form") {
    const std::string wire = build_ws_text("Hello");
    WsReader reader(1024);
    reader.feed(wire);
    auto event = reader.next();
    REQUIRE(event);
    CHECK(event->kind == WsEvent::Kind::error);
  }
}
