// The hub with fake peers: names, delivery rules, groups, rooms, history, tell, limits.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "fake_peer.hpp"
#include "hub.hpp"

using namespace parley::server;
using parley::test::FakePeer;
using json = nlohmann::json;
using parley::protocol::ErrorCode;

namespace {

struct Bench {
  explicit Bench(HubLimits limits = {}) : hub(limits) {}
  SessionId add(const std::string& name = "") {
    peers.push_back(std::make_unique<FakePeer>());
    const SessionId id = hub.connect(*peers.back());
    if (!name.empty()) REQUIRE_FALSE(hub.greet(id, name, true));
    ids.push_back(id);
    return id;
  }
  FakePeer& peer(SessionId id) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == id) return *peers[i];
    }
    throw std::logic_error("no such peer");
  }
  std::uint64_t pub(SessionId from, const std::string& topic, const std::string& data = "1") {
    return hub.publish(from, topic, data, std::nullopt, 1000);
  }
  Hub hub;
  std::vector<std::unique_ptr<FakePeer>> peers;
  std::vector<SessionId> ids;
};

}  // namespace

TEST_CASE("guest names, renames and case-insensitive uniqueness", "[hub][names]") {
  Bench b;
  const SessionId a = b.add();
  const SessionId c = b.add();
  CHECK(b.hub.name_of(a) == "guest-1");
  CHECK(b.hub.name_of(c) == "guest-2");
  CHECK_FALSE(b.hub.greet(a, std::string("Alice"), true));
  CHECK(b.hub.name_of(a) == "Alice");
  const auto taken = b.hub.greet(c, std::string("aLICE"), true);
  REQUIRE(taken);
  CHECK(taken->code == ErrorCode::name_taken);
  CHECK_FALSE(b.hub.greet(c, std::nullopt, true));  // keeps guest-2
  CHECK(b.hub.name_of(c) == "guest-2");
  b.hub.disconnect(a);
  CHECK_FALSE(b.hub.greet(c, std::string("alice"), true));
}

TEST_CASE("wildcards, at-most-once and echo", "[hub][delivery]") {
  Bench b;
  const SessionId s = b.add("s");
  const SessionId quiet = b.add();
  REQUIRE_FALSE(b.hub.greet(quiet, std::string("quiet"), false));
  for (const char* p : {"a.*", "a.>", ">", "a.b"})
    REQUIRE_FALSE(b.hub.subscribe(s, p, std::nullopt));
  JoinView view;
  REQUIRE_FALSE(b.hub.join(s, "a.b", 0, std::nullopt, view));
  REQUIRE_FALSE(b.hub.subscribe(quiet, "a.b", std::nullopt));
  CHECK(b.pub(s, "a.b") == 1);
  CHECK(b.peer(s).take().size() == 1);  // once, echo on
  CHECK(b.peer(quiet).take().size() == 1);
  b.pub(quiet, "a.b", "\"mine\"");
  CHECK(b.peer(quiet).take().empty());  // echo off
  const auto got = b.peer(s).take();
  REQUIRE(got.size() == 1);
  CHECK(got[0] == json{{"op", "msg"},
                       {"topic", "a.b"},
                       {"from", "quiet"},
                       {"data", "mine"},
                       {"seq", 2},
                       {"ts", 1000}});
  CHECK(b.hub.counters().msgs_in == 2);
  CHECK(b.hub.counters().msgs_out == 3);
}

TEST_CASE("reply passes through and seq counts per topic", "[hub][delivery]") {
  Bench b;
  const SessionId s = b.add("s");
  REQUIRE_FALSE(b.hub.subscribe(s, ">", std::nullopt));
  b.hub.publish(s, "x", "1", std::string_view("in.s"), 5);
  b.pub(s, "x");
  b.pub(s, "y");
  const auto got = b.peer(s).take();
  REQUIRE(got.size() == 3);
  CHECK(got[0]["reply"] == "in.s");
  CHECK(got[1]["seq"] == 2);
  CHECK_FALSE(got[1].contains("reply"));
  CHECK(got[2]["seq"] == 1);
}

TEST_CASE("queue groups: one member per message, in turn, echo-off publisher skipped",
          "[hub][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId other = b.add("other");
  const SessionId boss = b.add();
  REQUIRE_FALSE(b.hub.greet(boss, std::string("boss"), false));
  for (SessionId w : {w1, w2, boss}) REQUIRE_FALSE(b.hub.subscribe(w, "jobs", std::string("g")));
  REQUIRE_FALSE(b.hub.subscribe(other, "jobs", std::string("h")));
  for (int i = 0; i < 6; ++i) b.pub(boss, "jobs");
  CHECK(b.peer(w1).take().size() == 3);
  CHECK(b.peer(w2).take().size() == 3);
  CHECK(b.peer(boss).take().empty());
  CHECK(b.peer(other).take().size() == 6);
  // Re-subscribing replaces the group; unsub removes it whatever the group.
  REQUIRE_FALSE(b.hub.subscribe(w2, "jobs", std::nullopt));
  for (int i = 0; i < 2; ++i) b.pub(boss, "jobs");
  CHECK(b.peer(w1).take().size() == 2);
  CHECK(b.peer(w2).take().size() == 2);
  REQUIRE_FALSE(b.hub.unsubscribe(w2, "jobs"));
  CHECK(b.hub.unsubscribe(w2, "jobs")->code == ErrorCode::not_subscribed);
}

TEST_CASE("rooms: presence, sorted members, harmless rejoin, leave", "[hub][rooms]") {
  Bench b;
  const SessionId zed = b.add("zed");
  const SessionId amy = b.add("Amy");
  JoinView view;
  REQUIRE_FALSE(b.hub.join(zed, "r", 0, std::nullopt, view));
  REQUIRE_FALSE(b.hub.join(amy, "r", 0, std::nullopt, view));
  CHECK(view.members == std::vector<std::string>{"Amy", "zed"});
  CHECK(
      b.peer(zed).take() ==
      std::vector<json>{{{"op", "presence"}, {"topic", "r"}, {"name", "Amy"}, {"state", "join"}}});
  CHECK(b.peer(amy).take().empty());
  REQUIRE_FALSE(b.hub.join(amy, "r", 0, std::nullopt, view));
  CHECK(b.peer(zed).take().empty());
  CHECK(b.hub.who("r") == std::vector<std::string>{"Amy", "zed"});
  CHECK(b.hub.who("nobody").empty());
  REQUIRE_FALSE(b.hub.leave(amy, "r"));
  CHECK(b.peer(zed).take().size() == 1);
  CHECK(b.hub.leave(amy, "r")->code == ErrorCode::not_joined);
  REQUIRE_FALSE(b.hub.subscribe(amy, "s", std::nullopt));
  CHECK(b.hub.leave(amy, "s")->code == ErrorCode::not_joined);
}

TEST_CASE("disconnect announces leave unless the server is shutting down", "[hub][rooms]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  const SessionId d = b.add("d");
  JoinView view;
  for (SessionId s : {a, c, d}) REQUIRE_FALSE(b.hub.join(s, "r", 0, std::nullopt, view));
  b.peer(a).take();
  b.hub.disconnect(c);
  CHECK(b.peer(a).take() ==
        std::vector<json>{{{"op", "presence"}, {"topic", "r"}, {"name", "c"}, {"state", "leave"}}});
  b.hub.disconnect(d, false);
  CHECK(b.peer(a).take().empty());
  CHECK(b.hub.who("r") == std::vector<std::string>{"a"});
  CHECK(b.hub.session_count() == 1);
}

TEST_CASE("join history and since", "[hub][history]") {
  Bench b(HubLimits{1000, 4, 1 << 20});
  const SessionId p = b.add("p");
  const SessionId r = b.add("r");
  for (int i = 1; i <= 3; ++i) b.pub(p, "t", std::to_string(i));
  JoinView view;
  REQUIRE_FALSE(b.hub.join(r, "t", 2, std::nullopt, view));
  REQUIRE(view.history.size() == 2);
  CHECK(json::parse(view.history[0])["seq"] == 2);
  CHECK_FALSE(view.recovered);
  REQUIRE_FALSE(b.hub.join(r, "t", 0, 3, view));
  CHECK(view.history.empty());
  CHECK(view.recovered == true);
  REQUIRE_FALSE(b.hub.join(r, "t", 0, 0, view));
  CHECK(view.history.size() == 3);
  CHECK(view.recovered == true);
  REQUIRE_FALSE(b.hub.join(r, "t", 0, 9, view));
  CHECK(view.recovered == false);
  for (int i = 4; i <= 8; ++i) b.pub(p, "t", std::to_string(i));  // keeps 5..8
  REQUIRE_FALSE(b.hub.join(r, "t", 0, 3, view));
  CHECK(view.recovered == false);
  CHECK(view.history.size() == 4);
  REQUIRE_FALSE(b.hub.join(r, "t", 0, 4, view));
  CHECK(view.recovered == true);
  REQUIRE_FALSE(b.hub.join(r, "fresh", 0, 0, view));
  CHECK(view.recovered == true);
}

TEST_CASE("history with limit and before", "[hub][history]") {
  Bench b;
  const SessionId p = b.add("p");
  for (int i = 1; i <= 10; ++i) b.pub(p, "t", std::to_string(i));
  const auto seqs = [](const std::vector<std::string_view>& lines) {
    std::vector<int> out;
    for (auto line : lines) out.push_back(json::parse(line)["seq"]);
    return out;
  };
  CHECK(seqs(b.hub.history("t", 3, std::nullopt)) == std::vector<int>{8, 9, 10});
  CHECK(seqs(b.hub.history("t", 3, 5)) == std::vector<int>{2, 3, 4});
  CHECK(seqs(b.hub.history("t", 50, 2)) == std::vector<int>{1});
  CHECK(b.hub.history("t", 50, 1).empty());
  CHECK(b.hub.history("unknown", 50, std::nullopt).empty());
}

TEST_CASE("topics: members or history, sorted, pattern, no $ topics", "[hub][topics]") {
  Bench b;
  const SessionId a = b.add("a");
  JoinView view;
  REQUIRE_FALSE(b.hub.join(a, "zeta", 0, std::nullopt, view));
  b.pub(a, "alpha");
  b.pub(a, "alpha");
  REQUIRE_FALSE(b.hub.subscribe(a, "only.sub", std::nullopt));
  const auto all = b.hub.topics(std::nullopt);
  REQUIRE(all.size() == 2);
  CHECK(all[0].topic == "alpha");
  CHECK(all[0].seq == 2);
  CHECK(all[0].members == 0);
  CHECK(all[1].topic == "zeta");
  CHECK(all[1].seq == 0);
  CHECK(b.hub.topics(std::string("z*")).empty());
  CHECK(b.hub.topics(std::string("*")).size() == 2);
  CHECK(b.hub.topic_count() == 2);
}

TEST_CASE("tell: by folded name, to as registered, self once, no_such_user", "[hub][tell]") {
  Bench b;
  const SessionId bob = b.add("Bob");
  const SessionId amy = b.add("amy");
  REQUIRE_FALSE(b.hub.tell(amy, "BOB", "\"hi\"", 7));
  CHECK(b.peer(bob).take() ==
        std::vector<json>{
            {{"op", "msg"}, {"to", "Bob"}, {"from", "amy"}, {"data", "hi"}, {"ts", 7}}});
  CHECK(b.peer(amy).take().empty());
  REQUIRE_FALSE(b.hub.tell(amy, "amy", "1", 7));
  CHECK(b.peer(amy).take().size() == 1);
  CHECK(b.hub.tell(amy, "nobody", "1", 7)->code == ErrorCode::no_such_user);
}

TEST_CASE("max_subs counts patterns and joins and a refused peer counts no delivery",
          "[hub][limits]") {
  Bench b(HubLimits{2, 100, 1 << 20});
  const SessionId s = b.add("s");
  JoinView view;
  REQUIRE_FALSE(b.hub.subscribe(s, "a", std::nullopt));
  REQUIRE_FALSE(b.hub.join(s, "a", 0, std::nullopt, view));
  CHECK(b.hub.subscribe(s, "b", std::nullopt)->code == ErrorCode::too_many_subscriptions);
  CHECK(b.hub.join(s, "b", 0, std::nullopt, view)->code == ErrorCode::too_many_subscriptions);
  CHECK_FALSE(b.hub.subscribe(s, "a", std::string("g")));  // replacing is not adding
  CHECK_FALSE(b.hub.join(s, "a", 0, std::nullopt, view));  // nor is joining again
  CHECK(b.hub.subscription_count() == 2);
  b.peer(s).refuse = true;
  b.pub(s, "a");
  CHECK(b.hub.counters().msgs_out == 0);
}
