// The validating scanner: slices of the root object's members, string and integer values.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/json_scan.hpp"

using namespace parley::protocol::json_scan;

TEST_CASE("members are sliced exactly, containers included", "[json_scan]") {
  Document d;
  REQUIRE(scan(R"( {"a":1, "b" : {"c":[1,{"d":2}]}, "e":"x\"y", "f":[], "g":{}, "h":null} )", 128,
               d) == Status::ok);
  REQUIRE(d.root.kind == Kind::object);
  REQUIRE(d.members.size() == 6);
  CHECK(d.members[0].key == "a");
  CHECK(d.members[0].value.text == "1");
  CHECK(d.members[1].value.kind == Kind::object);
  CHECK(d.members[1].value.text == R"({"c":[1,{"d":2}]})");
  CHECK(d.members[2].value.text == R"("x\"y")");
  CHECK(string_value(d.members[2].value) == "x\"y");
  CHECK(d.members[3].value.text == "[]");
  CHECK(d.members[3].value.kind == Kind::array);
  CHECK(d.members[4].value.text == "{}");
  CHECK(d.members[5].value.kind == Kind::null);
}

TEST_CASE("a non-object root has no members", "[json_scan]") {
  Document d;
  REQUIRE(scan(R"([{"a":1}])", 128, d) == Status::ok);
  CHECK(d.root.kind == Kind::array);
  CHECK(d.members.empty());
  REQUIRE(scan("  42 ", 128, d) == Status::ok);
  CHECK(d.root.kind == Kind::number);
}

TEST_CASE("escapes resolve to UTF-8", "[json_scan]") {
  Document d;
  REQUIRE(scan(R"({"s":"\u00e9\u20ac\ud83d\ude00\n\t\/\\\b\f\r"})", 128, d) == Status::ok);
  CHECK(string_value(d.members[0].value) == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\t/\\\b\f\r");
  REQUIRE(scan(R"({"\u0061":1})", 128, d) == Status::ok);
  CHECK(key_value(d.members[0]) == "a");
}

TEST_CASE("integers as nlohmann reads them", "[json_scan]") {
  Document d;
  std::string text;  // the document's slices point into it
  const auto integer = [&](const std::string& number) {
    text = "{\"n\":" + number + "}";
    REQUIRE(scan(text, 128, d) == Status::ok);
    return integer_value(d.members[0].value);
  };
  CHECK(integer("0")->magnitude == 0);
  CHECK(integer("-5")->negative);
  CHECK(integer("18446744073709551615")->magnitude == 18446744073709551615ULL);
  CHECK_FALSE(integer("18446744073709551616"));
  CHECK(integer("-9223372036854775808")->magnitude == 9223372036854775808ULL);
  CHECK_FALSE(integer("-9223372036854775809"));
  CHECK_FALSE(integer("1.0"));
  CHECK_FALSE(integer("1e2"));
  CHECK_FALSE(integer("-0")->negative);
}

TEST_CASE("depth is bounded without recursion", "[json_scan]") {
  Document d;
  CHECK(scan(std::string(128, '[') + std::string(128, ']'), 128, d) == Status::ok);
  CHECK(scan(std::string(129, '[') + std::string(129, ']'), 128, d) == Status::too_deep);
  CHECK(scan(std::string(1000000, '['), 128, d) == Status::too_deep);
}

TEST_CASE("long strings with every byte class", "[json_scan]") {
  Document d;
  const std::string plain(1000, 'a');
  // Each text outlives the checks on its document, whose slices point into it.
  const std::string ok = "\"" + plain + "\"";
  REQUIRE(scan(ok, 128, d) == Status::ok);
  const std::string control = "\"" + plain + "\x01\"";
  CHECK(scan(control, 128, d) == Status::syntax);
  const std::string high = "\"" + plain + "\xff\"";
  CHECK(scan(high, 128, d) == Status::bad_utf8);
  const std::string escaped = "\"" + plain + "\\\"" + plain + "\"";
  REQUIRE(scan(escaped, 128, d) == Status::ok);
  CHECK(string_value(d.root).size() == 2001);
  const std::string open = "\"" + plain;
  CHECK(scan(open, 128, d) == Status::syntax);
}

TEST_CASE("a depth bound above the protocol's is honoured without overflow",
          "[json_scan][regression]") {
  // Regression: the container stack was a fixed array of 130, so a caller passing a larger
  // max_depth had nesting written past its end.
  Document d;
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  CHECK(scan(deep, 1000, d) == Status::ok);
  CHECK(scan(deep, 999, d) == Status::too_deep);
  const std::string deeper = std::string(1001, '[') + std::string(1001, ']');
  CHECK(scan(deeper, 1000, d) == Status::too_deep);
  // Zero or a negative bound allows no container at all; scalars still scan.
  CHECK(scan("[]", 0, d) == Status::too_deep);
  CHECK(scan("{}", -1, d) == Status::too_deep);
  CHECK(scan("1", 0, d) == Status::ok);
}
