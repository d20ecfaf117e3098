// Pattern containment (a table, then every pair of small patterns against brute force),
// the pattern trie against a linear scan, and a table of one account's rights.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "parley/protocol/topic.hpp"
#include "pattern_set.hpp"
#include "permissions.hpp"

using namespace parley::auth;
using parley::protocol::is_valid_pattern;
using parley::protocol::is_valid_topic;
using parley::protocol::pattern_matches;

namespace {

// Every string of 1..max_tokens tokens drawn from `alphabet` joined by '.', valid per `valid`.
std::vector<std::string> enumerate(const std::vector<std::string>& alphabet, std::size_t max_tokens,
                                   bool (*valid)(std::string_view) noexcept) {
  std::vector<std::string> out;
  std::vector<std::string> level{""};
  for (std::size_t n = 1; n <= max_tokens; ++n) {
    std::vector<std::string> next;
    for (const auto& prefix : level) {
      for (const auto& token : alphabet) {
        next.push_back(prefix.empty() ? token : prefix + "." + token);
      }
    }
    level = next;
    for (const auto& s : level) {
      if (valid(s)) out.push_back(s);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("containment: a table of edge cases", "[auth][contain]") {
  struct Row {
    const char* sub;
    const char* super;
    bool contained;
  };
  const auto row = GENERATE(values<Row>({
      {"chat.*", "chat.>", true},
      {"chat.>", "chat.*", false},
      {"a.*.c", "a.>", true},
      {"a.>", "a.*.c", false},
      {"*", "a.*", false},
      {"*", "*", true},
      {"*", ">", true},
      {">", ">", true},
      {">", "*", false},
      {">", "a.>", false},
      {"a.>", ">", true},
      {"a.b.c", "a.b.c", true},
      {"a.b.c", "a.b", false},
      {"a.b", "a.b.c", false},
      {"a", "a.>", false},
      {"a.b", "a.>", true},
      {"a.>", "a.>", true},
      {"a.b.>", "a.>", true},
      {"a.>", "a.b.>", false},
      {"a.*.>", "a.>", true},
      {"a.*.>", "a.*.*", false},
      {"a.*", "a.b", false},
      {"a.b", "a.*", true},
      {"chat", "chat", true},
      {"chat", "Chat", false},
      {"*.*", "*.>", true},
      // The '$' rule: a first-token wildcard neither matches nor covers '$' topics.
      {"$sys.x", ">", false},
      {"$sys.x", "*.x", false},
      {"$sys.x", "$sys.*", true},
      {"$sys.x", "$sys.>", true},
      {"$sys.>", ">", false},
      {"$sys.*", "$sys.>", true},
      {"$sys", "*", false},
      {"*.x", "$sys.>", false},
      {"*", "$sys", false},
      {">", "$sys.>", false},
  }));
  INFO(row.sub << " in " << row.super);
  CHECK(contained(row.sub, row.super) == row.contained);
}

TEST_CASE("containment agrees with brute force over every small pattern", "[auth][contain]") {
  // Patterns of up to 3 tokens over a, b, $a, *, >; every topic they can tell apart has at
  // most one token more than the longest pattern, over a, b, $a.
  const auto patterns = enumerate({"a", "b", "$a", "*", ">"}, 3, is_valid_pattern);
  const auto topics = enumerate({"a", "b", "$a"}, 4, is_valid_topic);
  REQUIRE(patterns.size() > 50);
  std::size_t yes = 0;
  for (const auto& sub : patterns) {
    for (const auto& super : patterns) {
      const bool expected = std::all_of(topics.begin(), topics.end(), [&](const std::string& t) {
        return !pattern_matches(sub, t) || pattern_matches(super, t);
      });
      if (contained(sub, super) != expected) {
        FAIL_CHECK(sub << " in " << super << ": expected " << expected);
      }
      yes += expected ? 1 : 0;
    }
  }
  CHECK(yes > patterns.size());  // more than the reflexive pairs
}

TEST_CASE("a pattern set matches exactly what a scan of its patterns matches", "[auth][trie]") {
  const auto patterns = enumerate({"a", "b", "$a", "*", ">"}, 3, is_valid_pattern);
  const auto topics = enumerate({"a", "b", "$a", "c"}, 4, is_valid_topic);
  // Deterministic subsets: every pattern alone, then sliding windows of several.
  for (std::size_t size : {1U, 2U, 5U, 17U}) {
    for (std::size_t start = 0; start < patterns.size(); start += size) {
      const auto end = std::min(patterns.size(), start + size);
      PatternSet set;
      for (auto i = start; i < end; ++i) set.add(patterns[i]);
      CHECK_FALSE(set.empty());
      for (const auto& topic : topics) {
        const bool expected =
            std::any_of(patterns.begin() + static_cast<std::ptrdiff_t>(start),
                        patterns.begin() + static_cast<std::ptrdiff_t>(end),
                        [&](const std::string& p) { return pattern_matches(p, topic); });
        if (set.matches(topic) != expected) {
          FAIL_CHECK("set from " << patterns[start] << " (" << end - start << ") on " << topic);
        }
      }
    }
  }
  CHECK_FALSE(PatternSet{}.matches("a"));
  CHECK(PatternSet{}.empty());
}

namespace {

using List = std::optional<std::vector<std::string>>;

enum class Ask { publish, subscribe_topic, subscribe_pattern, delivery_denied, tell };

struct PermRow {
  const char* what;
  List publish;
  List subscribe;
  List deny_publish;
  List deny_subscribe;
  bool tell;
  Ask ask;
  const char* subject;
  bool expected;
};

bool ask(const Permissions& p, Ask ask, const std::string& subject) {
  switch (ask) {
    case Ask::publish:
      return p.allow_publish(subject);
    case Ask::subscribe_topic:
      return p.allow_subscribe_topic(subject);
    case Ask::subscribe_pattern:
      return p.allow_subscribe_pattern(subject);
    case Ask::delivery_denied:
      return p.delivery_denied(subject);
    case Ask::tell:
      return p.allow_tell();
  }
  return false;
}

const List kAll = std::nullopt;
List list(std::initializer_list<std::string> items) {
  return std::vector<std::string>(items);
}

}  // namespace

TEST_CASE("permissions: a table of one account's rights", "[auth][perm]") {
  using A = Ask;
  const auto r = GENERATE(values<PermRow>({
      // No lists: everything allowed, '$' topics included, nothing denied, tell allowed.
      {"default pub", kAll, kAll, kAll, kAll, true, A::publish, "chat.general", true},
      {"default sub topic", kAll, kAll, kAll, kAll, true, A::subscribe_topic, "x", true},
      {"default sub >", kAll, kAll, kAll, kAll, true, A::subscribe_pattern, ">", true},
      {"default sub $", kAll, kAll, kAll, kAll, true, A::subscribe_pattern, "$sys.>", true},
      {"default $ topic", kAll, kAll, kAll, kAll, true, A::subscribe_topic, "$sys.stats", true},
      {"default delivery", kAll, kAll, kAll, kAll, true, A::delivery_denied, "a.b", false},
      {"default tell", kAll, kAll, kAll, kAll, true, A::tell, "", true},
      {"tell false", kAll, kAll, kAll, kAll, false, A::tell, "", false},
      // Allow lists.
      {"pub allowed", list({"chat.>"}), kAll, kAll, kAll, true, A::publish, "chat.general", true},
      {"pub not allowed", list({"chat.>"}), kAll, kAll, kAll, true, A::publish, "news.x", false},
      {"pub allow list does not reach the parent", list({"chat.>"}), kAll, kAll, kAll, true,
       A::publish, "chat", false},
      {"empty allow list allows nothing", list({}), kAll, kAll, kAll, true, A::publish, "a", false},
      {"reply topic is a publish", list({"chat.>", "_inbox.alice.>"}), kAll, kAll, kAll, true,
       A::publish, "_inbox.alice.42", true},
      {"reply elsewhere refused", list({"chat.>", "_inbox.alice.>"}), kAll, kAll, kAll, true,
       A::publish, "_inbox.bob.42", false},
      {"publish list does not limit subscribe", list({"chat.>"}), kAll, kAll, kAll, true,
       A::subscribe_topic, "news.x", true},
      {"sub topic allowed", kAll, list({"chat.*"}), kAll, kAll, true, A::subscribe_topic,
       "chat.general", true},
      {"sub topic not allowed (who/join/history/topics)", kAll, list({"chat.*"}), kAll, kAll, true,
       A::subscribe_topic, "chat.a.b", false},
      {"chat.* contained in chat.>", kAll, list({"chat.>"}), kAll, kAll, true, A::subscribe_pattern,
       "chat.*", true},
      {"chat.> not in chat.*", kAll, list({"chat.*"}), kAll, kAll, true, A::subscribe_pattern,
       "chat.>", false},
      {"> not in chat.>", kAll, list({"chat.>"}), kAll, kAll, true, A::subscribe_pattern, ">",
       false},
      {"concrete sub in allow", kAll, list({"chat.>"}), kAll, kAll, true, A::subscribe_pattern,
       "chat.x", true},
      {"contained in the second allow pattern", kAll, list({"news.*", "a.>"}), kAll, kAll, true,
       A::subscribe_pattern, "a.*.c", true},
      {"* not in a.*", kAll, list({"a.*"}), kAll, kAll, true, A::subscribe_pattern, "*", false},
      // Deny lists.
      {"deny_publish wins", kAll, kAll, list({"chat.admin"}), kAll, true, A::publish, "chat.admin",
       false},
      {"deny_publish leaves the rest", kAll, kAll, list({"chat.admin"}), kAll, true, A::publish,
       "chat.general", true},
      {"deny_publish does not limit subscribe", kAll, kAll, list({"chat.admin"}), kAll, true,
       A::subscribe_topic, "chat.admin", true},
      {"> sub with one denied topic is allowed", kAll, kAll, kAll, list({"secret"}), true,
       A::subscribe_pattern, ">", true},
      {"> sub: the denied topic is withheld", kAll, kAll, kAll, list({"secret"}), true,
       A::delivery_denied, "secret", true},
      {"> sub: everything else is delivered", kAll, kAll, kAll, list({"secret"}), true,
       A::delivery_denied, "secret.x", false},
      {"> sub: another topic is delivered", kAll, kAll, kAll, list({"secret"}), true,
       A::delivery_denied, "chat.general", false},
      {"denied topic: join/who/history refused", kAll, kAll, kAll, list({"secret.*"}), true,
       A::subscribe_topic, "secret.x", false},
      {"denied topic: a concrete sub refused", kAll, kAll, kAll, list({"secret.*"}), true,
       A::subscribe_pattern, "secret.x", false},
      {"a sub inside a deny pattern is refused", kAll, kAll, kAll, list({"secret.>"}), true,
       A::subscribe_pattern, "secret.*", false},
      {"a sub overlapping a deny pattern is allowed", kAll, kAll, kAll, list({"secret.*"}), true,
       A::subscribe_pattern, "*.x", true},
      {"empty deny list denies nothing", kAll, kAll, kAll, list({}), true, A::delivery_denied, "a",
       false},
      // '$' topics: listed patterns follow the matching rules.
      {"> does not allow a $ topic", kAll, list({">"}), kAll, kAll, true, A::subscribe_topic,
       "$sys.stats", false},
      {"> does not allow a $ sub", kAll, list({">"}), kAll, kAll, true, A::subscribe_pattern,
       "$sys.>", false},
      {"$sys.> allows $sys subs", kAll, list({">", "$sys.>"}), kAll, kAll, true,
       A::subscribe_pattern, "$sys.*", true},
      {"$sys.> allows $sys topics", kAll, list({"$sys.>"}), kAll, kAll, true, A::subscribe_topic,
       "$sys.stats", true},
      {"deny > leaves $ topics", kAll, kAll, kAll, list({">"}), true, A::delivery_denied,
       "$sys.stats", false},
      {"deny > withholds the rest", kAll, kAll, kAll, list({">"}), true, A::delivery_denied, "chat",
       true},
      {"deny $sys.> withholds $sys", kAll, kAll, kAll, list({"$sys.>"}), true, A::delivery_denied,
       "$sys.stats", true},
      {"deny *.x leaves $a.x", kAll, kAll, kAll, list({"*.x"}), true, A::delivery_denied, "$a.x",
       false},
  }));
  INFO(r.what << ": " << r.subject);
  PermissionLists lists;
  lists.publish = r.publish;
  lists.subscribe = r.subscribe;
  lists.deny_publish = r.deny_publish;
  lists.deny_subscribe = r.deny_subscribe;
  lists.tell = r.tell;
  CHECK(ask(Permissions(lists), r.ask, r.subject) == r.expected);
}

TEST_CASE("a default Permissions allows everything", "[auth][perm]") {
  const Permissions p;
  CHECK(p.allow_publish("a.b"));
  CHECK(p.allow_subscribe_topic("$sys.x"));
  CHECK(p.allow_subscribe_pattern(">"));
  CHECK_FALSE(p.delivery_denied("a"));
  CHECK(p.allow_tell());
}
