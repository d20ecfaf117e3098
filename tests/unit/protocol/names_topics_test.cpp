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

namespace {

// Tokens joined by '.' to exactly `bytes` bytes: "aaaa.aaaa....".
std::string dotted(std::size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += out.size() % 5 == 4 ? '.' : 'a';
  if (out.back() == '.') out.back() = 'b';
  return out;
}

}  // namespace

TEST_CASE("topic edge table", "[topic]") {
  struct Case {
    std::string text;
    bool topic;
    bool pattern;
  };
  const std::vector<Case> cases{
      {"foo.bar", true, true},
      {"foo..bar", false, false},
      {".foo", false, false},
      {"foo.", false, false},
      {"..", false, false},
      {" ", false, false},
      {"foo bar", false, false},
      {"foo.*", false, true},
      {"*.foo", false, true},
      {"foo.*.bar", false, true},
      {"*", false, true},
      {">", false, true},
      {"foo.>", false, true},
      {"*.>", false, true},
      {">.foo", false, false},
      {"foo.>.bar", false, false},
      {"foo.>.>", false, false},
      {"foo.*bar", false, false},
      {"foo.bar*", false, false},
      {"foo.>bar", false, false},
      {"foo.**", false, false},
      {"$sys", true, true},
      {"$sys.x", true, true},
      {"$sys.*", false, true},
      {"$sys.>", false, true},
      {"$a", true, true},
      {"$-", true, true},
      {"$", false, false},
      {"$$sys", false, false},
      {"$*", false, false},
      {"$>", false, false},
      {"sys$", false, false},
      {"a.$sys", false, false},
      {"*.$sys", false, false},
      {"A-Z_a-z.0-9", true, true},
      {"a\tb", false, false},
      {std::string("a\0b", 3), false, false},
      {"caf\xc3\xa9", false, false},
      {std::string(255, 'x'), true, true},
      {std::string(256, 'x'), false, false},
      {dotted(255), true, true},
      {dotted(256), false, false},
      {dotted(253) + ".*", false, true},
      {dotted(254) + ".*", false, false},
      {dotted(253) + ".>", false, true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text, c.text.size());
    CHECK(is_valid_topic(c.text) == c.topic);
    CHECK(is_valid_pattern(c.text) == c.pattern);
  }
}

TEST_CASE("matching edge table", "[topic][match]") {
  struct Case {
    const char* pattern;
    const char* topic;
    bool match;
  };
  const Case cases[] = {
      // '*' at each position of three tokens.
      {"*.b.c", "a.b.c", true},
      {"a.*.c", "a.b.c", true},
      {"a.b.*", "a.b.c", true},
      {"*.b.c", "a.x.c", false},
      {"a.b.*", "a.b", false},
      {"a.b.*", "a.b.c.d", false},
      {"*.*.*", "a.b.c", true},
      {"*.*.*", "a.b", false},
      {"*.*", "a.b.c", false},
      // '>' takes one token or more, never none.
      {">", "a.b.c.d.e", true},
      {"a.b.>", "a.b", false},
      {"a.b.>", "a.b.c", true},
      {"a.*.>", "a.b.c.d", true},
      {"*.*.>", "a.b", false},
      // Literal tokens compare whole and case-sensitively.
      {"chat", "Chat", false},
      {"chat.general", "chat.general", true},
      {"chat.gen", "chat.general", false},
      {"chat.general", "chat.gen", false},
      {"a.b", "a.b.c", false},
      {"a.b.c", "a.b", false},
      // A first-token wildcard never reaches a server topic; a literal first token does.
      {"*", "$sys", false},
      {">", "$sys", false},
      {"*.x", "$sys.x", false},
      {"*.>", "$sys.x.y", false},
      {"*.*", "$sys.x", false},
      {"$sys", "$sys", true},
      {"$sys.*", "$sys.x", true},
      {"$sys.>", "$sys.x.y", true},
      {"$sys.*", "$sys", false},
      {"$sys.>", "$sys", false},
      {"$sys.x", "sys.x", false},
      {"sys.>", "$sys.x", false},
      // Only the first token makes a server topic.
      {">", "a.b", true},
      {"*", "sys", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.topic);
    REQUIRE(is_valid_pattern(c.pattern));
    REQUIRE(is_valid_topic(c.topic));
    CHECK(pattern_matches(c.pattern, c.topic) == c.match);
  }
  // A concrete topic used as a pattern matches itself only.
  CHECK(pattern_matches(dotted(255), dotted(255)));
}

TEST_CASE("wildcard and server-topic predicates", "[topic]") {
  for (const char* p : {"*", ">", "a.*", "a.>", "*.b", "a.*.c", "$sys.*"}) {
    CAPTURE(p);
    CHECK(has_wildcard(p));
  }
  for (const char* p : {"a", "a.b", "$sys", "$sys.x", "ab*"}) {
    CAPTURE(p);
    CHECK_FALSE(has_wildcard(p));
  }
  CHECK(is_system_topic("$sys"));
  CHECK(is_system_topic("$a.b"));
  CHECK_FALSE(is_system_topic(""));
  CHECK_FALSE(is_system_topic("a.$b"));
  CHECK_FALSE(is_system_topic("*"));
}

TEST_CASE("name edge table", "[name]") {
  // Every character class the rule allows, and its neighbours in ASCII that it does not.
  CHECK(is_valid_name("AZaz09_.-"));
  for (char c : std::string("/:@[`{ ~,+*$>!\"'\\\x7f\x01")) {
    CAPTURE(c);
    CHECK_FALSE(is_valid_name(std::string("a") + c));
  }
  CHECK(is_valid_name(".."));
  CHECK(is_valid_name("-"));
  CHECK_FALSE(is_valid_name(std::string("a\0", 2)));
  CHECK_FALSE(is_valid_name("\xc3\xa9"));
  CHECK(is_valid_name(std::string(32, 'x')));
  CHECK_FALSE(is_valid_name(std::string(33, 'x')));
  for (const char* n : {"guest-", "guest-1", "GUEST-1", "gUeSt-abc", "Guest-.x"}) {
    CAPTURE(n);
    CHECK(is_reserved_name(n));
  }
  for (const char* n : {"", "guest", "guest_1", "guest.1", "xguest-1", "gues-t", "guesT"}) {
    CAPTURE(n);
    CHECK_FALSE(is_reserved_name(n));
  }
  // Folding touches ASCII letters only; the other name characters stay as they are.
  CHECK(fold_name("A-Z_a.z09") == "a-z_a.z09");
  CHECK(fold_name("Bob") == fold_name("bOB"));
}
