// The token trie: wildcard matching, queue groups and memory released on removal.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "subscription_index.hpp"

using parley::server::SessionId;
using parley::server::SubscriptionIndex;

namespace {

std::multiset<SessionId> plain_matches(SubscriptionIndex& index, const std::string& topic) {
  std::multiset<SessionId> out;
  index.match(
      topic, [&](SessionId id) { out.insert(id); }, [](SubscriptionIndex::Group&) {});
  return out;
}

}  // namespace

TEST_CASE("the index finds every matching pattern", "[index]") {
  SubscriptionIndex index;
  const std::vector<std::string> patterns = {"a", "a.b",   "a.*",   "*.b",    "a.>",   ">",
                                             "*", "a.*.c", "*.*.*", "$sys.>", "$sys.*"};
  for (std::size_t i = 0; i < patterns.size(); ++i) index.add(patterns[i], i + 1, std::nullopt);
  const auto ids = [&](std::initializer_list<const char*> names) {
    std::multiset<SessionId> out;
    for (const char* n : names) {
      out.insert(static_cast<SessionId>(std::find(patterns.begin(), patterns.end(), n) -
                                        patterns.begin() + 1));
    }
    return out;
  };
  CHECK(plain_matches(index, "a") == ids({"a", ">", "*"}));
  CHECK(plain_matches(index, "a.b") == ids({"a.b", "a.*", "*.b", "a.>", ">"}));
  CHECK(plain_matches(index, "a.x.c") == ids({"a.>", ">", "a.*.c", "*.*.*"}));
  CHECK(plain_matches(index, "q.b") == ids({"*.b", ">"}));
  CHECK(plain_matches(index, "a.b.c.d") == ids({"a.>", ">"}));
  CHECK(plain_matches(index, "$sys.x") == ids({"$sys.>", "$sys.*"}));  // no first-token wildcard
  CHECK(plain_matches(index, "$sys.x.y") == ids({"$sys.>"}));
}

TEST_CASE("removal frees trie nodes, and unknown removals change nothing", "[index]") {
  SubscriptionIndex index;
  CHECK(index.node_count() == 1);
  for (int round = 0; round < 3; ++round) {
    for (SessionId id = 1; id <= 50; ++id) {
      index.add("x." + std::to_string(id) + ".*.>", id, std::nullopt);
      index.add("x.*", id, std::string("g"));
    }
    for (SessionId id = 1; id <= 50; ++id) {
      index.remove("x." + std::to_string(id) + ".*.>", id, std::nullopt);
      index.remove("x.*", id, std::string("g"));
    }
    CHECK(index.node_count() == 1);
  }
  index.remove("never.added", 1, std::nullopt);
  index.remove(">", 1, std::string("g"));
  CHECK(index.node_count() == 1);
}

TEST_CASE("a queue group hands out turns round robin and keeps the cursor on removal",
          "[index][groups]") {
  SubscriptionIndex index;
  for (SessionId id = 1; id <= 3; ++id) index.add("jobs.*", id, std::string("g"));
  index.add("jobs.*", 9, std::nullopt);
  std::vector<SessionId> picks;
  int plain = 0;
  const auto publish = [&] {
    index.match(
        "jobs.x", [&](SessionId) { ++plain; },
        [&](SubscriptionIndex::Group& g) {
          picks.push_back(g.members[g.next]);
          g.next = (g.next + 1) % g.members.size();
        });
  };
  for (int i = 0; i < 6; ++i) publish();
  CHECK(picks == std::vector<SessionId>{1, 2, 3, 1, 2, 3});
  CHECK(plain == 6);
  picks.clear();
  publish();  // 1's turn
  index.remove("jobs.*", 1, std::string("g"));
  publish();
  publish();
  CHECK(picks == std::vector<SessionId>{1, 2, 3});
  index.remove("jobs.*", 3, std::string("g"));
  picks.clear();
  publish();
  publish();
  CHECK(picks == std::vector<SessionId>{2, 2});
}
