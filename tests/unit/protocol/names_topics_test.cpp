// Topic, pattern and name rules, with the edge cases a NATS-style table needs.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"

using namespace parley::protocol;

TEST_CASE("valid and invalid concrete topics", "[topic]") {
  for (const std::string& t : std::vector<std::string>{"a", "chat.general", "a-b_c.D9", "$sys",
                                                       "$sys.x", std::string(255, 'a')}) {
    CAPTURE(t);
    CHECK(is_valid_topic(t));
  }
  for (const std::string& t :
       std::vector<std::string>{"", ".", "a.", ".a", "a..b", "a b", "a.*", "a.>", ">", "*", "a.$b",
                                "$", "$.a", "é", "a/b", std::string(256, 'a'), "a\nb"}) {
    CAPTURE(t);
    CHECK_FALSE(is_valid_topic(t));
  }
}

TEST_CASE("valid and invalid patterns", "[topic]") {
  for (const std::string& p : std::vector<std::string>{"a", ">", "*", "a.*", "*.a", "a.*.c", "a.>",
                                                       "*.>", "$sys.>", "$sys.*", "*.*.*"}) {
    CAPTURE(p);
    CHECK(is_valid_pattern(p));
  }
  for (const std::string& p :
       std::vector<std::string>{"", "a.>.b", ">.a", "a.b*", "a.*b", "a..*", "a.", "**", ">>",
                                "a.>x", std::string(256, 'a')}) {
    CAPTURE(p);
    CHECK_FALSE(is_valid_pattern(p));
  }
  CHECK(has_wildcard("a.*"));
  CHECK(has_wildcard(">"));
  CHECK_FALSE(has_wildcard("a.b"));
  CHECK(is_system_topic("$sys.x"));
  CHECK_FALSE(is_system_topic("sys.x"));
}

TEST_CASE("pattern matching by tokens", "[topic][match]") {
  struct Case {
    const char* pattern;
    const char* topic;
    bool match;
  };
  const Case cases[] = {
      {"a", "a", true},           {"a", "b", false},          {"a", "a.b", false},
      {"a.b", "a", false},        {"*", "a", true},           {"*", "a.b", false},
      {"a.*", "a.b", true},       {"a.*", "a", false},        {"a.*", "a.b.c", false},
      {"*.b", "a.b", true},       {"*.b", "a.c", false},      {"a.*.c", "a.x.c", true},
      {"a.*.c", "a.x.d", false},  {">", "a", true},           {">", "a.b.c", true},
      {"a.>", "a", false},        {"a.>", "a.b", true},       {"a.>", "a.b.c", true},
      {"*.>", "a.b", true},       {"*.>", "a", false},        {"a.*.>", "a.b.c", true},
      {"a.*.>", "a.b", false},    {">", "$sys.x", false},     {"*.x", "$sys.x", false},
      {"*", "$sys", false},       {"$sys.>", "$sys.x", true}, {"$sys.*", "$sys.x", true},
      {"$sys.x", "$sys.x", true}, {"ab", "a", false},         {"a", "ab", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.topic);
    CHECK(pattern_matches(c.pattern, c.topic) == c.match);
  }
}

TEST_CASE("names: 1-32 of [A-Za-z0-9_.-], guest- reserved in any case", "[name]") {
  for (const std::string& n : std::vector<std::string>{"a", "Alice", "bob.smith", "x_y-z", "0",
                                                       std::string(32, 'n'), "guest", "guestx"}) {
    CAPTURE(n);
    CHECK(is_valid_name(n));
  }
  for (const std::string& n :
       std::vector<std::string>{"", std::string(33, 'n'), "a b", "a/b", "é", "a\tb", "a:b"}) {
    CAPTURE(n);
    CHECK_FALSE(is_valid_name(n));
  }
  CHECK(is_reserved_name("guest-1"));
  CHECK(is_reserved_name("GUEST-x"));
  CHECK(is_reserved_name("Guest-"));
  CHECK_FALSE(is_reserved_name("guest"));
  CHECK_FALSE(is_reserved_name("guests-1"));
  CHECK(fold_name("AlIcE") == "alice");
}
