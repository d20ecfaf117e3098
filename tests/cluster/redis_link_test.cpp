// RedisLink against a real redis-server: the hiredis hooks on the Asio loop, AUTH and
// SELECT, refusal while down, reconnect with backoff, and the URL parser's edges.
#include <hiredis/hiredis.h>

#include <asio.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "redis_link.hpp"
#include "redis_process.hpp"

using parley::server::cluster::parse_redis_url;
using parley::server::cluster::RedisLink;
using parley::server::cluster::RedisTarget;
using parley::test::RedisProcess;
using namespace std::chrono_literals;

namespace {

// Runs the loop until `done` holds or 10 s pass; false on the timeout.
bool run_until(asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(10ms);
  }
  return true;
}

RedisTarget target_of(const RedisProcess& redis, int db = 0) {
  RedisTarget target;
  target.port = redis.port();
  target.db = db;
  return target;
}

// Sends a command and waits for its answer as text ("(nil)" for none, "(down)" when the
// link went down first).
std::string ask(asio::io_context& io, RedisLink& link, std::vector<std::string_view> args) {
  std::optional<std::string> answer;
  const bool sent = link.command(args, [&](redisReply* reply) {
    if (reply == nullptr) {
      answer = "(down)";
    } else if (reply->type == REDIS_REPLY_NIL) {
      answer = "(nil)";
    } else if (reply->type == REDIS_REPLY_INTEGER) {
      answer = std::to_string(reply->integer);
    } else {
      answer = std::string(reply->str, reply->len);
    }
  });
  if (!sent) return "(refused)";
  REQUIRE(run_until(io, [&] { return answer.has_value(); }));
  return *answer;
}

}  // namespace

TEST_CASE("a link connects on the loop and answers pipelined commands in order",
          "[cluster][link]") {
  RedisProcess redis;
  asio::io_context io(1);
  RedisLink link(io, target_of(redis), "test");
  int ups = 0;
  link.on_up([&] { ++ups; });
  CHECK(link.command({"PING"}, [](redisReply*) {}) == false);  // not up yet: refused
  link.start();
  REQUIRE(run_until(io, [&] { return link.up(); }));
  CHECK(ups == 1);
  // A thousand commands queued at once come back in order.
  std::vector<long long> seen;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(link.command({"INCR", "counter"}, [&](redisReply* r) { seen.push_back(r->integer); }));
  }
  REQUIRE(run_until(io, [&] { return seen.size() == 1000; }));
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == static_cast<long long>(i + 1));
  CHECK(ask(io, link, {"SET", "k", std::string_view("a\0b", 3)}) == "OK");
  CHECK(ask(io, link, {"GET", "k"}) == std::string("a\0b", 3));  // binary-safe
  link.stop();
  CHECK_FALSE(link.up());
}

TEST_CASE("AUTH from the target and SELECT of its database", "[cluster][link]") {
  RedisProcess redis({"--requirepass", "s3cret"});
  asio::io_context io(1);
  RedisTarget target = target_of(redis, 3);
  target.password = "s3cret";
  RedisLink link(io, target, "test");
  link.start();
  REQUIRE(run_until(io, [&] { return link.up(); }));
  CHECK(ask(io, link, {"SET", "only-in-3", "x"}) == "OK");
  CHECK(redis.command("EXISTS only-in-3", "s3cret") == ":0");  // not in database 0
  CHECK(redis.command("SELECT 3", "s3cret") == "+OK");

  SECTION("a wrong password never comes up, and says so once") {
    RedisTarget wrong = target_of(redis);
    wrong.password = "nope";
    RedisLink refused(io, wrong, "refused");
    refused.start();
    CHECK_FALSE(run_until(
        io, [&] { return refused.up(); }, 600ms));
    CHECK(refused.outages() == 1);
  }
}

TEST_CASE("a lost link refuses commands, answers pending ones with nothing, and comes back",
          "[cluster][link]") {
  RedisProcess redis;
  asio::io_context io(1);
  RedisLink link(io, target_of(redis), "test");
  int ups = 0;
  int downs = 0;
  link.on_up([&] { ++ups; });
  link.on_down([&] { ++downs; });
  link.start();
  REQUIRE(run_until(io, [&] { return link.up(); }));
  // A command that cannot finish before the server goes: answered with nullptr.
  std::optional<bool> pending_answered_null;
  REQUIRE(link.command({"BLPOP", "never", "0"},
                       [&](redisReply* r) { pending_answered_null = r == nullptr; }));
  io.restart();
  io.run_for(50ms);
  redis.stop();
  REQUIRE(run_until(io, [&] { return downs == 1; }));
  CHECK(pending_answered_null == true);
  CHECK_FALSE(link.up());
  CHECK(ask(io, link, {"PING"}) == "(refused)");
  redis.start();
  REQUIRE(run_until(io, [&] { return link.up(); }));
  CHECK(ups == 2);
  CHECK(link.outages() == 1);  // one outage, however many retries it took
  CHECK(ask(io, link, {"PING"}) == "PONG");
}

TEST_CASE("a subscriber link receives what is published", "[cluster][link]") {
  RedisProcess redis;
  asio::io_context io(1);
  RedisLink sub(io, target_of(redis), "subscriber");
  RedisLink pub(io, target_of(redis), "command");
  std::vector<std::string> messages;
  sub.on_push([&](redisReply* r) {
    if (r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        std::string_view(r->element[0]->str) == "message")
      messages.emplace_back(r->element[2]->str, r->element[2]->len);
  });
  sub.start();
  pub.start();
  REQUIRE(run_until(io, [&] { return sub.up() && pub.up(); }));
  REQUIRE(sub.subscribe_command({"SUBSCRIBE", "c"}));
  // Published until the subscription is in place (then in order).
  REQUIRE(run_until(io, [&] {
    if (messages.empty()) ask(io, pub, {"PUBLISH", "c", "first"});
    return !messages.empty();
  }));
  for (int i = 0; i < 100; ++i)
    pub.command({"PUBLISH", "c", std::to_string(i)}, [](redisReply*) {});
  REQUIRE(run_until(io, [&] { return messages.size() >= 101; }));
  for (int i = 0; i < 100; ++i) CHECK(messages[messages.size() - 100 + i] == std::to_string(i));
}

TEST_CASE("cluster URLs", "[cluster][url]") {
  const RedisTarget plain = parse_redis_url("redis://10.0.0.1");
  CHECK(plain.host == "10.0.0.1");
  CHECK(plain.port == 6379);
  CHECK(plain.db == 0);
  CHECK_FALSE(plain.password);
  const RedisTarget full = parse_redis_url("redis://user:pa:ss@redis.local:6380/5");
  CHECK(full.host == "redis.local");
  CHECK(full.port == 6380);
  CHECK(full.db == 5);
  CHECK(full.user == "user");
  CHECK(full.password == "pa:ss");
  const RedisTarget password_only = parse_redis_url("redis://:secret@h:1/");
  CHECK_FALSE(password_only.user);
  CHECK(password_only.password == "secret");
  CHECK(password_only.db == 0);
  CHECK(parse_redis_url("redis://[::1]:7000").host == "::1");
  CHECK(parse_redis_url("redis://[::1]:7000").port == 7000);
  CHECK(parse_redis_url("redis://h:65535").port == 65535);
  for (const char* bad :
       {"http://h", "redis://", "redis://:1", "redis://h:0", "redis://h:65536", "redis://h:x",
        "redis://h/x", "redis://h/-1", "redis://[::1", "redis://h:"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_redis_url(bad), std::invalid_argument);
  }
}
