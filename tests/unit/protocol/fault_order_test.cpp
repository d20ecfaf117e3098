// Every error code decode_request can produce, the stage each belongs to, and PROTOCOL.md's
// rule that the first fault in the order json < op < fields < names < permissions wins.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/decode.hpp"

using namespace parley::protocol;

namespace {

struct Expected {
  std::string frame;
  ErrorCode code;
  FaultStage stage;
};

void check_fault(const Expected& e) {
  CAPTURE(e.frame);
  const auto d = decode_request(e.frame);
  REQUIRE(d.fault);
  CHECK(to_string(d.fault->code) == to_string(e.code));
  CHECK(static_cast<int>(d.fault->stage) == static_cast<int>(e.stage));
  CHECK_FALSE(d.fault->message.empty());
  // The op is known exactly when the fault comes after the op stage.
  CHECK(d.op.has_value() == (e.stage != FaultStage::json && e.stage != FaultStage::op));
}

}  // namespace

TEST_CASE("each code decode produces, at its stage", "[decode][order]") {
  const std::vector<Expected> table{
      {R"({"op":"ping")", ErrorCode::bad_json, FaultStage::json},
      {R"(["op","ping"])", ErrorCode::bad_json, FaultStage::json},
      {R"({"id":1})", ErrorCode::bad_request, FaultStage::op},
      {R"({"op":7})", ErrorCode::bad_request, FaultStage::op},
      {R"({"op":"sing"})", ErrorCode::unknown_op, FaultStage::op},
      {R"({"op":"sub","topic":7})", ErrorCode::bad_request, FaultStage::fields},
      {R"({"op":"hello","name":"no spaces"})", ErrorCode::bad_name, FaultStage::names},
      {R"({"op":"sub","topic":"a..b"})", ErrorCode::bad_topic, FaultStage::names},
      {R"({"op":"pub","topic":"$sys.x","data":1})", ErrorCode::forbidden, FaultStage::permissions},
  };
  for (const auto& e : table) check_fault(e);
}

TEST_CASE("json faults outrank everything", "[decode][order]") {
  // Each of these would otherwise be an op, field, name or permission fault.
  for (const std::string& frame : std::vector<std::string>{
           R"({"id":1.5)", R"({"op":5,)", R"({"op":"nope",})",
           "{\"op\":\"hello\",\"name\":\"a b\",\"x\":\"\xff\"}",
           "{\"op\":\"pub\",\"topic\":\"$s\",\"data\":[" + std::string(200, '[') + "}",
           R"({"op":"pub","topic":"$s","data":1} {})"}) {
    check_fault({frame, ErrorCode::bad_json, FaultStage::json});
  }
}

TEST_CASE("op faults outrank field, name and permission faults", "[decode][order]") {
  check_fault({R"({"topic":"a..b","data":1,"id":true})", ErrorCode::bad_request, FaultStage::op});
  check_fault({R"({"op":["pub"],"topic":"$s","id":{}})", ErrorCode::bad_request, FaultStage::op});
  check_fault({R"({"op":"nope","topic":5,"id":1.5})", ErrorCode::unknown_op, FaultStage::op});
  check_fault({R"({"op":"Pub","topic":"$s","data":1})", ErrorCode::unknown_op, FaultStage::op});
}

TEST_CASE("field faults outrank name and topic faults", "[decode][order]") {
  for (const std::string& frame : std::vector<std::string>{
           R"({"op":"hello","name":"a b","echo":"yes"})",
           R"({"op":"hello","name":"guest-1","protocol":2})",
           R"({"op":"hello","name":"guest-1","token":1})",
           R"({"op":"sub","topic":"a..b","group":5})",
           R"({"op":"sub","topic":"a..b","group":""})",
           R"({"op":"pub","topic":"a..b"})",
           R"({"op":"pub","topic":"a..b","data":1,"reply":7})",
           R"({"op":"join","topic":"a.*","since":-1})",
           R"({"op":"join","topic":"a.*","history":"5"})",
           R"({"op":"history","topic":">","limit":0})",
           R"({"op":"history","topic":">","before":-1})",
           R"({"op":"topics","pattern":5})",
           R"({"op":"unsub","topic":null})",
           R"({"op":"leave"})",
           R"({"op":"who","topic":[]})",
       }) {
    check_fault({frame, ErrorCode::bad_request, FaultStage::fields});
  }
}

TEST_CASE("name and topic faults outrank permission faults", "[decode][order]") {
  check_fault({R"({"op":"pub","topic":"$sys.x","data":1,"reply":"a..b"})", ErrorCode::bad_topic,
               FaultStage::names});
  check_fault({R"({"op":"pub","topic":"$sys.x","data":1,"reply":"in.*"})", ErrorCode::bad_topic,
               FaultStage::names});
  check_fault({R"({"op":"pub","topic":"ok","data":1,"reply":"$r.>"})", ErrorCode::bad_topic,
               FaultStage::names});
  check_fault({R"({"op":"join","topic":"$sys.*"})", ErrorCode::bad_topic, FaultStage::names});
  // Both a forbidden topic and a forbidden reply: still one permission fault.
  check_fault({R"({"op":"pub","topic":"$a","data":1,"reply":"$b"})", ErrorCode::forbidden,
               FaultStage::permissions});
}

TEST_CASE("a bad id is a field fault: after op, before names and permissions", "[decode][order]") {
  // Outranked by json and op faults.
  check_fault({R"({"op":"ping","id":1.5)", ErrorCode::bad_json, FaultStage::json});
  check_fault({R"({"id":true})", ErrorCode::bad_request, FaultStage::op});
  check_fault({R"({"op":"nope","id":[1]})", ErrorCode::unknown_op, FaultStage::op});
  // Outranks names and permissions, and is reported on ops that have no fields at all.
  for (const std::string& frame : std::vector<std::string>{
           R"({"op":"hello","name":"guest-1","id":{}})",
           R"({"op":"sub","topic":"a..b","id":true})",
           R"({"op":"pub","topic":"$x","data":1,"id":false})",
           R"({"op":"join","topic":"$x","id":2.5})",
           R"({"op":"stats","id":[]})",
           R"({"op":"ping","id":1e2})",
           R"({"op":"quit","id":-1.0})",
       }) {
    CAPTURE(frame);
    const auto d = decode_request(frame);
    check_fault({frame, ErrorCode::bad_request, FaultStage::fields});
    CHECK(d.fault->message.find("'id'") != std::string::npos);
    CHECK_FALSE(d.id);  // an error for a bad id carries no id
  }
  // With another field fault too, that field is the one named; the id is still not echoed.
  const std::string both = R"({"op":"sub","topic":5,"id":true})";
  check_fault({both, ErrorCode::bad_request, FaultStage::fields});
  const auto d = decode_request(both);
  CHECK(d.fault->message.find("'topic'") != std::string::npos);
  CHECK_FALSE(d.id);
}

TEST_CASE("a valid id travels with every fault after the json stage", "[decode][order]") {
  for (const std::string& frame : std::vector<std::string>{
           R"({"id":"r1"})", R"({"op":1,"id":"r1"})", R"({"op":"x","id":"r1"})",
           R"({"op":"sub","id":"r1"})", R"({"op":"hello","name":"","id":"r1"})",
           R"({"op":"pub","topic":"$s","data":1,"id":"r1"})"}) {
    CAPTURE(frame);
    const auto d = decode_request(frame);
    REQUIRE(d.fault);
    CHECK(d.id == "\"r1\"");
  }
}
