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
                                                           "{\"a\":1e400}",
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

TEST_CASE("pong never faults", "[decode]") {
  for (const std::string& frame : std::vector<std::string>{
           R"({"op":"pong"})", R"({"op":"pong","id":[1]})", R"({"op":"pong","x":{}})"}) {
    const auto d = decode(frame);
    CHECK(d.op == Op::pong);
    CHECK_FALSE(d.fault);
  }
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
