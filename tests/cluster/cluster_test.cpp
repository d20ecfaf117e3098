// Several parley-server nodes on one real Redis behave as one server (PROTOCOL.md §
// Clusters): names, presence, history, tell and order across nodes, and the faults: a node
// killed, a node stopped, Redis restarted, Redis flushed. Events from another node come
// through Redis, so these tests wait for each expected frame (LineClient::expect), never
// for a fixed time.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "line_client.hpp"
#include "redis_process.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

std::unique_ptr<ServerProcess> node(const RedisProcess& redis, const std::string& timeout = "10s") {
  return std::make_unique<ServerProcess>(
      LaunchOptions({"--cluster", redis.url(), "--cluster-node-timeout", timeout}));
}

LineClient member(const ServerProcess& server, const std::string& name, const std::string& topic) {
  LineClient c(server.port());
  c.hello(name);
  c.send({{"op", "join"}, {"topic", topic}, {"id", "join"}});
  c.expect({{"op", "joined"}, {"id", "join"}, {"topic", topic}});
  return c;
}

// Sends `frame` until it is not refused with `unavailable` (a node just started, or Redis
// coming back); returns the answer.
json until_available(LineClient& c, json frame, std::chrono::seconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (int attempt = 0;; ++attempt) {
    frame["id"] = "try-" + std::to_string(attempt);
    c.send(frame);
    json reply = c.expect({{"id", frame["id"]}});
    if (reply["op"] != "error" || reply["code"] != "unavailable") return reply;
    if (std::chrono::steady_clock::now() > deadline) FAIL("still unavailable: " << reply.dump());
    c.sync();  // a round trip between attempts, no sleep
  }
}

// hello as `name`, retried while the name is still being released elsewhere (its release
// and this claim travel on two nodes' links).
json hello_eventually(LineClient& c, const std::string& name) {
  for (int attempt = 0;; ++attempt) {
    c.send({{"op", "hello"}, {"name", name}, {"id", attempt}});
    json reply = c.expect({{"id", attempt}});
    if (reply["op"] == "welcome" || attempt == 50) return reply;
    c.sync();
  }
}

// Waits until the node has both links up: a harmless request is served.
void wait_ready(const ServerProcess& server) {
  LineClient c(server.port());
  until_available(c, {{"op", "who"}, {"topic", "ready"}});
}

}  // namespace

TEST_CASE("two nodes are one server: names, presence, messages, history, tell, topics, stats",
          "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis, "2s");
  auto b_node = node(redis, "2s");
  wait_ready(*a_node);
  wait_ready(*b_node);

  LineClient alice(a_node->port());
  const json welcome_a = alice.hello("alice");
  LineClient bob(b_node->port());
  // Names are unique across the cluster, case-insensitively.
  bob.send({{"op", "hello"}, {"name", "ALICE"}, {"id", 1}});
  bob.expect({{"op", "error"}, {"id", 1}, {"code", "name_taken"}});
  const json welcome_b = bob.hello("bob");
  CHECK(welcome_a["node"] != welcome_b["node"]);

  alice.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  alice.expect({{"op", "joined"}, {"id", 2}, {"members", {"alice"}}});
  bob.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  bob.expect({{"op", "joined"}, {"id", 2}, {"members", {"alice", "bob"}}});
  alice.expect({{"op", "presence"}, {"topic", "room"}, {"name", "bob"}, {"state", "join"}});

  // A wildcard subscription on one node gets what the other node publishes.
  bob.send({{"op", "sub"}, {"topic", "chat.*"}, {"id", 3}});
  bob.expect({{"op", "ok"}, {"id", 3}});
  // The ok came once the node's Redis subscription was confirmed: the first publish after
  // it arrives (the strict check over many patterns is its own test below).
  alice.send({{"op", "pub"}, {"topic", "chat.probe"}, {"data", 0}, {"id", "probe"}});
  alice.expect({{"op", "ok"}, {"id", "probe"}});
  bob.expect({{"op", "msg"}, {"topic", "chat.probe"}, {"data", 0}});
  alice.send({{"op", "pub"}, {"topic", "chat.x.y"}, {"data", "not for chat.*"}});
  alice.send({{"op", "pub"}, {"topic", "chat.x"}, {"data", 1}, {"id", 4}});
  alice.expect({{"op", "ok"}, {"id", 4}});
  bob.expect({{"op", "msg"}, {"topic", "chat.x"}, {"from", "alice"}, {"data", 1}, {"seq", 1}});

  alice.send({{"op", "pub"}, {"topic", "room"}, {"data", "hi"}});
  alice.expect({{"op", "msg"}, {"topic", "room"}, {"data", "hi"}, {"seq", 1}});
  bob.expect({{"op", "msg"}, {"topic", "room"}, {"data", "hi"}, {"seq", 1}});

  bob.send({{"op", "history"}, {"topic", "room"}, {"id", 5}});
  const json history = bob.expect({{"op", "history"}, {"id", 5}});
  REQUIRE(history["messages"].size() == 1);
  CHECK(history["messages"][0]["data"] == "hi");
  bob.send({{"op", "who"}, {"topic", "room"}, {"id", 6}});
  bob.expect({{"op", "who"}, {"id", 6}, {"members", {"alice", "bob"}}});

  bob.send({{"op", "tell"}, {"to", "Alice"}, {"data", "psst"}, {"id", 7}});
  bob.expect({{"op", "ok"}, {"id", 7}});
  alice.expect({{"op", "msg"}, {"to", "alice"}, {"from", "bob"}, {"data", "psst"}});
  bob.send({{"op", "tell"}, {"to", "nobody"}, {"data", 1}, {"id", 8}});
  bob.expect({{"op", "error"}, {"id", 8}, {"code", "no_such_user"}});

  bob.send({{"op", "topics"}, {"id", 9}});
  json topics = bob.expect({{"op", "topics"}, {"id", 9}});
  REQUIRE(topics["topics"].size() == 4);
  CHECK(topics["topics"][0]["topic"] == "chat.probe");
  topics["topics"].erase(0);
  CHECK(topics["topics"] == json::parse(R"([{"topic":"chat.x","members":0,"seq":1},
      {"topic":"chat.x.y","members":0,"seq":1},{"topic":"room","members":2,"seq":1}])"));

  // nodes counts the nodes alive at the node's last heartbeat (every 400 ms here): asked
  // again until a heartbeat has seen both, for at most 5 s.
  json stats;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  for (int attempt = 0;; ++attempt) {
    bob.send({{"op", "stats"}, {"id", attempt}});
    stats = bob.expect({{"op", "stats"}, {"id", attempt}});
    if (stats["nodes"] == 2 || std::chrono::steady_clock::now() > deadline) break;
    CHECK_FALSE(bob.try_recv(50ms));  // nothing else is due for bob meanwhile
  }
  CHECK(stats["node"] == welcome_b["node"]);
  CHECK(stats["nodes"] == 2);

  // join since resumes on the other node; leaving is announced across.
  bob.send({{"op", "leave"}, {"topic", "room"}, {"id", 11}});
  bob.expect({{"op", "ok"}, {"id", 11}});
  alice.expect({{"op", "presence"}, {"name", "bob"}, {"state", "leave"}});
  bob.send(
      {{"op", "join"}, {"topic", "room"}, {"since", 0}, {"epoch", history["epoch"]}, {"id", 12}});
  const json resumed = bob.expect({{"op", "joined"}, {"id", 12}, {"recovered", true}});
  CHECK(resumed["history"].size() == 1);
  CHECK(resumed["epoch"] == history["epoch"]);
  alice.expect({{"op", "presence"}, {"name", "bob"}, {"state", "join"}});

  // A closed connection is a leave for the members on other nodes.
  bob.close();
  alice.expect({{"op", "presence"}, {"name", "bob"}, {"state", "leave"}});
  LineClient bob_again(a_node->port());
  CHECK(hello_eventually(bob_again, "bob")["op"] == "welcome");  // the name is free again
}

TEST_CASE("a name raced for on two nodes has exactly one winner", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  wait_ready(*a_node);
  wait_ready(*b_node);
  for (int round = 0; round < 20; ++round) {
    LineClient x(a_node->port());
    LineClient y(b_node->port());
    const std::string name = "racer" + std::to_string(round);
    x.send({{"op", "hello"}, {"name", name}, {"id", 1}});
    y.send({{"op", "hello"}, {"name", name}, {"id", 1}});
    const json rx = x.expect({{"id", 1}});
    const json ry = y.expect({{"id", 1}});
    INFO(rx.dump() << " / " << ry.dump());
    CHECK(((rx["op"] == "welcome") != (ry["op"] == "welcome")));
    const json& loser = rx["op"] == "welcome" ? ry : rx;
    CHECK(loser["code"] == "name_taken");
  }
}

TEST_CASE("one publisher's messages keep their order on another node", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  wait_ready(*a_node);
  wait_ready(*b_node);
  LineClient sub(b_node->port());
  sub.send({{"op", "sub"}, {"topic", "order"}, {"id", 1}});
  sub.expect({{"op", "ok"}, {"id", 1}});
  LineClient pub(a_node->port());
  // The sub's ok means node B has the channel: nothing to wait for.
  constexpr int kCount = 3000;
  for (int i = 0; i < kCount; ++i) pub.send({{"op", "pub"}, {"topic", "order"}, {"data", i}});
  std::uint64_t last_seq = 0;
  for (int i = 0; i < kCount; ++i) {
    const json m = sub.recv(10s);
    REQUIRE(m["op"] == "msg");
    REQUIRE(m["data"] == i);
    CHECK(m["seq"].get<std::uint64_t>() > last_seq);
    last_seq = m["seq"].get<std::uint64_t>();
  }
}

TEST_CASE("a node killed with SIGKILL: its members leave within the node timeout", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis, "2s");
  auto b_node = node(redis, "2s");
  wait_ready(*a_node);
  wait_ready(*b_node);
  LineClient carol = member(*a_node, "carol", "k");
  LineClient dave = member(*b_node, "dave", "k");
  carol.expect({{"op", "presence"}, {"name", "dave"}, {"state", "join"}});
  const auto killed = std::chrono::steady_clock::now();
  b_node->signal(SIGKILL);
  carol.expect({{"op", "presence"}, {"name", "dave"}, {"state", "leave"}}, 5s);
  CHECK(std::chrono::steady_clock::now() - killed < 2s);
  carol.send({{"op", "who"}, {"topic", "k"}, {"id", 1}});
  carol.expect({{"op", "who"}, {"id", 1}, {"members", {"carol"}}});
  LineClient dave_again(a_node->port());
  dave_again.hello("dave");  // released with the node
}

TEST_CASE("a node stopped with SIGTERM releases its members at once", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis, "60s");
  auto b_node = node(redis, "60s");
  wait_ready(*a_node);
  wait_ready(*b_node);
  LineClient carol = member(*a_node, "carol", "k");
  LineClient dave = member(*b_node, "dave", "k");
  carol.expect({{"op", "presence"}, {"name", "dave"}, {"state", "join"}});
  b_node->signal(SIGTERM);
  dave.read_until_closed();
  CHECK(b_node->wait_exit() == 0);
  carol.expect({{"op", "presence"}, {"name", "dave"}, {"state", "leave"}}, 5s);
}

TEST_CASE("Redis restarted: unavailable while it is gone, then everything is back", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  wait_ready(*a_node);
  wait_ready(*b_node);
  LineClient erin = member(*a_node, "erin", "r");
  LineClient fred = member(*b_node, "fred", "r");
  erin.expect({{"op", "presence"}, {"name", "fred"}, {"state", "join"}});
  redis.stop();
  REQUIRE(a_node->wait_for_log("is down"));
  erin.send({{"op", "pub"}, {"topic", "r"}, {"data", "lost"}, {"id", 1}});
  erin.expect({{"op", "error"}, {"id", 1}, {"code", "unavailable"}});
  erin.send({{"op", "ping"}, {"id", 2}});  // the connection stays
  erin.expect({{"op", "pong"}, {"id", 2}});
  redis.start();  // empty: nothing persisted
  until_available(erin, {{"op", "who"}, {"topic", "r"}});
  until_available(fred, {{"op", "who"}, {"topic", "r"}});
  erin.send({{"op", "pub"}, {"topic", "r"}, {"data", "back"}, {"id", "back"}});
  erin.expect({{"op", "ok"}, {"id", "back"}});
  fred.expect({{"op", "msg"}, {"data", "back"}, {"seq", 1}}, 10s);
  erin.expect({{"op", "msg"}, {"data", "back"}});
  // Names and members were registered again, silently.
  fred.send({{"op", "who"}, {"topic", "r"}, {"id", 3}});
  fred.expect({{"op", "who"}, {"id", 3}, {"members", {"erin", "fred"}}});
  LineClient impostor(b_node->port());
  impostor.send({{"op", "hello"}, {"name", "erin"}, {"id", 4}});
  impostor.expect({{"op", "error"}, {"id", 4}, {"code", "name_taken"}});
  CHECK(a_node->wait_for_log("is back"));
}

TEST_CASE("the epoch changes when Redis loses a topic's seq", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis);
  wait_ready(*a_node);
  LineClient c = member(*a_node, "gina", "e");
  for (int i = 1; i <= 3; ++i) {
    c.send({{"op", "pub"}, {"topic", "e"}, {"data", i}});
    c.expect({{"op", "msg"}, {"seq", i}});
  }
  c.send({{"op", "history"}, {"topic", "e"}, {"id", 1}});
  const std::string before = c.expect({{"op", "history"}, {"id", 1}})["epoch"];
  REQUIRE(redis.command("FLUSHALL") == "+OK");
  c.send({{"op", "pub"}, {"topic", "e"}, {"data", 4}});
  c.expect({{"op", "msg"}, {"data", 4}, {"seq", 1}});  // seq starts again...
  c.send({{"op", "join"}, {"topic", "e"}, {"since", 3}, {"epoch", before}, {"id", 2}});
  const json joined = c.expect({{"op", "joined"}, {"id", 2}, {"recovered", false}});
  CHECK(joined["epoch"] != before);  // ...under a new epoch
  REQUIRE(joined["history"].size() == 1);
  CHECK(joined["history"][0]["data"] == 4);
}

TEST_CASE("a sub's ok means the node gets the pattern's messages from every node", "[cluster]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  wait_ready(*a_node);
  wait_ready(*b_node);
  LineClient publisher(a_node->port());
  LineClient subscriber(b_node->port());
  // Each round a pattern no session of node B had: the ok must wait for Redis's confirmation
  // of the new channel, so the message published right after it is never missed. Likewise
  // a join's joined.
  for (int round = 0; round < 30; ++round) {
    const std::string n = std::to_string(round);
    const bool wildcard = round % 2 == 1;
    const std::string pattern = wildcard ? "fresh" + n + ".*" : "fresh" + n;
    const std::string topic = wildcard ? "fresh" + n + ".x" : "fresh" + n;
    subscriber.send({{"op", "sub"}, {"topic", pattern}, {"id", "s" + n}});
    subscriber.expect({{"op", "ok"}, {"id", "s" + n}});
    publisher.send({{"op", "pub"}, {"topic", topic}, {"data", round}});
    subscriber.expect({{"op", "msg"}, {"topic", topic}, {"data", round}});

    subscriber.send({{"op", "join"}, {"topic", "room" + n}, {"id", "j" + n}});
    subscriber.expect({{"op", "joined"}, {"id", "j" + n}});
    publisher.send({{"op", "pub"}, {"topic", "room" + n}, {"data", round}});
    subscriber.expect({{"op", "msg"}, {"topic", "room" + n}, {"data", round}});
  }
}
