// The hub with fake peers: names, delivery rules, queue groups, rooms, history, topics,
// tell, disconnects, limits and counters.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fake_peer.hpp"
#include "hub.hpp"

using namespace parley::server;
using parley::protocol::ErrorCode;
using parley::test::FakePeer;
using json = nlohmann::json;
using Names = std::vector<std::string>;
using Seqs = std::vector<std::uint64_t>;

namespace {

// What join returned, parsed at once (JoinView's history lines live only until the next
// hub call).
struct Joined {
  Names members;
  std::vector<json> history;
  std::optional<bool> recovered;
  std::string epoch;
  bool more = false;
  Seqs seqs() const {
    Seqs out;
    for (const auto& m : history) out.push_back(m.at("seq").get<std::uint64_t>());
    return out;
  }
};

Seqs seqs_of(const std::vector<json>& frames) {
  Seqs out;
  for (const auto& f : frames) out.push_back(f.at("seq").get<std::uint64_t>());
  return out;
}

Seqs seqs_of(const std::vector<std::string_view>& lines) {
  Seqs out;
  for (auto line : lines) out.push_back(json::parse(line).at("seq").get<std::uint64_t>());
  return out;
}

json presence(const std::string& topic, const std::string& name, const std::string& state) {
  return {{"op", "presence"}, {"topic", topic}, {"name", name}, {"state", state}};
}

struct Bench {
  explicit Bench(HubLimits limits = {}) : hub(limits, "b00t") {}

  // Connects a fake peer; greets it when a name is given or echo is off.
  SessionId add(const std::string& name = "", bool echo = true) {
    peers.push_back(std::make_unique<FakePeer>());
    const SessionId id = hub.connect(*peers.back());
    ids.push_back(id);
    if (!name.empty() || !echo) {
      const auto name_arg = name.empty() ? std::nullopt : std::optional<std::string>(name);
      REQUIRE_FALSE(hub.greet(id, name_arg, echo));
    }
    return id;
  }
  FakePeer& peer(SessionId id) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == id) return *peers[i];
    }
    throw std::logic_error("no such peer");
  }
  std::uint64_t pub(SessionId from, const std::string& topic, const std::string& data = "1",
                    std::int64_t ts = 1000) {
    return hub.publish(from, topic, data, std::nullopt, ts);
  }
  void sub(SessionId id, const std::string& pattern,
           const std::optional<std::string>& group = std::nullopt) {
    REQUIRE_FALSE(hub.subscribe(id, pattern, group));
  }
  Joined join(SessionId id, const std::string& topic, int history = 0,
              std::optional<std::uint64_t> since = std::nullopt,
              const std::optional<std::string>& epoch = std::nullopt) {
    JoinView view;
    REQUIRE_FALSE(hub.join(id, topic, history, since, epoch, view));
    Joined out{view.members, {}, view.recovered, view.history.epoch, view.history.more};
    for (auto line : view.history.messages) out.history.push_back(json::parse(line));
    return out;
  }
  // How many frames each of `who` has received, each list then forgotten.
  std::vector<std::size_t> counts(std::initializer_list<SessionId> who) {
    std::vector<std::size_t> out;
    for (SessionId id : who) out.push_back(peer(id).take().size());
    return out;
  }

  Hub hub;
  std::vector<std::unique_ptr<FakePeer>> peers;
  std::vector<SessionId> ids;
};

}  // namespace

// ---------------------------------------------------------------------------------- names

TEST_CASE("sessions start as guest-N, numbered in connection order, never reused", "[hub][names]") {
  Bench b;
  const SessionId a = b.add();
  const SessionId c = b.add();
  CHECK(a != c);
  CHECK(b.hub.contains(a));
  CHECK(b.hub.name_of(a) == "guest-1");
  CHECK(b.hub.name_of(c) == "guest-2");
  b.hub.disconnect(a);
  CHECK_FALSE(b.hub.contains(a));
  const SessionId d = b.add();
  CHECK(d != a);
  CHECK(b.hub.name_of(d) == "guest-3");
  CHECK(b.hub.session_count() == 2);
  CHECK(b.hub.counters().sessions_total == 3);
  CHECK_THROWS_AS(b.hub.name_of(a), std::logic_error);
}

TEST_CASE("greet renames, keeps the guest name without one, and sets echo", "[hub][names]") {
  Bench b;
  const SessionId a = b.add();
  CHECK_FALSE(b.hub.greet(a, std::nullopt, false));
  CHECK(b.hub.name_of(a) == "guest-1");
  b.sub(a, "t");
  b.pub(a, "t");
  CHECK(b.peer(a).take().empty());  // echo is off
  CHECK_FALSE(b.hub.greet(a, std::string("Alice"), true));
  CHECK(b.hub.name_of(a) == "Alice");
  b.pub(a, "t");
  const auto got = b.peer(a).take();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["from"] == "Alice");
}

TEST_CASE("names are unique case-insensitively and spelled as given", "[hub][names]") {
  Bench b;
  const SessionId a = b.add("Alice");
  const SessionId c = b.add();
  for (const char* other : {"alice", "ALICE", "aLiCe", "Alice"}) {
    const Status taken = b.hub.greet(c, std::string(other), true);
    REQUIRE(taken);
    CHECK(taken->code == ErrorCode::name_taken);
    CHECK_FALSE(taken->message.empty());
    CHECK(b.hub.name_of(c) == "guest-2");  // a refused greet changes nothing
  }
  // The owner may change the case of its own name.
  CHECK_FALSE(b.hub.greet(a, std::string("ALICE"), true));
  CHECK(b.hub.name_of(a) == "ALICE");
  // Guest names are taken too.
  CHECK(b.hub.greet(a, std::string("GUEST-2"), true)->code == ErrorCode::name_taken);
  // Names differing in more than case are distinct.
  CHECK_FALSE(b.hub.greet(c, std::string("Alice_"), true));
}

TEST_CASE("a name is freed by a rename and by a disconnect", "[hub][names]") {
  Bench b;
  const SessionId a = b.add("alice");
  const SessionId c = b.add();
  const SessionId d = b.add();
  REQUIRE_FALSE(b.hub.greet(a, std::string("bob"), true));
  CHECK_FALSE(b.hub.greet(c, std::string("Alice"), true));
  b.hub.disconnect(c);
  CHECK_FALSE(b.hub.greet(d, std::string("ALICE"), true));
  CHECK(b.hub.name_of(d) == "ALICE");
  CHECK(b.hub.tell(a, "guest-2", "1", 1)->code == ErrorCode::no_such_user);  // c's old name
}

// -------------------------------------------------------------------------- subscriptions

TEST_CASE("sub and unsub: the exact pattern, not_subscribed, whatever the group", "[hub][subs]") {
  Bench b;
  const SessionId s = b.add("s");
  b.sub(s, "a.*");
  b.sub(s, "b", std::string("g"));
  CHECK(b.hub.patterns_of(s) == Names{"a.*", "b"});
  CHECK(b.hub.subscription_count() == 2);
  const Status other = b.hub.unsubscribe(s, "a.>");  // matches the same topics, other pattern
  REQUIRE(other);
  CHECK(other->code == ErrorCode::not_subscribed);
  CHECK_FALSE(other->message.empty());
  CHECK(b.hub.unsubscribe(s, "a.x")->code == ErrorCode::not_subscribed);
  CHECK_FALSE(b.hub.unsubscribe(s, "b"));  // group or not
  CHECK_FALSE(b.hub.unsubscribe(s, "a.*"));
  CHECK(b.hub.unsubscribe(s, "a.*")->code == ErrorCode::not_subscribed);
  CHECK(b.hub.patterns_of(s).empty());
  CHECK(b.hub.subscription_count() == 0);
  CHECK(b.hub.index().node_count() == 1);
  b.pub(s, "a.x");
  b.pub(s, "b");
  CHECK(b.peer(s).take().empty());
}

TEST_CASE("a second sub to a pattern replaces its group", "[hub][subs][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId p = b.add("p");
  b.sub(w1, "jobs", std::string("g"));
  b.sub(w2, "jobs", std::string("g"));
  SECTION("from a group to plain: w2 now gets everything, w1 every g turn") {
    b.sub(w2, "jobs");
    for (int i = 0; i < 4; ++i) b.pub(p, "jobs");
    CHECK(b.counts({w1, w2}) == std::vector<std::size_t>{4, 4});
  }
  SECTION("from one group to another: each group is served alone") {
    b.sub(w2, "jobs", std::string("h"));
    for (int i = 0; i < 4; ++i) b.pub(p, "jobs");
    CHECK(b.counts({w1, w2}) == std::vector<std::size_t>{4, 4});
  }
  SECTION("the same group again: still shared") {
    b.sub(w2, "jobs", std::string("g"));
    for (int i = 0; i < 4; ++i) b.pub(p, "jobs");
    CHECK(b.counts({w1, w2}) == std::vector<std::size_t>{2, 2});
  }
  CHECK(b.hub.subscription_count() == 2);
  CHECK(b.hub.patterns_of(w2) == Names{"jobs"});
}

TEST_CASE("a session gets a message at most once however many subs and joins match",
          "[hub][delivery]") {
  Bench b;
  const SessionId s = b.add("s");
  const SessionId other = b.add("other");
  for (const char* p : {"a.*", "a.>", ">", "a.b", "*.b", "*.*"}) b.sub(s, p);
  b.sub(s, "a.b.>");  // does not match
  b.join(s, "a.b");
  b.sub(other, "a.b", std::string("g"));
  b.join(other, "a.b");
  b.peer(s).take();  // other's presence
  CHECK(b.pub(s, "a.b") == 1);
  CHECK(b.pub(other, "a.b") == 2);
  CHECK(seqs_of(b.peer(s).take()) == Seqs{1, 2});
  CHECK(seqs_of(b.peer(other).take()) == Seqs{1, 2});
  CHECK(b.hub.counters().msgs_out == 4);
}

TEST_CASE("with echo off a publisher gets none of its own messages, others do", "[hub][delivery]") {
  Bench b;
  const SessionId quiet = b.add("quiet", false);
  const SessionId loud = b.add("loud");
  for (SessionId s : {quiet, loud}) {
    b.sub(s, "t");
    b.sub(s, ">");
    b.join(s, "t");
  }
  b.peer(quiet).take();
  b.pub(quiet, "t");
  b.pub(loud, "t");
  CHECK(b.peer(quiet).take().size() == 1);  // loud's
  CHECK(b.peer(loud).take().size() == 2);   // both, its own included
}

TEST_CASE("msg frames: seq per topic from 1, ts, from, data as given, reply passed through",
          "[hub][delivery]") {
  Bench b;
  const SessionId s = b.add("sender");
  b.sub(s, ">");
  CHECK(b.pub(s, "x", R"({"k":[1,2,{"n":null}],"s":"a\"b"})", 1700000000123) == 1);
  CHECK(b.hub.publish(s, "x", "\"two\"", std::string_view("inbox.sender"), 5) == 2);
  CHECK(b.pub(s, "y", "3") == 1);
  CHECK(b.pub(s, "x.y", "4") == 1);
  CHECK(b.pub(s, "x", "5") == 3);
  const auto got = b.peer(s).take();
  REQUIRE(got.size() == 5);
  CHECK(got[0] == json{{"op", "msg"},
                       {"topic", "x"},
                       {"from", "sender"},
                       {"data", {{"k", {1, 2, {{"n", nullptr}}}}, {"s", "a\"b"}}},
                       {"seq", 1},
                       {"ts", 1700000000123}});
  CHECK_FALSE(got[0].contains("reply"));
  CHECK(got[1] == json{{"op", "msg"},
                       {"topic", "x"},
                       {"from", "sender"},
                       {"data", "two"},
                       {"seq", 2},
                       {"ts", 5},
                       {"reply", "inbox.sender"}});
  CHECK(got[2]["topic"] == "y");
  CHECK(got[3]["topic"] == "x.y");
  CHECK(got[4]["seq"] == 3);
}

TEST_CASE("one frame is shared by every recipient", "[hub][delivery]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  b.sub(a, "t");
  b.sub(c, "t");
  b.pub(a, "t");
  REQUIRE(b.peer(a).raw.size() == 1);
  REQUIRE(b.peer(c).raw.size() == 1);
  CHECK(b.peer(a).raw[0] == b.peer(c).raw[0]);
}

// ---------------------------------------------------------------------------- queue groups

TEST_CASE("a queue group gives each message to exactly one member, in turn", "[hub][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId w3 = b.add("w3");
  const SessionId h = b.add("h");
  const SessionId wide = b.add("wide");
  const SessionId p = b.add("p");
  for (SessionId w : {w1, w2, w3}) b.sub(w, "jobs.*", std::string("g"));
  b.sub(h, "jobs.*", std::string("h"));     // another group on the pattern
  b.sub(wide, "jobs.>", std::string("g"));  // same name, another pattern: another group
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    b.pub(p, "jobs.x", std::to_string(i));
    std::size_t receivers = 0;
    for (SessionId w : {w1, w2, w3}) {
      const auto got = b.peer(w).take();
      if (!got.empty()) order.push_back(b.hub.name_of(w));
      receivers += got.size();
    }
    CHECK(receivers == 1);
    CHECK(b.peer(h).take().size() == 1);
    CHECK(b.peer(wide).take().size() == 1);
  }
  CHECK(order == Names{"w1", "w2", "w3", "w1", "w2", "w3"});
  CHECK(b.hub.counters().msgs_out == 18);
}

TEST_CASE("a queue group skips an echo-off publisher, an echo-on one takes its turn",
          "[hub][groups]") {
  Bench b;
  const SessionId boss = b.add("boss", false);
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  for (SessionId s : {boss, w1, w2}) b.sub(s, "jobs", std::string("g"));
  for (int i = 0; i < 6; ++i) b.pub(boss, "jobs");
  CHECK(b.counts({boss, w1, w2}) == std::vector<std::size_t>{0, 3, 3});
  // Alone in its group with echo off, nobody gets it.
  Bench alone;
  const SessionId only = alone.add("only", false);
  alone.sub(only, "jobs", std::string("g"));
  alone.pub(only, "jobs");
  CHECK(alone.peer(only).take().empty());
  // With echo on the publisher is a member like any other.
  Bench echo;
  const SessionId e = echo.add("e");
  const SessionId f = echo.add("f");
  echo.sub(e, "jobs", std::string("g"));
  echo.sub(f, "jobs", std::string("g"));
  for (int i = 0; i < 4; ++i) echo.pub(e, "jobs");
  CHECK(echo.counts({e, f}) == std::vector<std::size_t>{2, 2});
}

TEST_CASE("plain subscribers of a grouped pattern still get every message", "[hub][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId plain = b.add("plain");
  const SessionId member = b.add("member");
  b.sub(w1, "jobs", std::string("g"));
  b.sub(w2, "jobs", std::string("g"));
  b.sub(plain, "jobs");
  b.join(member, "jobs");
  for (int i = 0; i < 5; ++i) b.pub(plain, "jobs");
  CHECK(b.counts({w1, w2, plain, member}) == std::vector<std::size_t>{3, 2, 5, 5});
}

TEST_CASE("a group member that also matches plainly gets each message once", "[hub][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId p = b.add("p");
  b.sub(w1, "jobs", std::string("g"));
  b.sub(w2, "jobs", std::string("g"));
  b.sub(w1, ">");
  for (int i = 0; i < 4; ++i) b.pub(p, "jobs");
  CHECK(seqs_of(b.peer(w1).take()) == Seqs{1, 2, 3, 4});
  // w1's turns pass without a second copy (docs/protocol.md): w2 gets its own turns only.
  CHECK(seqs_of(b.peer(w2).take()) == Seqs{2, 4});
}

TEST_CASE("members leaving a group hand their turns to the rest, nothing is lost",
          "[hub][groups]") {
  Bench b;
  const SessionId w1 = b.add("w1");
  const SessionId w2 = b.add("w2");
  const SessionId w3 = b.add("w3");
  const SessionId p = b.add("p");
  for (SessionId w : {w1, w2, w3}) b.sub(w, "jobs", std::string("g"));
  b.pub(p, "jobs");  // w1
  SECTION("by unsub") {
    REQUIRE_FALSE(b.hub.unsubscribe(w2, "jobs"));
  }
  SECTION("by disconnect") {
    b.hub.disconnect(w2);
  }
  SECTION("by a sub to another group") {
    b.sub(w2, "jobs", std::string("other"));
  }
  for (int i = 0; i < 4; ++i) b.pub(p, "jobs");  // w3, w1, w3, w1
  CHECK(seqs_of(b.peer(w1).take()) == Seqs{1, 3, 5});
  CHECK(seqs_of(b.peer(w3).take()) == Seqs{2, 4});
}

// ---------------------------------------------------------------------------------- rooms

TEST_CASE("join: the others get presence join, the joiner none, members sorted by bytes",
          "[hub][rooms]") {
  Bench b;
  const SessionId bob = b.add("bob");
  const SessionId zed = b.add("Zed");
  const SessionId under = b.add("_x");
  const SessionId nine = b.add("9a");
  const SessionId alice = b.add("Alice");
  const SessionId outsider = b.add("outsider");
  b.sub(outsider, ">");
  CHECK(b.join(bob, "r").members == Names{"bob"});
  CHECK(b.join(zed, "r").members == Names{"Zed", "bob"});
  CHECK(b.peer(bob).take() == std::vector<json>{presence("r", "Zed", "join")});
  CHECK(b.peer(zed).take().empty());
  b.join(under, "r");
  b.join(nine, "r");
  const Joined last = b.join(alice, "r");
  CHECK(last.members == Names{"9a", "Alice", "Zed", "_x", "bob"});
  CHECK(last.history.empty());
  CHECK_FALSE(last.recovered);
  CHECK(b.peer(bob).take() == std::vector<json>{presence("r", "_x", "join"),
                                                presence("r", "9a", "join"),
                                                presence("r", "Alice", "join")});
  CHECK(b.peer(alice).take().empty());
  CHECK(b.peer(outsider).take().empty());  // presence goes to members only
  CHECK(b.hub.who("r") == Names{"9a", "Alice", "Zed", "_x", "bob"});
  CHECK(b.hub.rooms_of(alice) == Names{"r"});
}

TEST_CASE("joining twice is harmless and announces nothing", "[hub][rooms]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  b.join(a, "r");
  b.join(c, "r");
  b.peer(a).take();
  const Joined again = b.join(c, "r");
  CHECK(again.members == Names{"a", "c"});
  CHECK(b.peer(a).take().empty());
  CHECK(b.peer(c).take().empty());
  CHECK(b.hub.subscription_count() == 2);
  CHECK(b.hub.rooms_of(c) == Names{"r"});
  b.pub(a, "r");
  CHECK(b.peer(c).take().size() == 1);  // and still once per message
}

TEST_CASE("leave: presence leave to the others, join and sub are separate", "[hub][rooms]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  b.join(a, "r");
  b.join(c, "r");
  b.peer(a).take();
  CHECK_FALSE(b.hub.leave(c, "r"));
  CHECK(b.peer(a).take() == std::vector<json>{presence("r", "c", "leave")});
  CHECK(b.peer(c).take().empty());
  CHECK(b.hub.who("r") == Names{"a"});
  b.pub(a, "r");
  CHECK(b.peer(c).take().empty());  // no longer a member
  CHECK(b.peer(a).take().size() == 1);
  const Status again = b.hub.leave(c, "r");
  REQUIRE(again);
  CHECK(again->code == ErrorCode::not_joined);
  CHECK_FALSE(again->message.empty());
  CHECK(b.hub.leave(c, "never")->code == ErrorCode::not_joined);
  // A sub is not a join and a join is not a sub.
  b.sub(c, "s");
  CHECK(b.hub.leave(c, "s")->code == ErrorCode::not_joined);
  CHECK(b.hub.unsubscribe(a, "r")->code == ErrorCode::not_subscribed);
  CHECK(b.hub.rooms_of(a) == Names{"r"});
  // The last member leaving sends nothing to anyone.
  CHECK_FALSE(b.hub.leave(a, "r"));
  CHECK(b.peer(a).take().empty());
  CHECK(b.hub.who("r").empty());
}

TEST_CASE("who lists a topic's members, sorted, empty when none", "[hub][rooms]") {
  Bench b;
  const SessionId a = b.add("b-second");
  const SessionId c = b.add("a-first");
  CHECK(b.hub.who("r").empty());
  b.sub(a, "r");
  CHECK(b.hub.who("r").empty());  // subscribers are not members
  b.join(a, "r");
  b.join(c, "r");
  CHECK(b.hub.who("r") == Names{"a-first", "b-second"});
  REQUIRE_FALSE(b.hub.greet(c, std::string("z-renamed"), true));
  CHECK(b.hub.who("r") == Names{"b-second", "z-renamed"});
  CHECK(b.hub.who("other").empty());
}

// -------------------------------------------------------------------------------- history

TEST_CASE("join history: the newest N, oldest first, at most what is retained", "[hub][history]") {
  Bench b(HubLimits{1000, 5, 1 << 20});
  const SessionId p = b.add("p");
  const SessionId r = b.add("r");
  for (int i = 1; i <= 8; ++i) b.pub(p, "t", std::to_string(i));  // keeps 4..8
  CHECK(b.join(r, "t", 0).history.empty());
  CHECK(b.join(r, "t", 1).seqs() == Seqs{8});
  CHECK(b.join(r, "t", 3).seqs() == Seqs{6, 7, 8});
  CHECK(b.join(r, "t", 5).seqs() == Seqs{4, 5, 6, 7, 8});
  CHECK(b.join(r, "t", 1000).seqs() == Seqs{4, 5, 6, 7, 8});
  const Joined j = b.join(r, "t", 2);
  CHECK(j.history[1] ==
        json{{"op", "msg"}, {"topic", "t"}, {"from", "p"}, {"data", 8}, {"seq", 8}, {"ts", 1000}});
  CHECK_FALSE(j.recovered);
  CHECK(b.join(r, "fresh", 10).history.empty());
  CHECK(b.peer(r).take().empty());  // replays are not live messages
  CHECK(b.hub.counters().msgs_out == 0);
}

TEST_CASE("join since: history after since, recovered in every case", "[hub][history]") {
  Bench b(HubLimits{1000, 4, 1 << 20});
  const SessionId p = b.add("p");
  const SessionId r = b.add("r");
  SECTION("a topic nobody published to, since 0: nothing missed") {
    const Joined j = b.join(r, "t", 0, 0);
    CHECK(j.history.empty());
    CHECK(j.recovered == true);
  }
  SECTION("a topic nobody published to, since beyond: history lost") {
    const Joined j = b.join(r, "t", 0, 1);
    CHECK(j.history.empty());
    CHECK(j.recovered == false);
  }
  SECTION("nothing published since") {
    for (int i = 0; i < 3; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 5, 3);
    CHECK(j.history.empty());
    CHECK(j.recovered == true);
  }
  SECTION("since beyond the last seq") {
    for (int i = 0; i < 3; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 5, 4);
    CHECK(j.history.empty());
    CHECK(j.recovered == false);
  }
  SECTION("everything since is retained; the history field does not limit it") {
    for (int i = 0; i < 3; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 1, 0);
    CHECK(j.seqs() == Seqs{1, 2, 3});
    CHECK(j.recovered == true);
    CHECK(b.join(r, "t", 0, 1).seqs() == Seqs{2, 3});
  }
  SECTION("the oldest retained is exactly since + 1") {
    for (int i = 0; i < 7; ++i) b.pub(p, "t");  // keeps 4..7
    const Joined j = b.join(r, "t", 0, 3);
    CHECK(j.seqs() == Seqs{4, 5, 6, 7});
    CHECK(j.recovered == true);
  }
  SECTION("the oldest retained is since + 2: one was evicted") {
    for (int i = 0; i < 7; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 0, 2);
    CHECK(j.seqs() == Seqs{4, 5, 6, 7});
    CHECK(j.recovered == false);
  }
  SECTION("since 0 after eviction") {
    for (int i = 0; i < 7; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 0, 0);
    CHECK(j.seqs() == Seqs{4, 5, 6, 7});
    CHECK(j.recovered == false);
  }
  SECTION("a second join with since (already a member) answers the same way") {
    b.join(r, "t");
    for (int i = 0; i < 3; ++i) b.pub(p, "t");
    const Joined j = b.join(r, "t", 0, 2);
    CHECK(j.seqs() == Seqs{3});
    CHECK(j.recovered == true);
  }
  SECTION("without since there is no recovered, even in a reused view") {
    JoinView view;
    REQUIRE_FALSE(b.hub.join(r, "t", 0, 5, std::nullopt, view));
    REQUIRE(view.recovered == false);
    REQUIRE_FALSE(b.hub.join(r, "t", 0, std::nullopt, std::nullopt, view));
    CHECK_FALSE(view.recovered.has_value());
  }
}

TEST_CASE("join since with history off: recovered only when nothing was missed", "[hub][history]") {
  Bench b(HubLimits{1000, 0, 1 << 20});
  const SessionId p = b.add("p");
  const SessionId r = b.add("r");
  b.join(p, "t");
  b.pub(p, "t");
  b.pub(p, "t");
  CHECK(b.join(r, "t", 0, 2).recovered == true);
  const Joined j = b.join(r, "t", 0, 1);
  CHECK(j.history.empty());
  CHECK(j.recovered == false);
}

TEST_CASE("history: the newest limit before a seq, oldest first", "[hub][history]") {
  Bench b;
  const SessionId p = b.add("p");
  for (int i = 1; i <= 10; ++i) b.pub(p, "t", std::to_string(i));
  CHECK(seqs_of(b.hub.history("t", 3, std::nullopt).messages) == Seqs{8, 9, 10});
  CHECK(seqs_of(b.hub.history("t", 50, std::nullopt).messages).size() == 10);
  CHECK(seqs_of(b.hub.history("t", 1, std::nullopt).messages) == Seqs{10});
  CHECK(seqs_of(b.hub.history("t", 3, 5).messages) == Seqs{2, 3, 4});
  CHECK(seqs_of(b.hub.history("t", 50, 3).messages) == Seqs{1, 2});
  CHECK(seqs_of(b.hub.history("t", 3, 11).messages) == Seqs{8, 9, 10});
  CHECK(seqs_of(b.hub.history("t", 3, 1000).messages) == Seqs{8, 9, 10});
  CHECK(b.hub.history("t", 50, 1).messages.empty());
  CHECK(b.hub.history("t", 50, 0).messages.empty());
  CHECK(b.hub.history("unknown", 50, std::nullopt).messages.empty());
  const auto lines = b.hub.history("t", 1, std::nullopt).messages;
  REQUIRE(lines.size() == 1);
  CHECK(
      json::parse(lines[0]) ==
      json{{"op", "msg"}, {"topic", "t"}, {"from", "p"}, {"data", 10}, {"seq", 10}, {"ts", 1000}});
  CHECK(lines[0].back() == '}');  // a line without its '\n'
}

TEST_CASE("history keeps per-topic caps and the global byte budget, LRU first",
          "[hub][history][budget]") {
  Bench b(HubLimits{1000, 3, 4000});
  const SessionId p = b.add("p");
  b.join(p, "room");
  for (int i = 0; i < 5; ++i) b.pub(p, "room");
  CHECK(seqs_of(b.hub.history("room", 50, std::nullopt).messages) == Seqs{3, 4, 5});
  const std::string big(200, 'x');
  for (int i = 0; i < 30; ++i) {
    b.pub(p, "t" + std::to_string(i), '"' + big + '"');
    CHECK(b.hub.topic_store().bytes() <= 4000);
  }
  // The room was least recently used: it lost its history, not its record or its seq.
  CHECK(b.hub.history("room", 50, std::nullopt).messages.empty());
  CHECK(b.hub.who("room") == Names{"p"});
  CHECK(b.pub(p, "room") == 6);
  const Joined j = b.join(b.add("late"), "room", 0, 4);
  CHECK(j.recovered == false);  // 5 was evicted
  // Old memberless topics are forgotten, the newest kept.
  CHECK(b.hub.history("t0", 50, std::nullopt).messages.empty());
  CHECK(b.hub.history("t29", 50, std::nullopt).messages.size() == 1);
  const auto listed = b.hub.topics(std::nullopt, 1000, std::nullopt).topics;
  CHECK(listed.size() < 31);
  CHECK(b.hub.topic_count() == listed.size());
}

// --------------------------------------------------------------------------------- topics

TEST_CASE("topics: those with members or history, sorted by bytes, with seq", "[hub][topics]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  CHECK(b.hub.topics(std::nullopt, 1000, std::nullopt).topics.empty());
  b.join(a, "zeta");
  b.join(c, "zeta");
  b.pub(a, "alpha");
  b.pub(a, "alpha");
  b.pub(a, "Beta.x");
  b.sub(a, "only.sub");  // subscribed only: not a topic
  b.join(a, "gone");
  REQUIRE_FALSE(b.hub.leave(a, "gone"));  // no members and no history left
  const auto all = b.hub.topics(std::nullopt, 1000, std::nullopt).topics;
  REQUIRE(all.size() == 3);
  CHECK(all[0].topic == "Beta.x");  // 'B' < 'a' < 'z'
  CHECK(all[0].seq == 1);
  CHECK(all[0].members == 0);
  CHECK(all[1].topic == "alpha");
  CHECK(all[1].seq == 2);
  CHECK(all[2].topic == "zeta");
  CHECK(all[2].seq == 0);  // nothing published
  CHECK(all[2].members == 2);
  CHECK(b.hub.topic_count() == 3);
}

TEST_CASE("topics: a pattern filters, '$' topics are left out", "[hub][topics]") {
  Bench b;
  const SessionId a = b.add("a");
  for (const char* t : {"chat.general", "chat.random", "chat.dev.ops", "news", "$sys.load"})
    b.pub(a, t);
  const auto names = [&](const std::optional<std::string>& pattern) {
    Names out;
    for (const auto& t : b.hub.topics(pattern, 1000, std::nullopt).topics) out.push_back(t.topic);
    return out;
  };
  CHECK(names(std::nullopt) == Names{"chat.dev.ops", "chat.general", "chat.random", "news"});
  CHECK(names(std::string("chat.*")) == Names{"chat.general", "chat.random"});
  CHECK(names(std::string("chat.>")) == Names{"chat.dev.ops", "chat.general", "chat.random"});
  CHECK(names(std::string(">")) == Names{"chat.dev.ops", "chat.general", "chat.random", "news"});
  CHECK(names(std::string("news")) == Names{"news"});
  CHECK(names(std::string("*")) == Names{"news"});
  CHECK(names(std::string("nothing.*")).empty());
  CHECK(names(std::string("$sys.>")).empty());
  CHECK(names(std::string("$sys.load")).empty());
}

// ----------------------------------------------------------------------------------- tell

TEST_CASE("tell: matched case-insensitively, to as registered, no copy to the sender",
          "[hub][tell]") {
  Bench b;
  const SessionId bob = b.add("Bob");
  const SessionId amy = b.add("amy");
  const SessionId watcher = b.add("watcher");
  b.sub(watcher, ">");
  REQUIRE_FALSE(b.hub.tell(amy, "bOB", R"({"x":1})", 7));
  CHECK(b.peer(bob).take() ==
        std::vector<json>{
            {{"op", "msg"}, {"to", "Bob"}, {"from", "amy"}, {"data", {{"x", 1}}}, {"ts", 7}}});
  CHECK(b.peer(amy).take().empty());
  CHECK(b.peer(watcher).take().empty());  // a tell is not published anywhere
  CHECK(b.hub.counters().msgs_in == 1);
  CHECK(b.hub.counters().msgs_out == 1);
}

TEST_CASE("tell to oneself delivers once, to a guest by its name", "[hub][tell]") {
  Bench b;
  const SessionId amy = b.add("amy", false);  // echo does not apply to tell
  const SessionId guest = b.add();
  REQUIRE_FALSE(b.hub.tell(amy, "AMY", "1", 7));
  const auto got = b.peer(amy).take();
  REQUIRE(got.size() == 1);
  CHECK(got[0]["to"] == "amy");
  CHECK(got[0]["from"] == "amy");
  REQUIRE_FALSE(b.hub.tell(amy, "Guest-2", "2", 7));
  const auto to_guest = b.peer(guest).take();
  REQUIRE(to_guest.size() == 1);
  CHECK(to_guest[0]["to"] == "guest-2");
}

TEST_CASE("tell to nobody is no_such_user and counts nothing", "[hub][tell]") {
  Bench b;
  const SessionId amy = b.add("amy");
  const SessionId gone = b.add("gone");
  b.hub.disconnect(gone);
  for (const char* to : {"nobody", "gone", "am", "amy2"}) {
    const Status status = b.hub.tell(amy, to, "1", 7);
    REQUIRE(status);
    CHECK(status->code == ErrorCode::no_such_user);
    CHECK_FALSE(status->message.empty());
  }
  CHECK(b.hub.counters().msgs_in == 0);
  CHECK(b.hub.counters().msgs_out == 0);
  CHECK(b.peer(amy).take().empty());
}

// ----------------------------------------------------------------------------- disconnect

TEST_CASE("disconnect announces leave in every room, unless told not to", "[hub][rooms]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  const SessionId d = b.add("d");
  for (SessionId s : {a, c, d}) b.join(s, "r1");
  b.join(a, "r2");
  b.join(c, "r2");
  b.join(c, "r3");  // c alone here
  b.sub(c, "x.>", std::string("g"));
  for (SessionId s : {a, c, d}) b.peer(s).take();
  CHECK(b.hub.subscription_count() == 7);
  SECTION("announced") {
    b.hub.disconnect(c);
    const auto got = b.peer(a).take();
    REQUIRE(got.size() == 2);
    CHECK(std::count(got.begin(), got.end(), presence("r1", "c", "leave")) == 1);
    CHECK(std::count(got.begin(), got.end(), presence("r2", "c", "leave")) == 1);
    CHECK(b.peer(d).take() == std::vector<json>{presence("r1", "c", "leave")});
  }
  SECTION("on shutdown, silently") {
    b.hub.disconnect(c, false);
    CHECK(b.peer(a).take().empty());
    CHECK(b.peer(d).take().empty());
  }
  CHECK(b.peer(c).take().empty());
  CHECK(b.hub.who("r1") == Names{"a", "d"});
  CHECK(b.hub.who("r2") == Names{"a"});
  CHECK(b.hub.who("r3").empty());
  CHECK(b.hub.subscription_count() == 3);
  CHECK(b.hub.session_count() == 2);
  CHECK_FALSE(b.hub.contains(c));
  // Gone from the index too: a publish reaches only the rest.
  b.pub(a, "x.y");
  b.pub(a, "r1");
  CHECK(b.peer(d).take().size() == 1);
  b.hub.disconnect(c);  // twice is harmless
  b.hub.disconnect(999);
  CHECK(b.hub.session_count() == 2);
}

TEST_CASE("disconnecting everyone leaves an empty index", "[hub][rooms][memory]") {
  Bench b;
  std::vector<SessionId> all;
  for (int i = 0; i < 20; ++i) {
    const SessionId s = b.add("s" + std::to_string(i));
    b.sub(s, "a." + std::to_string(i) + ".>");
    b.sub(s, "q.*", std::string("g"));
    b.join(s, "room");
    all.push_back(s);
  }
  for (SessionId s : all) b.hub.disconnect(s);
  CHECK(b.hub.index().node_count() == 1);
  CHECK(b.hub.subscription_count() == 0);
  CHECK(b.hub.who("room").empty());
  CHECK(b.hub.topics(std::nullopt, 1000, std::nullopt).topics.empty());
}

// --------------------------------------------------------------------------------- limits

TEST_CASE("max_subs counts each pattern and each joined topic once", "[hub][limits]") {
  Bench b(HubLimits{3, 100, 1 << 20});
  const SessionId s = b.add("s");
  b.sub(s, "a");
  b.join(s, "a");  // a sub and a join of the same topic count twice
  b.sub(s, "a.>");
  const Status over = b.hub.subscribe(s, "b", std::nullopt);
  REQUIRE(over);
  CHECK(over->code == ErrorCode::too_many_subscriptions);
  CHECK_FALSE(over->message.empty());
  JoinView view;
  CHECK(b.hub.join(s, "b", 0, std::nullopt, std::nullopt, view)->code ==
        ErrorCode::too_many_subscriptions);
  CHECK(b.hub.who("b").empty());
  // Replacing and rejoining are not adding.
  CHECK_FALSE(b.hub.subscribe(s, "a", std::string("g")));
  CHECK_FALSE(b.hub.subscribe(s, "a.>", std::nullopt));
  CHECK_FALSE(b.hub.join(s, "a", 0, std::nullopt, std::nullopt, view));
  CHECK(b.hub.subscription_count() == 3);
  // Each unsub or leave frees a place.
  REQUIRE_FALSE(b.hub.unsubscribe(s, "a.>"));
  CHECK_FALSE(b.hub.subscribe(s, "b", std::nullopt));
  CHECK(b.hub.subscribe(s, "c", std::nullopt)->code == ErrorCode::too_many_subscriptions);
  REQUIRE_FALSE(b.hub.leave(s, "a"));
  CHECK_FALSE(b.hub.join(s, "c", 0, std::nullopt, std::nullopt, view));
  CHECK(b.hub.subscription_count() == 3);
  // The limit is per session.
  const SessionId t = b.add("t");
  for (const char* p : {"a", "b", "c"}) b.sub(t, p);
  CHECK(b.hub.subscription_count() == 6);
}

// ------------------------------------------------------------------------------- counters

TEST_CASE("counters: msgs_in, msgs_out, subscriptions and topics", "[hub][counters]") {
  Bench b;
  const SessionId a = b.add("a");
  const SessionId c = b.add("c");
  const SessionId cut = b.add("cut");
  CHECK(b.hub.subscription_count() == 0);
  CHECK(b.hub.topic_count() == 0);
  b.sub(a, "t");
  b.sub(c, "t");
  b.sub(cut, "t");
  b.join(c, "r");
  b.join(a, "r");  // c gets a presence: not a msg
  CHECK(b.hub.subscription_count() == 5);
  b.peer(cut).refuse = true;  // being cut off: takes nothing
  b.pub(a, "t");              // a, c count; cut refuses
  b.pub(a, "r");              // a and c
  REQUIRE_FALSE(b.hub.tell(a, "c", "1", 1));
  REQUIRE_FALSE(b.hub.tell(a, "cut", "1", 1));  // refused: counts in, not out
  CHECK(b.hub.counters().msgs_in == 4);
  CHECK(b.hub.counters().msgs_out == 5);
  CHECK(b.peer(cut).offered == 2);
  CHECK(b.hub.topic_count() == 2);
  b.join(c, "t", 10);  // a replay is not counted
  CHECK(b.hub.counters().msgs_out == 5);
  CHECK(b.hub.topic_count() == 2);
  CHECK(b.hub.subscription_count() == 6);
}

TEST_CASE("a peer that refuses does not stop the others getting the message", "[hub][delivery]") {
  Bench b;
  const SessionId first = b.add("first");
  const SessionId second = b.add("second");
  b.sub(first, "t");
  b.sub(second, "t");
  b.peer(first).refuse = true;
  b.pub(second, "t");
  CHECK(b.peer(first).offered == 1);
  CHECK(b.peer(second).take().size() == 1);
  CHECK(b.hub.counters().msgs_out == 1);
}

// --------------------------------------------------------------------------------- epochs

TEST_CASE("epochs: boot id and forgotten count, changed only when seq starts again",
          "[hub][epoch]") {
  const std::size_t budget = 20000;
  Bench b(HubLimits{1000, 10, budget});
  const SessionId p = b.add("p");
  CHECK(b.hub.node_id() == "b00t");
  CHECK(b.hub.epoch_of("t") == "b00t-0");  // what a topic created now would get
  CHECK(b.hub.history("t", 50, std::nullopt).epoch == "b00t-0");
  b.pub(p, "t");
  b.pub(p, "t");
  CHECK(b.join(p, "t").epoch == "b00t-0");
  REQUIRE_FALSE(b.hub.leave(p, "t"));
  CHECK(b.hub.history("t", 50, std::nullopt).epoch == "b00t-0");
  // Flood the budget with other topics until "t" is forgotten, then publish it again.
  for (int i = 0; b.hub.topic_store().find("t") != nullptr; ++i) b.pub(p, "f" + std::to_string(i));
  const std::string fresh = b.hub.epoch_of("t");
  CHECK(fresh != "b00t-0");
  CHECK(b.pub(p, "t") == 1);  // the seq starts again, in another epoch
  CHECK(b.hub.history("t", 50, std::nullopt).epoch == fresh);
  // A resume naming the old epoch gets everything retained and recovered false.
  const SessionId r = b.add("r");
  const Joined stale = b.join(r, "t", 0, 1, std::string("b00t-0"));
  CHECK(stale.epoch == fresh);
  CHECK(stale.recovered == false);
  CHECK(stale.seqs() == Seqs{1});
  // The same resume naming the current epoch is an ordinary since.
  b.pub(p, "t");
  const Joined current = b.join(r, "t", 0, 1, fresh);
  CHECK(current.recovered == true);
  CHECK(current.seqs() == Seqs{2});
  // Another process (another boot id) never gives the same epoch.
  Hub other(HubLimits{}, "0ther");
  CHECK(other.epoch_of("t") != b.hub.epoch_of("t"));
}

TEST_CASE("random boot ids are 16 hex digits and differ", "[hub][epoch]") {
  const std::string a = Hub::random_boot_id();
  const std::string c = Hub::random_boot_id();
  CHECK(a.size() == 16);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != c);
  CHECK(Hub(HubLimits{}).node_id().size() == 16);
}

// ---------------------------------------------------------------------------- reply pages

namespace {

// Data of `bytes` characters in a JSON string, so that every msg line has the same length.
std::string blob(std::size_t bytes) {
  return '"' + std::string(bytes, 'x') + '"';
}

}  // namespace

TEST_CASE("history and joined stay within the reply cap and say more", "[hub][history][paging]") {
  HubLimits limits{1000, 100, 1 << 24};
  limits.reply_bytes = 1000;
  Bench b(limits);
  const SessionId p = b.add("p");
  for (int i = 0; i < 20; ++i) b.pub(p, "t", blob(200));
  const std::size_t line = b.hub.history("t", 1, std::nullopt).messages.at(0).size();
  const std::size_t fit = 1000 / line;
  REQUIRE(fit >= 2);
  REQUIRE(fit < 20);
  SECTION("backwards keeps the newest that fit") {
    const MessagesView page = b.hub.history("t", 50, std::nullopt);
    CHECK(page.more);
    CHECK(seqs_of(page.messages).size() == fit);
    CHECK(seqs_of(page.messages).back() == 20);
    const MessagesView before = b.hub.history("t", 50, 10);
    CHECK(before.more);
    CHECK(seqs_of(before.messages).back() == 9);
    CHECK(seqs_of(before.messages).size() == fit);
    const MessagesView small = b.hub.history("t", 2, std::nullopt);
    CHECK_FALSE(small.more);  // the limit, not the cap, ended it
    CHECK(seqs_of(small.messages) == Seqs{19, 20});
  }
  SECTION("forwards keeps the oldest that fit") {
    const MessagesView page = b.hub.history("t", 50, std::nullopt, 3);
    CHECK(page.more);
    CHECK(seqs_of(page.messages).front() == 4);
    CHECK(seqs_of(page.messages).size() == fit);
    CHECK(seqs_of(b.hub.history("t", 2, std::nullopt, 3).messages) == Seqs{4, 5});
    CHECK_FALSE(b.hub.history("t", 2, std::nullopt, 3).more);
    CHECK(seqs_of(b.hub.history("t", 50, std::nullopt, 18).messages) == Seqs{19, 20});
    CHECK(b.hub.history("t", 50, std::nullopt, 20).messages.empty());
    CHECK(b.hub.history("t", 50, std::nullopt, ~std::uint64_t{0}).messages.empty());
    CHECK(seqs_of(b.hub.history("t", 1, std::nullopt, 0).messages) == Seqs{1});
  }
  SECTION("joined: history pages backwards, since forwards") {
    const SessionId r = b.add("r");
    const Joined latest = b.join(r, "t", 1000);
    CHECK(latest.more);
    CHECK(latest.seqs().size() == fit);
    CHECK(latest.seqs().back() == 20);
    const Joined since = b.join(r, "t", 0, 5);
    CHECK(since.more);
    CHECK(since.recovered == true);
    CHECK(since.seqs().front() == 6);
    CHECK(since.seqs().size() == fit);
    CHECK_FALSE(b.join(r, "t", 3).more);
  }
  SECTION("one message is given even when it alone is over the cap") {
    b.pub(p, "big", blob(5000));
    const MessagesView page = b.hub.history("big", 50, std::nullopt);
    CHECK(page.messages.size() == 1);
    CHECK_FALSE(page.more);
  }
}

TEST_CASE("paging does not walk the whole history", "[hub][history][paging]") {
  // 1000 messages; pages near either end cost their own size (checked through results
  // only: seqs are consecutive, so offsets find them).
  Bench b(HubLimits{1000, 1000, 1 << 26});
  const SessionId p = b.add("p");
  for (int i = 0; i < 1000; ++i) b.pub(p, "t");
  CHECK(seqs_of(b.hub.history("t", 3, 500).messages) == Seqs{497, 498, 499});
  CHECK(seqs_of(b.hub.history("t", 3, std::nullopt, 500).messages) == Seqs{501, 502, 503});
  CHECK(seqs_of(b.hub.history("t", 3, 2).messages) == Seqs{1});
}

// ----------------------------------------------------------------------- topics and stats

TEST_CASE("topics: limit and after page through in byte order", "[hub][topics][paging]") {
  Bench b;
  const SessionId p = b.add("p");
  for (const char* t : {"a", "a.b", "a.c", "b", "b.a", "c"}) b.pub(p, t);
  const auto names = [&](const std::optional<std::string>& pattern, int limit,
                         const std::optional<std::string>& after, bool more) {
    const TopicsView view = b.hub.topics(pattern, limit, after);
    CHECK(view.more == more);
    Names out;
    for (const auto& t : view.topics) out.push_back(t.topic);
    return out;
  };
  CHECK(names(std::nullopt, 2, std::nullopt, true) == Names{"a", "a.b"});
  CHECK(names(std::nullopt, 2, std::string("a.b"), true) == Names{"a.c", "b"});
  CHECK(names(std::nullopt, 2, std::string("b"), false) == Names{"b.a", "c"});
  CHECK(names(std::nullopt, 6, std::nullopt, false).size() == 6);
  CHECK(names(std::nullopt, 2, std::string("c"), false).empty());
  CHECK(names(std::nullopt, 2, std::string("zzz"), false).empty());
  CHECK(names(std::string("a.*"), 1, std::nullopt, true) == Names{"a.b"});
  CHECK(names(std::string("a.*"), 1, std::string("a.b"), false) == Names{"a.c"});
  CHECK(names(std::string("a.>"), 5, std::string("0"), false) == Names{"a.b", "a.c"});
  CHECK(names(std::string("*.a"), 5, std::nullopt, false) == Names{"b.a"});
  CHECK(names(std::string("b"), 5, std::nullopt, false) == Names{"b"});
  CHECK(names(std::string("b"), 5, std::string("b"), false).empty());
}

TEST_CASE("topics and stats cost O(log n + reply), not a walk over 200k topics",
          "[hub][topics][cost]") {
  Bench b(HubLimits{1000, 1, std::size_t{1} << 30});
  const SessionId p = b.add("p");
  constexpr int kTopics = 200000;
  for (int i = 0; i < kTopics; ++i) b.pub(p, "room." + std::to_string(i));
  REQUIRE(b.hub.topic_count() == kTopics);
  const auto visits = [&](const std::optional<std::string>& pattern, int limit,
                          const std::optional<std::string>& after) {
    const std::uint64_t before = b.hub.topics_visited();
    b.hub.topics(pattern, limit, after);
    return b.hub.topics_visited() - before;
  };
  // A literal prefix that matches nothing, a literal topic, a page after a topic.
  CHECK(visits(std::string("nothing.*"), 1000, std::nullopt) <= 1);
  CHECK(visits(std::string("zzz.>"), 1000, std::nullopt) <= 1);
  CHECK(visits(std::string("room.123"), 1000, std::nullopt) <= 1);
  CHECK(visits(std::nullopt, 10, std::string("room.5")) <= 11);
  CHECK(visits(std::string("room.*"), 10, std::nullopt) <= 11);
  CHECK(visits(std::string(">"), 10, std::string("room.9")) <= 11);
  // A leading wildcard that few topics match walks the listing: the documented worst case.
  CHECK(visits(std::string("*.nothing"), 10, std::nullopt) == kTopics);
  // stats reads counters.
  const parley::protocol::StatsReport report = b.hub.stats_report(7);
  CHECK(report.topics == kTopics);
  CHECK(report.uptime_s == 7);
  CHECK(report.connections == 1);
  CHECK(report.msgs_in == kTopics);
}
