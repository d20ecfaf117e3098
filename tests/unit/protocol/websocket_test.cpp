// WsReader over a table of client frames, fed whole and in every small chunking; the
// handshake's accept value; the server-side frame builders.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "parley/protocol/utf8.hpp"
#include "parley/protocol/websocket.hpp"

using namespace parley::protocol;

namespace {

using Kind = WsEvent::Kind;

struct Event {
  Kind kind;
  std::uint16_t code;
  std::string payload;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{" << static_cast<int>(e.kind) << "," << e.code << ",\"" << e.payload << "\"}";
}

constexpr std::uint8_t kFin = 0x80;
constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;
constexpr std::uint8_t kCont = 0x0;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kPing = 0x9;
constexpr std::uint8_t kPong = 0xA;

// A client frame: first byte b0, the payload masked with `key` (unless masked is false),
// the length in the 7-bit, 16-bit or 64-bit form as small as it fits, or `declared` when
// set (the payload's bytes are then all that follow).
std::string frame(std::uint8_t b0, const std::string& payload, bool masked = true,
                  std::uint64_t declared = UINT64_MAX) {
  const std::uint64_t length = declared == UINT64_MAX ? payload.size() : declared;
  std::string out(1, static_cast<char>(b0));
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (length < 126) {
    out.push_back(static_cast<char>(mask_bit | length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
  const unsigned char key[4] = {0x37, 0xFA, 0x21, 0x3D};
  if (masked) out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(masked ? static_cast<char>(payload[i] ^ static_cast<char>(key[i % 4]))
                         : payload[i]);
  }
  return out;
}

std::string close_payload(unsigned code, const std::string& reason = "") {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  return out + reason;
}

std::vector<Event> read_all(const std::string& bytes, std::size_t chunk, std::size_t max_message) {
  WsReader reader(max_message);
  std::vector<Event> events;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    reader.feed(std::string_view(bytes).substr(at, chunk));
    while (const auto e = reader.next())
      events.push_back({e->kind, e->code, std::string(e->payload)});
  }
  return events;
}

// Reads `bytes` whole, then in chunks of 1, 2, 3, 5 and 7 bytes: each must give the same.
std::vector<Event> read_checked(const std::string& bytes, std::size_t max_message = 1 << 20) {
  auto whole = read_all(bytes, bytes.size() + 1, max_message);
  for (std::size_t chunk : {1, 2, 3, 5, 7}) {
    INFO("chunk " << chunk);
    CHECK(read_all(bytes, chunk, max_message) == whole);
  }
  return whole;
}

Event text(std::string payload) {
  return {Kind::text, 0, std::move(payload)};
}
Event error(std::uint16_t code) {
  return {Kind::error, code, ""};
}

// Errors compare by code only (the description is for logs).
std::vector<Event> codes_only(std::vector<Event> events) {
  for (auto& e : events) {
    if (e.kind == Kind::error) e.payload.clear();
  }
  return events;
}

}  // namespace

TEST_CASE("websocket_accept: RFC 6455's example", "[websocket]") {
  CHECK(websocket_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("RFC 6455's masked Hello, and its unmasked form refused", "[websocket]") {
  const std::string masked = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  CHECK(read_checked(masked) == std::vector<Event>{text("Hello")});
  CHECK(codes_only(read_checked("\x81\x05Hello")) == std::vector<Event>{error(1002)});
}

TEST_CASE("frame table: lengths, fragments, control frames and every refusal", "[websocket]") {
  struct Case {
    const char* name;
    std::string bytes;
    std::vector<Event> events;
    std::size_t max_message = 1 << 20;
  };
  const std::string s125(125, 'a'), s126(126, 'b'), s65535(65535, 'c'), s65536(65536, 'd');
  const std::string bad_utf8 = "ok \xC3\x28";
  const std::vector<Case> cases = {
      {"empty text", frame(kFin | kText, ""), {text("")}},
      {"125 bytes, 7-bit length", frame(kFin | kText, s125), {text(s125)}},
      {"126 bytes, 16-bit length", frame(kFin | kText, s126), {text(s126)}},
      {"65535 bytes, 16-bit length", frame(kFin | kText, s65535), {text(s65535)}},
      {"65536 bytes, 64-bit length", frame(kFin | kText, s65536), {text(s65536)}},
      {"two messages",
       frame(kFin | kText, "one") + frame(kFin | kText, "two"),
       {text("one"), text("two")}},
      {"fragments with a ping and a pong between",
       frame(kText, "Hel") + frame(kFin | kPing, "p1") + frame(kCont, "lo ") +
           frame(kFin | kPong, "p2") + frame(kFin | kCont, "world"),
       {{Kind::ping, 0, "p1"}, {Kind::pong, 0, "p2"}, text("Hello world")}},
      {"UTF-8 split across fragments",
       frame(kText, "caf\xC3") + frame(kFin | kCont, "\xA9!"),
       {text("caf\xC3\xA9!")}},
      {"empty fragments",
       frame(kText, "") + frame(kCont, "") + frame(kFin | kCont, "x"),
       {text("x")}},
      {"ping of 125 bytes", frame(kFin | kPing, s125), {{Kind::ping, 0, s125}}},
      {"message of exactly max_message",
       frame(kText, "12345") + frame(kFin | kCont, "67890"),
       {text("1234567890")},
       10},
      {"close without a code", frame(kFin | kClose, ""), {{Kind::close, 1005, ""}}},
      {"close 1000 with a reason",
       frame(kFin | kClose, close_payload(1000, "bye")),
       {{Kind::close, 1000, "bye"}}},
      {"close 3000", frame(kFin | kClose, close_payload(3000)), {{Kind::close, 3000, ""}}},
      {"close 4999", frame(kFin | kClose, close_payload(4999)), {{Kind::close, 4999, ""}}},
      {"nothing read after close",
       frame(kFin | kClose, close_payload(1001)) + frame(kFin | kText, "x"),
       {{Kind::close, 1001, ""}}},
      // Refusals.
      {"unmasked", frame(kFin | kText, "x", false), {error(1002)}},
      {"RSV1", frame(kFin | 0x40 | kText, "x"), {error(1002)}},
      {"RSV3", frame(kFin | 0x10 | kText, "x"), {error(1002)}},
      {"opcode 3", frame(kFin | 0x3, "x"), {error(1002)}},
      {"opcode 0xB", frame(kFin | 0xB, "x"), {error(1002)}},
      {"opcode 0xF", frame(kFin | 0xF, "x"), {error(1002)}},
      {"ping without FIN", frame(kPing, "x"), {error(1002)}},
      {"close without FIN", frame(kClose, ""), {error(1002)}},
      {"ping of 126 bytes", frame(kFin | kPing, s126), {error(1002)}},
      {"pong of 126 bytes", frame(kFin | kPong, s126), {error(1002)}},
      {"continuation without a message", frame(kFin | kCont, "x"), {error(1002)}},
      {"new message inside a fragmented one",
       frame(kText, "a") + frame(kFin | kText, "b"),
       {error(1002)}},
      {"64-bit length with the top bit",
       frame(kFin | kText, "", true, 0x8000000000000000ULL),
       {error(1002)}},
      {"binary", frame(kFin | kBinary, "\x01\x02"), {error(1003)}},
      {"binary fragment", frame(kBinary, "\x01"), {error(1003)}},
      {"binary inside a text message",
       frame(kText, "a") + frame(kFin | kBinary, "b"),
       {error(1002)}},
      {"text not UTF-8", frame(kFin | kText, bad_utf8), {error(1007)}},
      {"fragments not UTF-8 once joined",
       frame(kText, "caf\xC3") + frame(kFin | kCont, "!"),
       {error(1007)}},
      {"over max_message in one frame", frame(kFin | kText, "12345678901"), {error(1009)}, 10},
      {"over max_message across fragments",
       frame(kText, "123456") + frame(kFin | kCont, "78901"),
       {error(1009)},
       10},
      {"close of one byte", frame(kFin | kClose, "\x03"), {error(1002)}},
      {"close 999", frame(kFin | kClose, close_payload(999)), {error(1002)}},
      {"close 1004", frame(kFin | kClose, close_payload(1004)), {error(1002)}},
      {"close 1005", frame(kFin | kClose, close_payload(1005)), {error(1002)}},
      {"close 1006", frame(kFin | kClose, close_payload(1006)), {error(1002)}},
      {"close 1015", frame(kFin | kClose, close_payload(1015)), {error(1002)}},
      {"close 2999", frame(kFin | kClose, close_payload(2999)), {error(1002)}},
      {"close 5000", frame(kFin | kClose, close_payload(5000)), {error(1002)}},
      {"close reason not UTF-8", frame(kFin | kClose, close_payload(1000, "\xFF")), {error(1007)}},
      {"nothing read after an error",
       frame(kFin | kBinary, "") + frame(kFin | kText, "x"),
       {error(1003)}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(codes_only(read_checked(c.bytes, c.max_message)) == c.events);
  }
}

TEST_CASE("an oversize message is refused from its header, before its bytes", "[websocket]") {
  WsReader reader(1000);
  const std::string header = frame(kFin | kText, std::string(1001, 'x')).substr(0, 8);
  reader.feed(header);
  const auto e = reader.next();
  REQUIRE(e);
  CHECK(e->kind == Kind::error);
  CHECK(e->code == 1009);
  CHECK(reader.stopped());
  CHECK_FALSE(reader.next());
}

TEST_CASE("the reader holds only the unfinished frame and releases big messages", "[websocket]") {
  WsReader reader(1 << 20);
  const std::string big = frame(kFin | kText, std::string(100000, 'x'));
  reader.feed(std::string_view(big).substr(0, 50000));
  CHECK_FALSE(reader.next());
  CHECK(reader.buffered() == 50000 - 14);
  reader.feed(std::string_view(big).substr(50000));
  const auto e = reader.next();
  REQUIRE(e);
  CHECK(e->payload.size() == 100000);
  CHECK_FALSE(reader.next());
  CHECK(reader.buffered() == 0);
  const std::string partial_header = frame(kFin | kText, "abc").substr(0, 3);
  reader.feed(partial_header);
  CHECK_FALSE(reader.next());
  CHECK(reader.buffered() == 3);
}

TEST_CASE("server frame headers take 2, 4 or 10 bytes", "[websocket]") {
  const auto header = [](std::uint64_t size, WsOpcode op = WsOpcode::text, bool fin = true) {
    std::string out;
    append_ws_header(out, op, size, fin);
    return out;
  };
  CHECK(header(0) == std::string("\x81\x00", 2));
  CHECK(header(125) == "\x81\x7D");
  CHECK(header(126) == std::string("\x81\x7E\x00\x7E", 4));
  CHECK(header(65535) == "\x81\x7E\xFF\xFF");
  CHECK(header(65536) == std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  CHECK(header(5, WsOpcode::text, false) == "\x01\x05");
  CHECK(header(5, WsOpcode::continuation) == "\x80\x05");
  CHECK(build_ws_text("hi") == "\x81\x02hi");
}

TEST_CASE("server control frames: close, pong, ping", "[websocket]") {
  CHECK(build_ws_close(1000, "bye") ==
        "\x88\x05\x03\xE8"
        "bye");
  CHECK(build_ws_close(1009) == "\x88\x02\x03\xF1");
  CHECK(build_ws_close(1005, "ignored") == std::string("\x88\x00", 2));
  // A long reason is cut to 123 bytes, never inside a character.
  std::string long_reason;
  for (int i = 0; i < 100; ++i) long_reason += "\xC3\xA9";
  const std::string close = build_ws_close(1000, long_reason);
  CHECK(static_cast<unsigned char>(close[1]) == 2 + 122);
  CHECK(valid_utf8(std::string_view(close).substr(4)));
  CHECK(build_ws_pong("abc") ==
        "\x8A\x03"
        "abc");
  CHECK(build_ws_pong(std::string(200, 'p')).size() == 2 + 125);
  CHECK(build_ws_ping() == std::string("\x89\x00", 2));
}

TEST_CASE("valid_utf8", "[websocket][utf8]") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii, longer than eight bytes"));
  CHECK(valid_utf8("\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9"));
  CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(valid_utf8("abcdefgh\xE2\x82"));  // truncated
  CHECK_FALSE(valid_utf8("\x80"));              // lone continuation
}
