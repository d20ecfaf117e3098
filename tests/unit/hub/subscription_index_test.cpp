// The token trie: exact and wildcard matching, server ('$') topics, memory released on
// removal, and queue groups with their round-robin cursor.
#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "parley/protocol/topic.hpp"
#include "subscription_index.hpp"

using parley::server::SessionId;
using parley::server::SubscriptionIndex;
using Ids = std::multiset<SessionId>;

namespace {

const std::optional<std::string> kPlain = std::nullopt;

// The sessions of the plain subscriptions matching `topic`, once per matching pattern.
Ids plain_matches(SubscriptionIndex& index, const std::string& topic) {
  Ids out;
  index.match(
      topic, [&](SessionId id) { out.insert(id); }, [](SubscriptionIndex::Group&) {});
  return out;
}

// The members of every queue group matching `topic`, one list per group.
std::vector<std::vector<SessionId>> group_matches(SubscriptionIndex& index,
                                                  const std::string& topic) {
  std::vector<std::vector<SessionId>> out;
  index.match(
      topic, [](SessionId) {}, [&](SubscriptionIndex::Group& g) { out.push_back(g.members); });
  return out;
}

// Publishes once the way the hub does: every matching group hands its turn to the member
// under its cursor and moves the cursor on. Returns the chosen members.
std::vector<SessionId> take_turns(SubscriptionIndex& index, const std::string& topic) {
  std::vector<SessionId> chosen;
  index.match(
      topic, [](SessionId) {},
      [&](SubscriptionIndex::Group& g) {
        REQUIRE_FALSE(g.members.empty());
        REQUIRE(g.next < g.members.size());
        chosen.push_back(g.members[g.next]);
        g.next = (g.next + 1) % g.members.size();
      });
  return chosen;
}

// Every dotted combination of 1..max_tokens tokens from `alphabet`.
std::vector<std::string> combinations(const std::vector<std::string>& alphabet,
                                      std::size_t max_tokens) {
  std::vector<std::string> out;
  std::vector<std::string> layer = {""};
  for (std::size_t n = 1; n <= max_tokens; ++n) {
    std::vector<std::string> next;
    for (const auto& prefix : layer) {
      for (const auto& token : alphabet)
        next.push_back(prefix.empty() ? token : prefix + "." + token);
    }
    out.insert(out.end(), next.begin(), next.end());
    layer = std::move(next);
  }
  return out;
}

}  // namespace

TEST_CASE("an exact pattern matches its own topic only", "[index]") {
  SubscriptionIndex index;
  index.add("a.b", 1, kPlain);
  index.add("a", 2, kPlain);
  CHECK(plain_matches(index, "a.b") == Ids{1});
  CHECK(plain_matches(index, "a") == Ids{2});
  CHECK(plain_matches(index, "a.b.c").empty());
  CHECK(plain_matches(index, "a.c").empty());
  CHECK(plain_matches(index, "b").empty());
  CHECK(plain_matches(index, "b.a").empty());
  CHECK(plain_matches(index, "A.b").empty());  // tokens are case-sensitive
  CHECK(plain_matches(index, "ab").empty());
}

TEST_CASE("'*' matches exactly one token, at any position", "[index][wildcards]") {
  SubscriptionIndex index;
  index.add("*.b.c", 1, kPlain);
  index.add("a.*.c", 2, kPlain);
  index.add("a.b.*", 3, kPlain);
  index.add("*.*.*", 4, kPlain);
  index.add("*", 5, kPlain);
  CHECK(plain_matches(index, "a.b.c") == Ids{1, 2, 3, 4});
  CHECK(plain_matches(index, "x.b.c") == Ids{1, 4});
  CHECK(plain_matches(index, "a.x.c") == Ids{2, 4});
  CHECK(plain_matches(index, "a.b.x") == Ids{3, 4});
  CHECK(plain_matches(index, "x.y.z") == Ids{4});
  CHECK(plain_matches(index, "a") == Ids{5});
  CHECK(plain_matches(index, "a.b").empty());      // one token short
  CHECK(plain_matches(index, "a.b.c.d").empty());  // one token too many
}

TEST_CASE("'>' alone matches every topic that does not start with '$'", "[index][wildcards]") {
  SubscriptionIndex index;
  index.add(">", 1, kPlain);
  for (const char* topic : {"a", "a.b", "a.b.c", "x.y.z.w.v", "A-_9"})
    CHECK(plain_matches(index, topic) == Ids{1});
  for (const char* topic : {"$sys", "$sys.a", "$x.y.z"}) CHECK(plain_matches(index, topic).empty());
}

TEST_CASE("'>' as the last token needs at least one token in its place", "[index][wildcards]") {
  SubscriptionIndex index;
  index.add("a.>", 1, kPlain);
  index.add("a.b.>", 2, kPlain);
  index.add("*.>", 3, kPlain);
  index.add("a.*.>", 4, kPlain);
  CHECK(plain_matches(index, "a").empty());
  CHECK(plain_matches(index, "a.b") == Ids{1, 3});
  CHECK(plain_matches(index, "a.b.c") == Ids{1, 2, 3, 4});
  CHECK(plain_matches(index, "a.x.c.d.e") == Ids{1, 3, 4});
  CHECK(plain_matches(index, "b.a") == Ids{3});
  CHECK(plain_matches(index, "b").empty());
}

TEST_CASE("patterns match only topics of their token count unless they end in '>'",
          "[index][wildcards]") {
  SubscriptionIndex index;
  index.add("a.*", 1, kPlain);
  index.add("*.*", 2, kPlain);
  index.add("a.b.c", 3, kPlain);
  CHECK(plain_matches(index, "a").empty());
  CHECK(plain_matches(index, "a.b") == Ids{1, 2});
  CHECK(plain_matches(index, "a.b.c") == Ids{3});
  CHECK(plain_matches(index, "a.b.c.d").empty());
}

TEST_CASE("a wildcard first token never matches a '$' topic, '$sys.*' and '$sys.>' do",
          "[index][system]") {
  SubscriptionIndex index;
  index.add("*", 1, kPlain);
  index.add(">", 2, kPlain);
  index.add("*.x", 3, kPlain);
  index.add("*.>", 4, kPlain);
  index.add("$sys.*", 5, kPlain);
  index.add("$sys.>", 6, kPlain);
  index.add("$sys.x", 7, kPlain);
  index.add("$sys", 8, kPlain);
  index.add("$other.>", 9, kPlain);
  index.add("$sys.*.y", 10, kPlain);
  CHECK(plain_matches(index, "$sys") == Ids{8});
  CHECK(plain_matches(index, "$sys.x") == Ids{5, 6, 7});
  CHECK(plain_matches(index, "$sys.a") == Ids{5, 6});
  CHECK(plain_matches(index, "$sys.a.y") == Ids{6, 10});
  CHECK(plain_matches(index, "$sys.a.b.c") == Ids{6});
  CHECK(plain_matches(index, "$other.x") == Ids{9});
  // The same shapes without the '$' match the first-token wildcards.
  CHECK(plain_matches(index, "sys.x") == Ids{2, 3, 4});
}

TEST_CASE("many overlapping patterns each match once, as the reference matcher says",
          "[index][wildcards]") {
  SubscriptionIndex index;
  std::vector<std::string> patterns;
  for (const auto& p : combinations({"a", "b", "$s", "*", ">"}, 3)) {
    if (parley::protocol::is_valid_pattern(p)) patterns.push_back(p);
  }
  REQUIRE(patterns.size() > 60);
  // Two sessions on every pattern, so that a pattern's subscribers are all visited.
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    index.add(patterns[i], 2 * i + 1, kPlain);
    index.add(patterns[i], 2 * i + 2, kPlain);
  }
  std::size_t checked = 0;
  for (const auto& topic : combinations({"a", "b", "$s", "c"}, 4)) {
    if (!parley::protocol::is_valid_topic(topic)) continue;
    Ids expected;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      if (parley::protocol::pattern_matches(patterns[i], topic)) {
        expected.insert(2 * i + 1);
        expected.insert(2 * i + 2);
      }
    }
    INFO("topic " << topic);
    CHECK(plain_matches(index, topic) == expected);
    ++checked;
  }
  CHECK(checked > 100);
  // And removing them all gives back every node.
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    index.remove(patterns[i], 2 * i + 1, kPlain);
    index.remove(patterns[i], 2 * i + 2, kPlain);
  }
  CHECK(index.node_count() == 1);
  CHECK(plain_matches(index, "a.b").empty());
}

TEST_CASE("node_count counts one node per distinct token prefix", "[index][memory]") {
  SubscriptionIndex index;
  CHECK(index.node_count() == 1);
  index.add("a.b.c", 1, kPlain);
  CHECK(index.node_count() == 4);
  index.add("a.b.d", 1, kPlain);
  CHECK(index.node_count() == 5);
  index.add("a.*.d", 1, kPlain);
  CHECK(index.node_count() == 7);
  index.add(">", 1, kPlain);  // sits at the root
  CHECK(index.node_count() == 7);
  index.add("a.>", 1, kPlain);  // sits at "a"
  CHECK(index.node_count() == 7);
  index.remove("a.b.c", 1, kPlain);
  CHECK(index.node_count() == 6);
  CHECK(plain_matches(index, "a.b.d") == Ids{1, 1, 1, 1});  // a.b.d, a.*.d, >, a.>
  index.remove("a.b.d", 1, kPlain);
  index.remove("a.*.d", 1, kPlain);
  CHECK(index.node_count() == 2);
  index.remove("a.>", 1, kPlain);
  CHECK(index.node_count() == 1);
  CHECK(plain_matches(index, "a.b") == Ids{1});
  index.remove(">", 1, kPlain);
  CHECK(index.node_count() == 1);
  CHECK(plain_matches(index, "a.b").empty());
}

TEST_CASE("a node shared by several patterns stays until its last user goes", "[index][memory]") {
  SubscriptionIndex index;
  index.add("a", 1, kPlain);
  index.add("a.b", 2, kPlain);
  index.add("a.>", 3, std::string("g"));
  index.remove("a.b", 2, kPlain);
  CHECK(plain_matches(index, "a") == Ids{1});
  CHECK(group_matches(index, "a.x") == std::vector<std::vector<SessionId>>{{3}});
  CHECK(index.node_count() == 2);
  index.remove("a", 1, kPlain);
  CHECK(index.node_count() == 2);  // a.> still lives at "a"
  index.remove("a.>", 3, std::string("g"));
  CHECK(index.node_count() == 1);
}

TEST_CASE("subscription churn does not grow the trie", "[index][memory]") {
  SubscriptionIndex index;
  for (int round = 0; round < 3; ++round) {
    for (SessionId id = 1; id <= 50; ++id) {
      const std::string n = std::to_string(id);
      index.add("x." + n + ".*.>", id, kPlain);
      index.add("x.*", id, std::string("g"));
      index.add("*." + n, id, std::string("g" + n));
      index.add(">", id, kPlain);
    }
    CHECK(index.node_count() > 100);
    for (SessionId id = 1; id <= 50; ++id) {
      const std::string n = std::to_string(id);
      index.remove("x." + n + ".*.>", id, kPlain);
      index.remove("x.*", id, std::string("g"));
      index.remove("*." + n, id, std::string("g" + n));
      index.remove(">", id, kPlain);
    }
    CHECK(index.node_count() == 1);
  }
  CHECK(plain_matches(index, "x.1.a.b").empty());
  CHECK(group_matches(index, "x.1").empty());
}

TEST_CASE("removing what was never added changes nothing", "[index][memory]") {
  SubscriptionIndex index;
  index.add("a.b", 1, kPlain);
  index.add("a.*", 2, std::string("g"));
  const std::size_t nodes = index.node_count();
  index.remove("never.added", 1, kPlain);
  index.remove("a", 1, kPlain);              // a prefix of a.b
  index.remove("a.b.c", 1, kPlain);          // longer than a.b
  index.remove("a.b", 9, kPlain);            // someone else
  index.remove("a.b", 1, std::string("g"));  // right session, but not in a group
  index.remove("a.*", 2, kPlain);            // in a group, not plain
  index.remove("a.*", 2, std::string("h"));  // another group
  index.remove(">", 1, kPlain);
  index.remove("a.>", 1, kPlain);
  CHECK(index.node_count() == nodes);
  CHECK(plain_matches(index, "a.b") == Ids{1});
  CHECK(group_matches(index, "a.b") == std::vector<std::vector<SessionId>>{{2}});
}

TEST_CASE("groups live at their pattern: one per (pattern, group name)", "[index][groups]") {
  SubscriptionIndex index;
  index.add("jobs.*", 1, std::string("g"));
  index.add("jobs.*", 2, std::string("g"));
  index.add("jobs.*", 3, std::string("h"));
  index.add("jobs.>", 4, std::string("g"));  // same name, other pattern: another group
  index.add("jobs.*", 5, kPlain);
  auto groups = group_matches(index, "jobs.x");
  std::sort(groups.begin(), groups.end());
  CHECK(groups == std::vector<std::vector<SessionId>>{{1, 2}, {3}, {4}});
  CHECK(plain_matches(index, "jobs.x") == Ids{5});
  CHECK(group_matches(index, "jobs.x.y") == std::vector<std::vector<SessionId>>{{4}});
}

TEST_CASE("a queue group hands out turns round robin", "[index][groups]") {
  SubscriptionIndex index;
  for (SessionId id = 1; id <= 3; ++id) index.add("jobs.*", id, std::string("g"));
  std::vector<SessionId> picks;
  for (int i = 0; i < 7; ++i) {
    const auto chosen = take_turns(index, "jobs.x");
    REQUIRE(chosen.size() == 1);
    picks.push_back(chosen[0]);
  }
  CHECK(picks == std::vector<SessionId>{1, 2, 3, 1, 2, 3, 1});
}

TEST_CASE("the cursor stays on the member due next when members leave", "[index][groups]") {
  SubscriptionIndex index;
  for (SessionId id = 1; id <= 4; ++id) index.add("q", id, std::string("g"));
  const auto next = [&] {
    const auto chosen = take_turns(index, "q");
    REQUIRE(chosen.size() == 1);
    return chosen[0];
  };
  CHECK(next() == 1);
  CHECK(next() == 2);  // 3 is due now
  SECTION("a member before the cursor leaves") {
    index.remove("q", 1, std::string("g"));
    CHECK(next() == 3);
    CHECK(next() == 4);
    CHECK(next() == 2);
  }
  SECTION("the member under the cursor leaves") {
    index.remove("q", 3, std::string("g"));
    CHECK(next() == 4);
    CHECK(next() == 1);
  }
  SECTION("a member after the cursor leaves") {
    index.remove("q", 4, std::string("g"));
    CHECK(next() == 3);
    CHECK(next() == 1);
  }
  SECTION("the last member, under the cursor, leaves: the turn wraps to the first") {
    CHECK(next() == 3);  // 4 is due
    index.remove("q", 4, std::string("g"));
    CHECK(next() == 1);
    CHECK(next() == 2);
  }
  SECTION("a member that leaves and comes back queues up last") {
    index.remove("q", 1, std::string("g"));
    index.add("q", 1, std::string("g"));
    CHECK(next() == 3);
    CHECK(next() == 4);
    CHECK(next() == 1);
    CHECK(next() == 2);
  }
  SECTION("when everyone leaves the group is gone") {
    for (SessionId id = 1; id <= 4; ++id) index.remove("q", id, std::string("g"));
    CHECK(take_turns(index, "q").empty());
    CHECK(index.node_count() == 1);
  }
}
