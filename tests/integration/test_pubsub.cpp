// Topic pub/sub: wildcards, delivery rules, queue groups, tell, stats and limits.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

LineClient subscriber(const ServerProcess& server, const std::string& name,
                      const std::vector<std::string>& patterns) {
  LineClient c(server.port());
  c.hello(name);
  for (const auto& p : patterns) {
    c.send({{"op", "sub"}, {"topic", p}, {"id", p}});
    c.expect({{"op", "ok"}, {"id", p}});
  }
  return c;
}

void publish(LineClient& c, const std::string& topic, const json& data) {
  c.send({{"op", "pub"}, {"topic", topic}, {"data", data}, {"id", "p"}});
  c.expect({{"op", "ok"}, {"id", "p"}});
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("msg frames carry topic, from, data, seq, ts and reply", "[pubsub]") {
  ServerProcess server;
  LineClient sub = subscriber(server, "sub", {"orders.new"});
  LineClient pub(server.port());
  pub.hello("pub", {{"echo", false}});
  const auto before = now_ms();
  pub.send({{"op", "pub"}, {"topic", "orders.new"}, {"data", {{"n", 1}}}, {"reply", "inbox.pub"}});
  const json m1 = sub.expect({{"op", "msg"},
                              {"topic", "orders.new"},
                              {"from", "pub"},
                              {"data", {{"n", 1}}},
                              {"seq", 1},
                              {"reply", "inbox.pub"}});
  CHECK(m1["ts"].get<std::int64_t>() >= before - 1);
  CHECK(m1["ts"].get<std::int64_t>() <= now_ms() + 1);
  pub.send({{"op", "pub"}, {"topic", "orders.new"}, {"data", "two"}});
  const json m2 = sub.expect({{"op", "msg"}, {"seq", 2}, {"data", "two"}});
  CHECK_FALSE(m2.contains("reply"));
  CHECK_FALSE(m2.contains("id"));
  pub.expect_nothing();  // no id, no ok; echo off, no copy
}

TEST_CASE("data may be any JSON value and arrives unchanged", "[pubsub]") {
  ServerProcess server;
  LineClient c = subscriber(server, "c", {"d"});
  const json values =
      json::array({nullptr, true, 0, -7, 12345678901234LL, 3.25, "text \"quoted\" \u00e9 \n",
                   json::array(), json::array({1, "a", nullptr}), json::object(),
                   json{{"deep", {{"er", {1, 2, {{"x", nullptr}}}}}}}});
  for (const auto& v : values) {
    c.send({{"op", "pub"}, {"topic", "d"}, {"data", v}});
    CHECK(c.expect({{"op", "msg"}})["data"] == v);
  }
}

TEST_CASE("wildcards: * is one token, > is one or more, $ topics are apart", "[pubsub]") {
  ServerProcess server;
  LineClient star = subscriber(server, "star", {"a.*.c"});
  LineClient tail = subscriber(server, "tail", {"a.>"});
  LineClient all = subscriber(server, "all", {">"});
  LineClient sys = subscriber(server, "sys", {"$sys.>"});
  LineClient pub(server.port());
  pub.hello("pub", {{"echo", false}});

  publish(pub, "a.b.c", 1);
  CHECK(star.expect({{"op", "msg"}})["topic"] == "a.b.c");
  CHECK(tail.expect({{"op", "msg"}})["topic"] == "a.b.c");
  CHECK(all.expect({{"op", "msg"}})["topic"] == "a.b.c");
  publish(pub, "a", 2);  // '>' needs at least one more token
  CHECK(all.expect({{"op", "msg"}})["topic"] == "a");
  publish(pub, "a.b.c.d", 3);
  CHECK(tail.expect({{"op", "msg"}})["topic"] == "a.b.c.d");
  CHECK(all.expect({{"op", "msg"}})["topic"] == "a.b.c.d");
  star.expect_nothing();
  tail.expect_nothing();
  all.expect_nothing();
  sys.expect_nothing();

  // Clients may subscribe to $ topics but not publish there.
  pub.send({{"op", "pub"}, {"topic", "$sys.x"}, {"data", 1}, {"id", 1}});
  pub.expect({{"op", "error"}, {"code", "forbidden"}, {"id", 1}});
  pub.send({{"op", "pub"}, {"topic", "a"}, {"data", 1}, {"reply", "$sys.inbox"}, {"id", 2}});
  pub.expect({{"op", "error"}, {"code", "forbidden"}, {"id", 2}});
  pub.send({{"op", "pub"}, {"topic", "a.*"}, {"data", 1}, {"id", 3}});
  pub.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 3}});
  pub.send({{"op", "pub"}, {"topic", "a"}, {"data", 1}, {"reply", "in.>"}, {"id", 4}});
  pub.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 4}});
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("a session gets each message at most once, and its own unless echo is off",
          "[pubsub][cluster-gap]") {
  ServerProcess server;
  LineClient c = subscriber(server, "c", {"chat.*", "chat.>", ">", "chat.room"});
  c.send({{"op", "join"}, {"topic", "chat.room"}, {"id", "j"}});
  c.expect({{"op", "joined"}, {"id", "j"}});
  c.send({{"op", "pub"}, {"topic", "chat.room"}, {"data", "hi"}});
  const auto frames = c.sync();
  REQUIRE(frames.size() == 1);
  CHECK(matches(frames[0], {{"op", "msg"}, {"from", "c"}, {"data", "hi"}}));

  LineClient quiet = subscriber(server, "quiet", {"chat.>"});
  LineClient quiet_echo(server.port());
  quiet_echo.hello("silent", {{"echo", false}});
  quiet_echo.send({{"op", "sub"}, {"topic", "chat.>"}});
  quiet_echo.send({{"op", "pub"}, {"topic", "chat.room"}, {"data", "mine"}});
  quiet_echo.expect_nothing();
  CHECK(quiet.expect({{"op", "msg"}})["data"] == "mine");
  CHECK(c.expect({{"op", "msg"}})["data"] == "mine");
}

TEST_CASE("seq counts publishes per topic from 1", "[pubsub]") {
  ServerProcess server;
  LineClient c = subscriber(server, "c", {"s.>"});
  for (int i = 1; i <= 3; ++i) {
    c.send({{"op", "pub"}, {"topic", "s.a"}, {"data", i}});
    CHECK(c.expect({{"op", "msg"}, {"topic", "s.a"}})["seq"] == i);
  }
  c.send({{"op", "pub"}, {"topic", "s.b"}, {"data", 0}});
  CHECK(c.expect({{"op", "msg"}, {"topic", "s.b"}})["seq"] == 1);
}

TEST_CASE("unsub takes the pattern away and errors name what is missing", "[pubsub]") {
  ServerProcess server;
  LineClient c = subscriber(server, "c", {"u.*"});
  c.send({{"op", "join"}, {"topic", "room"}, {"id", "j"}});
  c.expect({{"op", "joined"}});
  c.send({{"op", "unsub"}, {"topic", "u.*"}, {"id", 1}});
  c.expect({{"op", "ok"}, {"id", 1}});
  c.send({{"op", "unsub"}, {"topic", "u.*"}, {"id", 2}});
  c.expect({{"op", "error"}, {"code", "not_subscribed"}, {"id", 2}});
  c.send({{"op", "unsub"}, {"topic", "room"}, {"id", 3}});  // joined, not subscribed
  c.expect({{"op", "error"}, {"code", "not_subscribed"}, {"id", 3}});
  c.send({{"op", "unsub"}, {"topic", "bad..pattern"}, {"id", 4}});
  c.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 4}});
  c.send({{"op", "pub"}, {"topic", "u.x"}, {"data", 1}});
  c.expect_nothing();
  c.send({{"op", "unsub"}, {"topic", "nothing"}});  // no id: error without id
  const json e = c.expect({{"op", "error"}, {"code", "not_subscribed"}});
  CHECK_FALSE(e.contains("id"));
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("queue groups share messages round robin and plain subscribers get all",
          "[pubsub][groups][cluster-gap]") {
  ServerProcess server;
  std::vector<LineClient> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back(server.port());
    workers.back().hello("w" + std::to_string(i));
    workers.back().send({{"op", "sub"}, {"topic", "jobs.>"}, {"group", "g"}, {"id", 1}});
    workers.back().expect({{"op", "ok"}});
  }
  LineClient other_group = subscriber(server, "solo", {});
  other_group.send({{"op", "sub"}, {"topic", "jobs.>"}, {"group", "h"}, {"id", 1}});
  other_group.expect({{"op", "ok"}});
  LineClient audit = subscriber(server, "audit", {"jobs.>"});
  LineClient pub(server.port());
  pub.hello("boss", {{"echo", false}});
  for (int i = 0; i < 9; ++i) publish(pub, "jobs.build", i);

  std::vector<int> seen;
  for (auto& w : workers) {
    const auto frames = w.sync();
    CHECK(frames.size() == 3);
    for (const auto& f : frames) seen.push_back(f["data"].get<int>());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(other_group.sync().size() == 9);
  CHECK(audit.sync().size() == 9);
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("a second sub to a pattern replaces its group", "[pubsub][groups][cluster-gap]") {
  ServerProcess server;
  LineClient a = subscriber(server, "a", {});
  LineClient b = subscriber(server, "b", {});
  a.send({{"op", "sub"}, {"topic", "q"}, {"group", "g"}, {"id", 1}});
  a.expect({{"op", "ok"}});
  b.send({{"op", "sub"}, {"topic", "q"}, {"group", "g"}, {"id", 1}});
  b.expect({{"op", "ok"}});
  b.send({{"op", "sub"}, {"topic", "q"}, {"id", 2}});  // now plain
  b.expect({{"op", "ok"}, {"id", 2}});
  LineClient pub(server.port());
  for (int i = 0; i < 4; ++i) pub.send({{"op", "pub"}, {"topic", "q"}, {"data", i}});
  pub.sync();
  CHECK(a.sync().size() == 4);  // alone in its group
  CHECK(b.sync().size() == 4);  // plain
  b.send({{"op", "unsub"}, {"topic", "q"}, {"id", 3}});
  b.expect({{"op", "ok"}, {"id", 3}});
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("a publisher with echo off is skipped by its own queue group",
          "[pubsub][groups][cluster-gap]") {
  ServerProcess server;
  LineClient self(server.port());
  self.hello("self", {{"echo", false}});
  self.send({{"op", "sub"}, {"topic", "g.x"}, {"group", "g"}});
  LineClient peer = subscriber(server, "peer", {});
  peer.send({{"op", "sub"}, {"topic", "g.x"}, {"group", "g"}, {"id", 1}});
  peer.expect({{"op", "ok"}});
  for (int i = 0; i < 4; ++i) self.send({{"op", "pub"}, {"topic", "g.x"}, {"data", i}});
  self.expect_nothing();
  CHECK(peer.sync().size() == 4);
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("tell reaches one session by name, case-insensitively", "[tell][cluster-gap]") {
  ServerProcess server;
  LineClient bob(server.port());
  bob.hello("Bob");
  LineClient alice(server.port());
  alice.hello("alice");
  alice.send({{"op", "tell"}, {"to", "bOB"}, {"data", {{"x", 1}}}, {"id", 1}});
  alice.expect({{"op", "ok"}, {"id", 1}});
  const json m =
      bob.expect({{"op", "msg"}, {"to", "Bob"}, {"from", "alice"}, {"data", {{"x", 1}}}});
  CHECK(m["ts"].is_number_integer());
  CHECK_FALSE(m.contains("topic"));
  alice.expect_nothing();  // no copy to the sender
  alice.send({{"op", "tell"}, {"to", "alice"}, {"data", "me"}});
  CHECK(alice.sync().size() == 1);  // telling yourself delivers once
  alice.send({{"op", "tell"}, {"to", "nobody"}, {"data", 1}, {"id", 2}});
  alice.expect({{"op", "error"}, {"code", "no_such_user"}, {"id", 2}});
  alice.send({{"op", "tell"}, {"to", "Bob"}, {"id", 3}});
  alice.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 3}});
}

// [single-node]: stats is the node's own (PROTOCOL.md § Clusters).
TEST_CASE("stats reports the counters the protocol names", "[stats][single-node]") {
  ServerProcess server;
  LineClient a = subscriber(server, "a", {"s.>"});
  a.send({{"op", "join"}, {"topic", "s.room"}, {"id", "j"}});
  a.expect({{"op", "joined"}});
  LineClient b(server.port());
  b.send({{"op", "pub"}, {"topic", "s.room"}, {"data", 1}});
  b.send({{"op", "tell"}, {"to", "a"}, {"data", 2}});
  b.sync();
  a.sync();
  b.send({{"op", "stats"}, {"id", 1}});
  const json s = b.expect({{"op", "stats"}, {"id", 1}});
  CHECK(s["connections"] == 2);
  CHECK(s["topics"] == 1);
  CHECK(s["subscriptions"] == 2);
  CHECK(s["msgs_in"] == 2);
  CHECK(s["msgs_out"] == 2);
  CHECK(s["slow_consumers"] == 0);
  CHECK(s["bytes_in"].get<long>() > 100);
  CHECK(s["bytes_out"].get<long>() > 100);
  CHECK(s["uptime_s"].get<long>() >= 0);
}

TEST_CASE("max_subs counts patterns and joins, at its exact edge", "[limits]") {
  ServerProcess server({{"--max-subs", "3"}});
  LineClient c(server.port());
  c.send({{"op", "sub"}, {"topic", "a"}, {"id", 1}});
  c.expect({{"op", "ok"}, {"id", 1}});
  c.send({{"op", "join"}, {"topic", "a"}, {"id", 2}});  // a sub and a join of one topic count twice
  c.expect({{"op", "joined"}, {"id", 2}});
  c.send({{"op", "sub"}, {"topic", "b.*"}, {"id", 3}});
  c.expect({{"op", "ok"}, {"id", 3}});
  c.send({{"op", "sub"}, {"topic", "c"}, {"id", 4}});
  c.expect({{"op", "error"}, {"code", "too_many_subscriptions"}, {"id", 4}});
  c.send({{"op", "join"}, {"topic", "d"}, {"id", 5}});
  c.expect({{"op", "error"}, {"code", "too_many_subscriptions"}, {"id", 5}});
  c.send({{"op", "sub"}, {"topic", "b.*"}, {"group", "g"}, {"id", 6}});  // replacing is not adding
  c.expect({{"op", "ok"}, {"id", 6}});
  c.send({{"op", "join"}, {"topic", "a"}, {"id", 7}});  // joining again is harmless
  c.expect({{"op", "joined"}, {"id", 7}});
  c.send({{"op", "sub"}, {"topic", "c..d"}, {"id", 8}});  // bad_topic outranks the limit
  c.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 8}});
  c.send({{"op", "unsub"}, {"topic", "a"}, {"id", 9}});
  c.expect({{"op", "ok"}, {"id", 9}});
  c.send({{"op", "sub"}, {"topic", "c"}, {"id", 10}});
  c.expect({{"op", "ok"}, {"id", 10}});
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("the publish rate drops frames past the burst, for pub and tell",
          "[limits][cluster-gap]") {
  // One token a second: nothing refills while the test runs its burst.
  ServerProcess server({{"--rate", "1", "--rate-burst", "5"}});
  LineClient watcher = subscriber(server, "watcher", {"r"});
  LineClient pub(server.port());
  pub.hello("pub");
  for (int i = 0; i < 5; ++i) publish(pub, "r", i);
  pub.send({{"op", "pub"}, {"topic", "r"}, {"data", 99}, {"id", "over"}});
  pub.expect({{"op", "error"}, {"code", "rate_limited"}, {"id", "over"}});
  pub.send({{"op", "tell"}, {"to", "watcher"}, {"data", 98}, {"id", "tell"}});
  pub.expect({{"op", "error"}, {"code", "rate_limited"}, {"id", "tell"}});
  // Field and topic faults come before the limit.
  pub.send({{"op", "pub"}, {"topic", "$sys.x"}, {"data", 1}, {"id", "sys"}});
  pub.expect({{"op", "error"}, {"code", "forbidden"}, {"id", "sys"}});
  const auto got = watcher.sync();
  REQUIRE(got.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(got[static_cast<std::size_t>(i)]["data"] == i);
}

// [cluster-gap]: a ping sent after a pub is answered before the pub's msg arrives (the msg goes
// through Redis, even to the sender's own session), so LineClient::sync is no barrier
// (docs/architecture.md).
TEST_CASE("tell's burst is the rate, one second's worth", "[limits][cluster-gap]") {
  ServerProcess server({{"--rate", "2", "--rate-burst", "10"}});
  LineClient bob(server.port());
  bob.hello("bob");
  LineClient alice(server.port());
  alice.hello("alice");
  for (int i = 0; i < 2; ++i) {
    alice.send({{"op", "tell"}, {"to", "bob"}, {"data", i}, {"id", i}});
    alice.expect({{"op", "ok"}, {"id", i}});
  }
  alice.send({{"op", "tell"}, {"to", "bob"}, {"data", 2}, {"id", 2}});
  alice.expect({{"op", "error"}, {"code", "rate_limited"}, {"id", 2}});
  CHECK(bob.sync().size() == 2);
}
