// decode_request: every op's fields, the id rules and the protocol's fault order.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/decode.hpp"

using namespace parley::protocol;

namespace {

Decoded decode(const std::string& frame) {
  return decode_request(frame);
}

// The fault's code, or an empty optional when the frame decoded cleanly.
std::optional<ErrorCode> fault_of(const std::string& frame) {
  const auto d = decode(frame);
  if (!d.fault) return std::nullopt;
  return d.fault->code;
}

std::string nest(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

TEST_CASE("malformed frames are bad_json at the json stage", "[decode]") {
  for (const std::string& frame : std::vector<std::string>{"",
                                                           "{",
                                                           "}",
                                                           "[]",
                                                           "1",
                                                           "\"s\"",
                                                           "null",
                                                           "true",
                                                           "{\"op\":\"ping\",}",
                                                           "{\"op\":'ping'}",
                                                           "{op:\"ping\"}",
                                                           "{\"op\":\"ping\"} x",
                                                           "{\"a\":01}",
                                                           "{\"a\":1.}",
                                                           "{\"a\":.5}",
                                                           "{\"a\":+1}",
                                                           "{\"a\":\"\t\"}",
                                                           "{\"a\":\"\\x\"}",
                                                           "{\"a\":NaN}",
                                                           "{\"a\":tru}"}) {
    CAPTURE(frame);
    const auto d = decode(frame);
    REQUIRE(d.fault);
    CHECK(d.fault->code == ErrorCode::bad_json);
    CHECK(d.fault->stage == FaultStage::json);
    CHECK_FALSE(d.id);
  }
}

TEST_CASE("bytes after the object, NUL included, are bad_json", "[decode][regression]") {
  // Found by fuzz_decode: nlohmann accepts a NUL after a complete value; RFC 8259 does not.
  CHECK(fault_of(std::string("{\"op\":\"sub\",\"topic\":\"a.*\",\"group\":\"g\"}\0\0", 40)) ==
        ErrorCode::bad_json);
  CHECK(fault_of(std::string("{\"op\":\"ping\"}\0", 14)) == ErrorCode::bad_json);
}

TEST_CASE("invalid UTF-8 and lone surrogates are bad_json", "[decode]") {
  for (const std::string& frame :
       {std::string("{\"op\":\"\xff\"}"), std::string("{\"op\":\"\xc3\"}"),
        std::string("{\"op\":\"\xc0\xaf\"}"), std::string("{\"op\":\"\xed\xa0\x80\"}"),
        std::string("{\"op\":\"\xf4\x90\x80\x80\"}"), std::string("{\"a\":\"\\ud800\"}"),
        std::string("{\"a\":\"\\udc00\"}"), std::string("{\"a\":\"\\ud800\\u0041\"}"),
        std::string("{\"k\xff\":1}")}) {
    CAPTURE(frame);
    CHECK(fault_of(frame) == ErrorCode::bad_json);
  }
  CHECK(
      fault_of("{\"op\":\"ping\",\"x\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\ud83d\\ude00\"}") ==
      std::nullopt);
}

TEST_CASE("nesting: the frame is level 1, 128 levels pass, 129 do not", "[decode]") {
  CHECK(fault_of("{\"op\":\"pub\",\"topic\":\"t\",\"data\":" + nest(127) + "}") == std::nullopt);
  CHECK(fault_of("{\"op\":\"pub\",\"topic\":\"t\",\"data\":" + nest(128) + "}") ==
        ErrorCode::bad_json);
  CHECK(fault_of(nest(100000)) == ErrorCode::bad_json);
  // Brackets inside strings do not count.
  CHECK(fault_of("{\"op\":\"pub\",\"topic\":\"t\",\"data\":\"" + std::string(500, '[') + "\"}") ==
        std::nullopt);
}

TEST_CASE("op: missing or not a string is bad_request, unknown is unknown_op", "[decode]") {
  auto d = decode(R"({"id":1})");
  CHECK(d.fault->code == ErrorCode::bad_request);
  CHECK(d.fault->stage == FaultStage::op);
  CHECK(d.id == "1");
  CHECK(decode(R"({"op":null,"id":"x"})").fault->code == ErrorCode::bad_request);
  CHECK(decode(R"({"op":["pub"]})").fault->code == ErrorCode::bad_request);
  d = decode(R"({"op":"PING","id":"x"})");
  CHECK(d.fault->code == ErrorCode::unknown_op);
  CHECK(d.id == "\"x\"");
  CHECK(decode(R"({"op":"\u0070ing"})").fault == std::nullopt);  // escapes in strings are fine
  CHECK(decode(R"({"\u006fp":"ping"})").op == Op::ping);         // and in keys
}

TEST_CASE("id: integer or string, null means absent, others are bad_request", "[decode]") {
  CHECK(decode(R"({"op":"ping","id":7})").id == "7");
  CHECK(decode(R"({"op":"ping","id":-7})").id == "-7");
  CHECK(decode(R"({"op":"ping","id":-0})").id == "0");
  CHECK(decode(R"({"op":"ping","id":18446744073709551615})").id == "18446744073709551615");
  CHECK(decode(R"({"op":"ping","id":"a\"b"})").id == R"("a\"b")");
  CHECK_FALSE(decode(R"({"op":"ping","id":null})").id);
  CHECK_FALSE(decode(R"({"op":"ping","id":null})").fault);
  for (const std::string& bad :
       std::vector<std::string>{"1.5", "1e3", "true", "[1]", "{}", "18446744073709551616"}) {
    CAPTURE(bad);
    const auto d = decode(R"({"op":"ping","id":)" + bad + "}");
    REQUIRE(d.fault);
    CHECK(d.fault->code == ErrorCode::bad_request);
    CHECK(d.fault->stage == FaultStage::fields);
    CHECK_FALSE(d.id);
  }
  // A bad id outranks topic faults, not op faults.
  CHECK(decode(R"({"op":"sub","topic":"a..b","id":1.5})").fault->code == ErrorCode::bad_request);
  CHECK(decode(R"({"op":"nope","id":1.5})").fault->code == ErrorCode::unknown_op);
}

TEST_CASE("hello fields", "[decode][hello]") {
  auto d = decode(R"({"op":"hello","name":"alice","token":"t","echo":false,"protocol":1})");
  REQUIRE_FALSE(d.fault);
  const auto& hello = std::get<Hello>(d.request);
  CHECK(hello.name == "alice");
  CHECK(hello.token == "t");
  CHECK_FALSE(hello.echo);
  CHECK(std::get<Hello>(decode(R"({"op":"hello"})").request).echo);
  CHECK(fault_of(R"({"op":"hello","protocol":2})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","protocol":"1"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","protocol":1.0})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","echo":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","name":5})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","token":5})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"hello","name":"a b"})") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":"Guest-2"})") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":""})") == ErrorCode::bad_name);
  // The token is still read when a later field is at fault, so auth can be checked first.
  d = decode(R"({"op":"hello","token":"secret","name":"bad name"})");
  CHECK(d.fault->stage == FaultStage::names);
  CHECK(std::get<Hello>(d.request).token == "secret");
  // A repeated key takes its last value.
  CHECK(std::get<Hello>(decode(R"({"op":"hello","name":"a","name":"b"})").request).name == "b");
}

TEST_CASE("sub, unsub and topics take patterns", "[decode]") {
  auto d = decode(R"({"op":"sub","topic":"a.*","group":"g"})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Sub>(d.request).pattern == "a.*");
  CHECK(std::get<Sub>(d.request).group == "g");
  CHECK_FALSE(std::get<Sub>(decode(R"({"op":"sub","topic":">","group":null})").request).group);
  CHECK(fault_of(R"({"op":"sub"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"sub","topic":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"sub","topic":"a","group":""})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"sub","topic":"a","group":7})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"sub","topic":"a.>.b"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"sub","topic":"$sys.>"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"unsub","topic":"a.*"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"unsub","topic":"a..*"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"topics"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"topics","pattern":"a.>"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"topics","pattern":"a.>x"})") == ErrorCode::bad_topic);
}

TEST_CASE("pub: topic, any data, reply, and $ topics forbidden", "[decode][pub]") {
  for (const std::string& data : std::vector<std::string>{"null", "0", "-1.5e-3", "\"s\"", "[]",
                                                          "{\"a\":[1,{\"b\":null}]}", "true"}) {
    CAPTURE(data);
    const auto d = decode(R"({"op":"pub","topic":"t","data":)" + data + "}");
    REQUIRE_FALSE(d.fault);
    CHECK(std::get<Pub>(d.request).data == data);
  }
  // data is passed through as sent, whitespace inside included.
  CHECK(std::get<Pub>(decode(R"({"op":"pub","topic":"t","data":{ "a" : 1 }})").request).data ==
        R"({ "a" : 1 })");
  CHECK(
      std::get<Pub>(decode(R"({"op":"pub","topic":"t","data":1,"reply":"in.x"})").request).reply ==
      "in.x");
  CHECK(fault_of(R"({"op":"pub","topic":"t"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"pub","topic":"t.*","data":1})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"pub","topic":"t","data":1,"reply":"r.>"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"pub","topic":"t","data":1,"reply":5})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"pub","topic":"$sys.t","data":1})") == ErrorCode::forbidden);
  CHECK(fault_of(R"({"op":"pub","topic":"t","data":1,"reply":"$r"})") == ErrorCode::forbidden);
  // Order: fields, then names and topics, then permissions.
  CHECK(fault_of(R"({"op":"pub","topic":"a..b"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"pub","topic":"$x","data":1,"reply":"a..b"})") == ErrorCode::bad_topic);
}

TEST_CASE("join, leave, who and history", "[decode][rooms]") {
  auto d = decode(R"({"op":"join","topic":"r","history":5,"since":9})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Join>(d.request).history == 5);
  CHECK(std::get<Join>(d.request).since == 9u);
  CHECK(std::get<Join>(decode(R"({"op":"join","topic":"r","history":5000})").request).history ==
        1000);
  CHECK(fault_of(R"({"op":"join","topic":"r","history":-1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"join","topic":"r","history":1.5})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"join","topic":"r","since":-1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"join","topic":"r.*"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"join","topic":"$sys.r"})") == ErrorCode::forbidden);
  CHECK(fault_of(R"({"op":"leave","topic":"r"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"leave","topic":">"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"leave","topic":"$sys.r"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"who","topic":"r"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"who"})") == ErrorCode::bad_request);
  d = decode(R"({"op":"history","topic":"r"})");
  CHECK(std::get<History>(d.request).limit == 50);
  CHECK_FALSE(std::get<History>(d.request).before);
  CHECK(std::get<History>(decode(R"({"op":"history","topic":"r","limit":1000,"before":3})").request)
            .limit == 1000);
  CHECK(fault_of(R"({"op":"history","topic":"r","limit":0})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"history","topic":"r","limit":1001})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"history","topic":"r","limit":-3})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"history","topic":"r","before":"3"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"history","topic":"r.>"})") == ErrorCode::bad_topic);
}

TEST_CASE("tell, stats, ping, quit", "[decode]") {
  auto d = decode(R"({"op":"tell","to":"Bob","data":{"x":1}})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Tell>(d.request).to == "Bob");
  CHECK(std::get<Tell>(d.request).data == R"({"x":1})");
  CHECK(fault_of(R"({"op":"tell","to":"Bob"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"tell","data":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"tell","to":"not a name","data":1})") ==
        std::nullopt);  // no_such_user, later
  CHECK(decode(R"({"op":"stats","extra":[1,2]})").op == Op::stats);
  CHECK(decode(R"({"op":"ping"})").op == Op::ping);
  CHECK(decode(R"({"op":"quit","id":3})").id == "3");
}

TEST_CASE("whitespace around and inside the object is JSON's business", "[decode]") {
  CHECK(decode(" \t{ \"op\" : \"ping\" }\t ").op == Op::ping);
  CHECK_FALSE(decode(" \t{ \"op\" : \"ping\" }\t ").fault);
  // A line of spaces is not empty (the splitter keeps it) and holds no JSON.
  CHECK(fault_of("   ") == ErrorCode::bad_json);
  // nlohmann skips a byte order mark; RFC 8259 lets a parser refuse it, and we do: a frame
  // is one JSON object and nothing else.
  CHECK(fault_of("\xef\xbb\xbf{\"op\":\"ping\"}") == ErrorCode::bad_json);
}

TEST_CASE("more malformed UTF-8, anywhere in the frame", "[decode][utf8]") {
  for (const std::string& frame : {
           std::string("{\"op\":\"ping\",\"x\":\"\xe0\x80\x80\"}"),      // overlong 3 bytes
           std::string("{\"op\":\"ping\",\"x\":\"\xf0\x80\x80\x80\"}"),  // overlong 4 bytes
           std::string("{\"op\":\"ping\",\"x\":\"\x80\"}"),              // lone continuation
           std::string("{\"op\":\"ping\",\"x\":\"\xf5\x80\x80\x80\"}"),  // lead byte past F4
           std::string("{\"op\":\"ping\",\"x\":\"\xe2\x82\"}"),          // cut short
           std::string("{\"op\":\"ping\",\"x\":\"\xe2\x82"),             // cut at the end
           std::string("{\"op\":\"ping\",\"x\":\"\xc3\x28\"}"),          // bad continuation
           std::string("{\"op\":\"ping\",\"\xfe\":1}"),                  // in a key
           std::string("{\"op\":\"pub\",\"topic\":\"t\",\"data\":[\"\xc0\x80\"]}"),  // in data
           std::string("{\"op\":\"ping\",\"x\":\xc3\xa9}"),  // outside strings: not JSON
       }) {
    CAPTURE(frame);
    const auto d = decode(frame);
    REQUIRE(d.fault);
    CHECK(d.fault->code == ErrorCode::bad_json);
    CHECK(d.fault->stage == FaultStage::json);
  }
  // The edges of the valid ranges pass.
  for (const std::string& text :
       {std::string("\xc2\x80"), std::string("\xdf\xbf"), std::string("\xe0\xa0\x80"),
        std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"), std::string("\xef\xbf\xbf"),
        std::string("\xf0\x90\x80\x80"), std::string("\xf4\x8f\xbf\xbf"), std::string("\x7f")}) {
    CAPTURE(text);
    CHECK(fault_of("{\"op\":\"ping\",\"x\":\"" + text + "\"}") == std::nullopt);
  }
}

TEST_CASE("nesting counts objects and arrays alike", "[decode][depth]") {
  // 127 objects inside the frame's own: 128 levels.
  std::string ok = "{\"op\":\"ping\",\"x\":";
  std::string over = ok;
  for (int i = 0; i < 126; ++i) ok += "{\"a\":";
  ok += "{}";
  for (int i = 0; i < 126; ++i) ok += "}";
  ok += "}";
  CHECK(fault_of(ok) == std::nullopt);
  for (int i = 0; i < 127; ++i) over += "{\"a\":";
  over += "{}";
  for (int i = 0; i < 127; ++i) over += "}";
  over += "}";
  const auto d = decode(over);
  REQUIRE(d.fault);
  CHECK(d.fault->code == ErrorCode::bad_json);
  CHECK(d.fault->message.find("128") != std::string::npos);
  // Mixed: level 128 is an empty array inside 126 alternating containers.
  std::string mixed = "{\"op\":\"ping\",\"x\":";
  for (int i = 0; i < 126; ++i) mixed += i % 2 == 0 ? "[" : "{\"k\":";
  mixed += "[]";
  for (int i = 125; i >= 0; --i) mixed += i % 2 == 0 ? "]" : "}";
  mixed += "}";
  CHECK(fault_of(mixed) == std::nullopt);
  // A scalar at level 128 does not open a level.
  CHECK(fault_of("{\"op\":\"ping\",\"x\":" + std::string(127, '[') + "1" + std::string(127, ']') +
                 "}") == std::nullopt);
}

TEST_CASE("id edge values", "[decode][id]") {
  CHECK(decode(R"({"op":"ping","id":0})").id == "0");
  CHECK(decode(R"({"op":"ping","id":""})").id == R"("")");
  CHECK(decode(R"({"op":"ping","id":-9223372036854775808})").id == "-9223372036854775808");
  CHECK(decode(R"({"op":"ping","id":"\u00e9\n"})").id == R"("\u00e9\n")");  // echoed verbatim
  CHECK(decode(R"({"op":"ping","id":1,"id":"two"})").id == R"("two")");     // last one wins
  CHECK_FALSE(decode(R"({"op":"ping","id":"x","id":null})").id);
  for (const std::string& bad :
       std::vector<std::string>{"-9223372036854775809", "1.0", "-1e0", "false", "{\"a\":1}"}) {
    CAPTURE(bad);
    const auto d = decode(R"({"op":"ping","id":)" + bad + "}");
    REQUIRE(d.fault);
    CHECK(d.fault->code == ErrorCode::bad_request);
    CHECK_FALSE(d.id);
  }
}

TEST_CASE("pong never faults, whatever it holds", "[decode][pong]") {
  for (const std::string& frame : std::vector<std::string>{
           R"({"op":"pong"})", R"({"op":"pong","id":[1]})", R"({"op":"pong","x":{}})",
           R"({"op":"pong","id":1.5})", R"({"op":"pong","id":true,"topic":"a..b"})",
           R"({"op":"pong","name":"guest-1","data":null,"protocol":9})", R"({"id":{},"op":"pong"})",
           R"({"op":"ping","op":"pong"})"}) {
    CAPTURE(frame);
    const auto d = decode(frame);
    CHECK(d.op == Op::pong);
    CHECK_FALSE(d.fault);
    CHECK(std::holds_alternative<Pong>(d.request));
  }
  CHECK_FALSE(decode(R"({"op":"pong","id":1.5})").id);
  // A frame that is not JSON is not known to be a pong.
  CHECK(fault_of(R"({"op":"pong")") == ErrorCode::bad_json);
}

TEST_CASE("hello field edges", "[decode][hello]") {
  CHECK(std::get<Hello>(decode(R"({"op":"hello","echo":true})").request).echo);
  CHECK(std::get<Hello>(decode(R"({"op":"hello","echo":null})").request).echo);
  CHECK_FALSE(std::get<Hello>(decode(R"({"op":"hello","name":null})").request).name);
  CHECK_FALSE(std::get<Hello>(decode(R"({"op":"hello","token":null})").request).token);
  CHECK(std::get<Hello>(decode(R"({"op":"hello","token":""})").request).token == "");
  CHECK(std::get<Hello>(decode(R"({"op":"hello","token":"a\u0000b"})").request).token ==
        std::string("a\0b", 3));
  CHECK(fault_of(R"({"op":"hello","protocol":null})") == std::nullopt);
  for (const std::string& version :
       std::vector<std::string>{"0", "-1", "2", "1e0", "true", "[1]", "18446744073709551617"}) {
    CAPTURE(version);
    CHECK(fault_of(R"({"op":"hello","protocol":)" + version + "}") == ErrorCode::bad_request);
  }
  for (const std::string& echo : std::vector<std::string>{"0", "\"true\"", "[]", "{}"}) {
    CAPTURE(echo);
    CHECK(fault_of(R"({"op":"hello","echo":)" + echo + "}") == ErrorCode::bad_request);
  }
  const std::string longest(32, 'n');
  CHECK(std::get<Hello>(decode(R"({"op":"hello","name":")" + longest + "\"}").request).name ==
        longest);
  CHECK(fault_of(R"({"op":"hello","name":")" + longest + "n\"}") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":"GUEST-7"})") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":"gUeSt-"})") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":"guest"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"hello","name":"guest_1"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"hello","name":"\u00e9"})") == ErrorCode::bad_name);
  CHECK(fault_of(R"({"op":"hello","name":"a\u0000"})") == ErrorCode::bad_name);
  // Escapes resolve before the name is checked.
  CHECK(std::get<Hello>(decode(R"({"op":"hello","name":"\u0041b"})").request).name == "Ab");
}

TEST_CASE("sub, unsub and topics field edges", "[decode][sub]") {
  CHECK(fault_of(R"({"op":"sub","topic":null})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"sub","topic":"a","group":")" + std::string(255, 'g') + "\"}") ==
        std::nullopt);
  CHECK(fault_of(R"({"op":"sub","topic":"a","group":")" + std::string(256, 'g') + "\"}") ==
        ErrorCode::bad_request);
  // A group is any string; it has no syntax of its own.
  CHECK(std::get<Sub>(decode(R"({"op":"sub","topic":"a","group":"a b.*"})").request).group ==
        "a b.*");
  for (const std::string& pattern : std::vector<std::string>{"*", ">", "$sys.*", "a.*.>"}) {
    CAPTURE(pattern);
    CHECK(fault_of(R"({"op":"sub","topic":")" + pattern + "\"}") == std::nullopt);
    CHECK(fault_of(R"({"op":"unsub","topic":")" + pattern + "\"}") == std::nullopt);
    CHECK(fault_of(R"({"op":"topics","pattern":")" + pattern + "\"}") == std::nullopt);
  }
  CHECK(fault_of(R"({"op":"unsub"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"unsub","topic":">.a"})") == ErrorCode::bad_topic);
  CHECK_FALSE(std::get<Topics>(decode(R"({"op":"topics","pattern":null})").request).pattern);
  CHECK(fault_of(R"({"op":"topics","pattern":""})") == ErrorCode::bad_topic);
}

TEST_CASE("pub field edges", "[decode][pub]") {
  auto d = decode(R"({"op":"pub","topic":"t","data":null})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Pub>(d.request).data == "null");  // null is a present value
  CHECK_FALSE(std::get<Pub>(d.request).reply);
  CHECK_FALSE(
      std::get<Pub>(decode(R"({"op":"pub","topic":"t","data":1,"reply":null})").request).reply);
  CHECK(std::get<Pub>(decode(R"({"data":"x","topic":"t","op":"pub"})").request).data == "\"x\"");
  CHECK(std::get<Pub>(decode(R"({"op":"pub","topic":"t","data":"\u00e9\""})").request).data ==
        R"("\u00e9\"")");  // passed through verbatim, escapes included
  CHECK(fault_of(R"({"op":"pub","data":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"pub","topic":null,"data":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"pub","topic":"","data":1})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"pub","topic":">","data":1})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"pub","topic":"t","data":1,"reply":""})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"pub","topic":"$","data":1})") == ErrorCode::bad_topic);
}

TEST_CASE("join field edges: history capped, since non-negative", "[decode][rooms]") {
  const auto history = [](const std::string& value) {
    const auto d = decode(R"({"op":"join","topic":"r","history":)" + value + "}");
    REQUIRE_FALSE(d.fault);
    return std::get<Join>(d.request).history;
  };
  CHECK(history("0") == 0);
  CHECK(history("-0") == 0);
  CHECK(history("null") == 0);
  CHECK(history("999") == 999);
  CHECK(history("1000") == 1000);
  CHECK(history("1001") == 1000);
  CHECK(history("9223372036854775807") == 1000);
  // Regression: integers past int64 were bad_request although "history above 1000 is
  // capped"; every non-negative integer is capped now, however long.
  CHECK(history("9223372036854775808") == 1000);
  CHECK(history("18446744073709551615") == 1000);
  CHECK(history("100000000000000000000000000000") == 1000);
  CHECK_FALSE(std::get<Join>(decode(R"({"op":"join","topic":"r"})").request).since);
  CHECK(std::get<Join>(decode(R"({"op":"join","topic":"r"})").request).history == 0);
  for (const std::string& bad : std::vector<std::string>{
           "-1", "-100000000000000000000000000000", "1.5", "1e3", "1.0", "\"5\"", "true", "[]"}) {
    CAPTURE(bad);
    CHECK(fault_of(R"({"op":"join","topic":"r","history":)" + bad + "}") == ErrorCode::bad_request);
  }
  const auto since = [](const std::string& value) {
    const auto d = decode(R"({"op":"join","topic":"r","since":)" + value + "}");
    REQUIRE_FALSE(d.fault);
    return std::get<Join>(d.request).since;
  };
  CHECK(since("0") == 0u);
  CHECK(since("-0") == 0u);
  CHECK_FALSE(since("null"));
  CHECK(since("18446744073709551615") == 18446744073709551615u);
  for (const std::string& bad :
       std::vector<std::string>{"-1", "1.5", "1e2", "\"3\"", "false", "18446744073709551616"}) {
    CAPTURE(bad);
    CHECK(fault_of(R"({"op":"join","topic":"r","since":)" + bad + "}") == ErrorCode::bad_request);
  }
  CHECK(fault_of(R"({"op":"join"})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"join","topic":"$"})") == ErrorCode::bad_topic);
}

TEST_CASE("history field edges: limit 1-1000, before non-negative", "[decode][rooms]") {
  const auto limit = [](const std::string& value) {
    const auto d = decode(R"({"op":"history","topic":"r","limit":)" + value + "}");
    REQUIRE_FALSE(d.fault);
    return std::get<History>(d.request).limit;
  };
  CHECK(limit("1") == 1);
  CHECK(limit("1000") == 1000);
  CHECK(limit("null") == 50);
  for (const std::string& bad : std::vector<std::string>{"0", "-0", "1001", "-1", "1.5", "5.0",
                                                         "1e2", "\"5\"", "18446744073709551616"}) {
    CAPTURE(bad);
    CHECK(fault_of(R"({"op":"history","topic":"r","limit":)" + bad + "}") ==
          ErrorCode::bad_request);
  }
  const auto before = [](const std::string& value) {
    const auto d = decode(R"({"op":"history","topic":"r","before":)" + value + "}");
    REQUIRE_FALSE(d.fault);
    return std::get<History>(d.request).before;
  };
  CHECK(before("0") == 0u);
  CHECK(before("7") == 7u);
  CHECK_FALSE(before("null"));
  for (const std::string& bad : std::vector<std::string>{"-1", "0.5", "[1]"}) {
    CAPTURE(bad);
    CHECK(fault_of(R"({"op":"history","topic":"r","before":)" + bad + "}") ==
          ErrorCode::bad_request);
  }
  // Server topics can be read: only pub, join and reply are forbidden on them.
  CHECK(fault_of(R"({"op":"history","topic":"$sys.log"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"who","topic":"$sys.log"})") == std::nullopt);
  CHECK(fault_of(R"({"op":"history"})") == ErrorCode::bad_request);
}

TEST_CASE("tell field edges", "[decode][tell]") {
  const auto d = decode(R"({"op":"tell","to":"bob","data":null})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Tell>(d.request).data == "null");
  CHECK(fault_of(R"({"op":"tell","to":5,"data":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"tell","to":null,"data":1})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"tell","to":"$sys","data":1})") == std::nullopt);
}

TEST_CASE("every op decodes to its own alternative and ignores unknown fields", "[decode]") {
  const std::vector<std::pair<std::string, Op>> frames{
      {R"({"op":"hello","zz":1})", Op::hello},
      {R"({"op":"sub","topic":"a","zz":1})", Op::sub},
      {R"({"op":"unsub","topic":"a","zz":1})", Op::unsub},
      {R"({"op":"pub","topic":"a","data":1,"zz":1})", Op::pub},
      {R"({"op":"join","topic":"a","zz":1})", Op::join},
      {R"({"op":"leave","topic":"a","zz":1})", Op::leave},
      {R"({"op":"tell","to":"a","data":1,"zz":1})", Op::tell},
      {R"({"op":"who","topic":"a","zz":1})", Op::who},
      {R"({"op":"topics","zz":1})", Op::topics},
      {R"({"op":"history","topic":"a","zz":1})", Op::history},
      {R"({"op":"stats","zz":1})", Op::stats},
      {R"({"op":"ping","zz":1})", Op::ping},
      {R"({"op":"pong","zz":1})", Op::pong},
      {R"({"op":"quit","zz":1})", Op::quit},
  };
  for (const auto& [frame, op] : frames) {
    CAPTURE(frame);
    const auto d = decode(frame);
    REQUIRE_FALSE(d.fault);
    CHECK(d.op == op);
    // The variant's alternatives are in the order of Op.
    CHECK(d.request.index() == static_cast<std::size_t>(op));
    CHECK(op_from_string(to_string(op)) == op);
  }
  CHECK_FALSE(op_from_string(""));
  CHECK_FALSE(op_from_string("ping "));
}

TEST_CASE("every number valid as JSON passes through data exactly as written",
          "[decode][numbers]") {
  const std::string long_mantissa = "0." + std::string(1000, '7');
  const std::string long_integer(400, '9');
  for (const std::string& number :
       {std::string("1e999999"), std::string("-1e999999"), std::string("1E+400"),
        std::string("1e-999999"), std::string("-0"), std::string("-0.0e-0"), long_mantissa,
        long_integer, "-" + long_integer, std::string("123456789012345678901234567890")}) {
    CAPTURE(number);
    const auto pub = decode(R"({"op":"pub","topic":"t","data":)" + number + "}");
    REQUIRE_FALSE(pub.fault);
    CHECK(std::get<Pub>(pub.request).data == number);
    const auto nested = decode(R"({"op":"tell","to":"x","data":{"n":[)" + number + "]}}");
    REQUIRE_FALSE(nested.fault);
    CHECK(std::get<Tell>(nested.request).data == R"({"n":[)" + number + "]}");
  }
  // Still not numbers: the grammar is unchanged.
  for (const char* bad : {"1e", "1e+", "01", "-", "1.", ".1", "+1", "0x1", "1e999999x"}) {
    CAPTURE(bad);
    CHECK(fault_of(std::string(R"({"op":"pub","topic":"t","data":)") + bad + "}") ==
          ErrorCode::bad_json);
  }
}

TEST_CASE("hello: password is kept, protocol must be the integer 1", "[decode][hello]") {
  const auto d = decode(R"({"op":"hello","name":"amy","password":"pw","protocol":1})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Hello>(d.request).password == "pw");
  CHECK_FALSE(std::get<Hello>(decode(R"({"op":"hello"})").request).password);
  CHECK_FALSE(decode(R"({"op":"hello","protocol":null})").fault);
  for (const char* bad : {"2", "0", "-1", "1.0", "1e0", "\"1\"", "true", "[1]", "{}"}) {
    CAPTURE(bad);
    CHECK(fault_of(std::string(R"({"op":"hello","protocol":)") + bad + "}") ==
          ErrorCode::bad_request);
  }
  CHECK(fault_of(R"({"op":"hello","password":5})") == ErrorCode::bad_request);
}

TEST_CASE("join takes an epoch string", "[decode][join]") {
  const auto d = decode(R"({"op":"join","topic":"r","since":4,"epoch":"abc-1"})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<Join>(d.request).epoch == "abc-1");
  CHECK(std::get<Join>(d.request).since == 4U);
  CHECK(fault_of(R"({"op":"join","topic":"r","epoch":1})") == ErrorCode::bad_request);
}

TEST_CASE("topics: limit 1-1000 (default 1000) and after a topic", "[decode][topics]") {
  const auto plain = decode(R"({"op":"topics"})");
  REQUIRE_FALSE(plain.fault);
  CHECK(std::get<Topics>(plain.request).limit == 1000);
  CHECK_FALSE(std::get<Topics>(plain.request).after);
  const auto paged = decode(R"({"op":"topics","pattern":"a.>","limit":1,"after":"a.b"})");
  REQUIRE_FALSE(paged.fault);
  CHECK(std::get<Topics>(paged.request).limit == 1);
  CHECK(std::get<Topics>(paged.request).after == "a.b");
  CHECK(std::get<Topics>(decode(R"({"op":"topics","limit":1000})").request).limit == 1000);
  for (const char* bad : {"0", "1001", "-1", "1.5", "\"5\"", "99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK(fault_of(std::string(R"({"op":"topics","limit":)") + bad + "}") ==
          ErrorCode::bad_request);
  }
  CHECK(fault_of(R"({"op":"topics","after":3})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"topics","after":"a.*"})") == ErrorCode::bad_topic);
  CHECK(fault_of(R"({"op":"topics","after":"a..b"})") == ErrorCode::bad_topic);
  // Field types come before topics in the fault order.
  CHECK(fault_of(R"({"op":"topics","after":"a.*","limit":0})") == ErrorCode::bad_request);
}

TEST_CASE("history: after a seq, never together with before", "[decode][history]") {
  const auto d = decode(R"({"op":"history","topic":"t","after":7})");
  REQUIRE_FALSE(d.fault);
  CHECK(std::get<History>(d.request).after == 7U);
  CHECK_FALSE(std::get<History>(d.request).before);
  CHECK(fault_of(R"({"op":"history","topic":"t","after":1,"before":5})") == ErrorCode::bad_request);
  CHECK(fault_of(R"({"op":"history","topic":"t","after":-1})") == ErrorCode::bad_request);
  CHECK_FALSE(decode(R"({"op":"history","topic":"t","after":null,"before":5})").fault);
  // bad_request (fields) outranks bad_topic (names).
  CHECK(fault_of(R"({"op":"history","topic":"t.*","after":1,"before":5})") ==
        ErrorCode::bad_request);
}
