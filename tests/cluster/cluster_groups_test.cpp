// Queue groups across nodes (PROTOCOL.md § Subscriptions and § Clusters): a group whose
// members sit on two nodes gets each message exactly once in the cluster, its members in
// turn, also under a burst of publishes; an echo-false publisher in the group is skipped.
// Every wait is for frames (bounded by a deadline), never for a guessed time.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "line_client.hpp"
#include "redis_process.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

std::unique_ptr<ServerProcess> node(const RedisProcess& redis) {
  return std::make_unique<ServerProcess>(LaunchOptions({"--cluster", redis.url()}));
}

// Sends `frame` until it is not `unavailable` (the node's links are still coming up).
void until_available(LineClient& c, json frame) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    frame["id"] = "try-" + std::to_string(attempt);
    c.send(frame);
    const json reply = c.expect({{"id", frame["id"]}});
    if (reply["op"] != "error" || reply["code"] != "unavailable") return;
    c.sync();
  }
  FAIL("the node stayed unavailable");
}

}  // namespace

TEST_CASE("a queue group on two nodes gets each message once, its members in turn",
          "[cluster][groups]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  LineClient publisher(a_node->port());
  until_available(publisher, {{"op", "who"}, {"topic", "ready"}});
  LineClient ready_b(b_node->port());
  until_available(ready_b, {{"op", "who"}, {"topic", "ready"}});

  // Two members on each node, and one subscriber outside the group, which gets everything.
  std::vector<std::unique_ptr<LineClient>> workers;
  for (const auto* n : {a_node.get(), b_node.get(), a_node.get(), b_node.get()}) {
    workers.push_back(std::make_unique<LineClient>(n->port()));
    LineClient& w = *workers.back();
    w.send({{"op", "sub"}, {"topic", "jobs.*"}, {"group", "workers"}, {"id", "s"}});
    w.expect({{"op", "ok"}, {"id", "s"}});
  }
  LineClient watcher(b_node->port());
  watcher.send({{"op", "sub"}, {"topic", "jobs.*"}, {"id", "s"}});
  watcher.expect({{"op", "ok"}, {"id", "s"}});
  // No probes: each ok means the store has the member and its node has the channel.

  // A burst, pipelined: every message reaches exactly one worker, and the watcher.
  constexpr int kMessages = 1000;
  for (int i = 0; i < kMessages; ++i)
    publisher.send({{"op", "pub"}, {"topic", "jobs.work"}, {"data", i}});
  publisher.send({{"op", "ping"}, {"id", "end"}});
  publisher.expect({{"op", "pong"}, {"id", "end"}}, 30s);

  std::map<int, std::vector<int>> got;  // worker -> the data it got, in arrival order
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (total < kMessages && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t w = 0; w < workers.size(); ++w) {
      while (auto frame = workers[w]->try_recv(5ms)) {
        REQUIRE((*frame)["topic"] == "jobs.work");
        got[static_cast<int>(w)].push_back((*frame)["data"].get<int>());
        ++total;
      }
    }
  }
  for (int i = 0; i < kMessages; ++i)
    watcher.expect({{"op", "msg"}, {"topic", "jobs.work"}, {"data", i}}, 10s);
  for (auto& w : workers) w->expect_nothing();  // nothing more, no copy, arrived meanwhile

  REQUIRE(total == kMessages);
  std::set<int> seen;
  for (const auto& [worker, data] : got) {
    // In turn: four members, so each gets every fourth message, in order.
    CHECK(data.size() == kMessages / 4);
    for (std::size_t k = 1; k < data.size(); ++k) CHECK(data[k] == data[k - 1] + 4);
    seen.insert(data.begin(), data.end());
  }
  CHECK(seen.size() == kMessages);
}

TEST_CASE("a queue group across nodes skips its own echo-false publisher", "[cluster][groups]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  LineClient ready_a(a_node->port());
  until_available(ready_a, {{"op", "who"}, {"topic", "ready"}});
  LineClient quiet(a_node->port());
  quiet.hello("quiet", {{"echo", false}});
  LineClient other(b_node->port());
  until_available(other, {{"op", "who"}, {"topic", "ready"}});
  for (LineClient* c : {&quiet, &other}) {
    c->send({{"op", "sub"}, {"topic", "q"}, {"group", "g"}, {"id", "s"}});
    c->expect({{"op", "ok"}, {"id", "s"}});
  }
  // The publisher itself is never picked: the other node's member gets every message.
  for (int i = 0; i < 20; ++i) quiet.send({{"op", "pub"}, {"topic", "q"}, {"data", i}});
  for (int i = 0; i < 20; ++i) other.expect({{"op", "msg"}, {"topic", "q"}, {"data", i}});
  quiet.expect_nothing();
}

TEST_CASE("a queue group's turn follows the order its members joined, on any node",
          "[cluster][groups]") {
  RedisProcess redis;
  auto a_node = node(redis);
  auto b_node = node(redis);
  LineClient publisher(a_node->port());
  until_available(publisher, {{"op", "who"}, {"topic", "ready"}});
  LineClient ready_b(b_node->port());
  until_available(ready_b, {{"op", "who"}, {"topic", "ready"}});
  std::vector<std::unique_ptr<LineClient>> workers;
  for (const auto* n : {b_node.get(), a_node.get(), b_node.get()}) {
    workers.push_back(std::make_unique<LineClient>(n->port()));
    workers.back()->send({{"op", "sub"}, {"topic", "turns.>"}, {"group", "g"}, {"id", "s"}});
    workers.back()->expect({{"op", "ok"}, {"id", "s"}});
  }
  for (int i = 0; i < 6; ++i) publisher.send({{"op", "pub"}, {"topic", "turns.x"}, {"data", i}});
  for (int i = 0; i < 6; ++i)
    workers[static_cast<std::size_t>(i % 3)]->expect({{"op", "msg"}, {"data", i}});
  for (auto& w : workers) w->expect_nothing();
}
