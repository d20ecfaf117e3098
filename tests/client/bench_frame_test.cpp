// parley bench's frame reader: members found wherever they are, malformed frames refused.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "bench_frame.hpp"

using parley::client::bench::for_each_member;
using parley::client::bench::FrameMember;

namespace {

std::vector<FrameMember> members_of(std::string_view line, bool& ok) {
  std::vector<FrameMember> found;
  ok = for_each_member(line, [&](const FrameMember& m) { found.push_back(m); });
  return found;
}

}  // namespace

TEST_CASE("bench frame reader finds every top-level member", "[client][bench]") {
  bool ok = false;
  const auto members = members_of(
      R"({"op":"msg","topic":"a.b","from":"x","data":{"k":[1,"}",{"z":"]"}]},"seq":7,"ts":1,)"
      R"("n":null,"t":true})",
      ok);
  REQUIRE(ok);
  REQUIRE(members.size() == 8);
  CHECK(members[0].key == "op");
  CHECK(members[0].value == "msg");
  CHECK(members[0].is_string);
  CHECK(members[3].key == "data");
  CHECK(members[3].value == R"({"k":[1,"}",{"z":"]"}]})");
  CHECK_FALSE(members[3].is_string);
  CHECK(members[4].value == "7");
  CHECK(members[6].value == "null");
  CHECK(members[7].value == "true");
}

TEST_CASE("bench frame reader handles spacing, escapes and empty objects", "[client][bench]") {
  bool ok = false;
  auto members = members_of(" { \"data\" : \"a\\\"b\\\\\" , \"op\" :\t\"msg\" } \r", ok);
  REQUIRE(ok);
  REQUIRE(members.size() == 2);
  CHECK(members[0].value == R"(a\"b\\)");
  CHECK(members[1].value == "msg");

  // Past the first 16 bytes of a string the reader searches differently.
  members = members_of(R"({"data":"0123456789abcdefghij\"klmnopqrstuvwxyz\\","op":"msg"})", ok);
  REQUIRE(ok);
  REQUIRE(members.size() == 2);
  CHECK(members[0].value == R"(0123456789abcdefghij\"klmnopqrstuvwxyz\\)");
  CHECK(members[1].value == "msg");

  members = members_of("{}", ok);
  CHECK(ok);
  CHECK(members.empty());
}

TEST_CASE("bench frame reader refuses what is not one object of members", "[client][bench]") {
  for (const char* bad : {"", "[]", "\"x\"", "{", "{\"op\"}", "{\"op\":}", "{\"op\":\"msg\"",
                          "{\"op\":\"msg\",}", "{\"op\":\"msg\"} x", "{\"op\":\"unterminated}",
                          "{op:1}", "{\"a\":{\"b\":1}", "{\"a\":1 \"b\":2}"}) {
    bool ok = true;
    members_of(bad, ok);
    INFO(bad);
    CHECK_FALSE(ok);
  }
}
