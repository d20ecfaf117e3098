// hello, names and authentication against the real server.
#include <catch2/catch.hpp>
#include <regex>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

TEST_CASE("welcome carries the name, session, server, protocol and limits", "[hello]") {
  ServerProcess server({{"--max-frame", "4096", "--max-subs", "7", "--ping-interval", "1500ms"}});
  LineClient alice(server.port());
  const json welcome = alice.hello("alice");
  CHECK(welcome["session"].is_number_integer());
  CHECK(welcome["server"].get<std::string>().rfind("parley/", 0) == 0);
  CHECK(welcome["protocol"] == 1);
  CHECK(welcome["limits"] == json{{"max_frame", 4096}, {"max_subs", 7}, {"ping_interval_s", 1.5}});
}

TEST_CASE("a session without a name is guest-N, before and after hello", "[hello]") {
  ServerProcess server;
  LineClient guest(server.port());
  LineClient watcher(server.port());
  watcher.send({{"op", "sub"}, {"topic", "t"}, {"id", 1}});
  watcher.expect({{"op", "ok"}, {"id", 1}});
  guest.send({{"op", "pub"}, {"topic", "t"}, {"data", 1}, {"id", 1}});
  guest.expect({{"op", "ok"}});
  const json msg = watcher.expect({{"op", "msg"}, {"topic", "t"}});
  CHECK(std::regex_match(msg["from"].get<std::string>(), std::regex("guest-[0-9]+")));

  LineClient other(server.port());
  other.send({{"op", "hello"}, {"id", 2}});
  const json welcome = other.expect({{"op", "welcome"}, {"id", 2}});
  CHECK(std::regex_match(welcome["name"].get<std::string>(), std::regex("guest-[0-9]+")));
  CHECK(welcome["name"] != msg["from"]);
}

TEST_CASE("names follow the rules and can be retried after bad_name", "[hello]") {
  ServerProcess server;
  LineClient c(server.port());
  for (const std::string& bad : std::vector<std::string>{
           "", "has space", "semi;colon", "ünï", std::string(33, 'a'), "guest-1", "GUEST-x"}) {
    c.send({{"op", "hello"}, {"name", bad}, {"id", 1}});
    c.expect({{"op", "error"}, {"code", "bad_name"}, {"id", 1}});
  }
  c.send({{"op", "hello"}, {"name", 42}, {"id", 1}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 1}});
  c.hello(std::string(32, 'z'));
}

TEST_CASE("names are unique case-insensitively and freed when the session ends", "[hello]") {
  ServerProcess server;
  LineClient watcher(server.port());
  watcher.hello("watcher");
  watcher.send({{"op", "join"}, {"topic", "room"}, {"id", 1}});
  watcher.expect({{"op", "joined"}});
  auto alice = std::make_unique<LineClient>(server.port());
  alice->hello("Alice");
  alice->send({{"op", "join"}, {"topic", "room"}, {"id", 1}});
  alice->expect({{"op", "joined"}});
  watcher.expect({{"op", "presence"}, {"name", "Alice"}, {"state", "join"}});

  LineClient impostor(server.port());
  impostor.send({{"op", "hello"}, {"name", "aLiCe"}, {"id", 1}});
  impostor.expect({{"op", "error"}, {"code", "name_taken"}, {"id", 1}});

  alice.reset();  // closes the socket
  watcher.expect({{"op", "presence"}, {"name", "Alice"}, {"state", "leave"}});
  impostor.hello("aLiCe");
}

// [cluster-gap]: a hello pipelined behind a sub that waits for Redis is welcomed, not
// already_greeted: the sub has not completed yet (docs/architecture.md).
TEST_CASE("hello is already_greeted after success or any other successful op",
          "[hello][cluster-gap]") {
  ServerProcess server;
  SECTION("after a successful hello") {
    LineClient c(server.port());
    c.hello("one");
    c.send({{"op", "hello"}, {"name", "two"}, {"id", 5}});
    c.expect({{"op", "error"}, {"code", "already_greeted"}, {"id", 5}});
  }
  SECTION("after a sub") {
    LineClient c(server.port());
    c.send({{"op", "sub"}, {"topic", "x"}});
    c.send({{"op", "hello"}, {"name", "two"}, {"id", 5}});
    c.expect({{"op", "error"}, {"code", "already_greeted"}, {"id", 5}});
  }
  SECTION("but not after ping, pong or refused requests") {
    LineClient c(server.port());
    c.send({{"op", "ping"}, {"id", 1}});
    c.expect({{"op", "pong"}, {"id", 1}});
    c.send({{"op", "pong"}});
    c.send({{"op", "sub"}, {"topic", "a..b"}, {"id", 2}});
    c.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 2}});
    c.send({{"op", "unsub"}, {"topic", "never"}, {"id", 3}});
    c.expect({{"op", "error"}, {"code", "not_subscribed"}, {"id", 3}});
    c.hello("late");
  }
}

TEST_CASE("hello checks protocol and echo types", "[hello]") {
  ServerProcess server;
  LineClient c(server.port());
  c.send({{"op", "hello"}, {"name", "a"}, {"protocol", 2}, {"id", 1}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 1}});
  c.send({{"op", "hello"}, {"name", "a"}, {"echo", "no"}, {"id", 2}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 2}});
  c.hello("a", {{"protocol", 1}, {"echo", false}});
}

TEST_CASE("with a token, only hello, ping and quit work before a successful hello",
          "[hello][auth]") {
  ServerProcess server({{"--token", "s3cret"}});
  SECTION("ops before hello are not_authenticated, ping and pong are fine") {
    LineClient c(server.port());
    c.send({{"op", "sub"}, {"topic", "x"}, {"id", 1}});
    c.expect({{"op", "error"}, {"code", "not_authenticated"}, {"id", 1}});
    // Authentication comes before field checks.
    c.send({{"op", "pub"}, {"id", 2}});
    c.expect({{"op", "error"}, {"code", "not_authenticated"}, {"id", 2}});
    c.send({{"op", "pong"}, {"id", 3}});
    c.send({{"op", "ping"}, {"id", 4}});
    c.expect({{"op", "pong"}, {"id", 4}});
    c.hello("member", {{"token", "s3cret"}});
    c.send({{"op", "sub"}, {"topic", "x"}, {"id", 5}});
    c.expect({{"op", "ok"}, {"id", 5}});
  }
  SECTION("a wrong token is auth_failed and closes") {
    LineClient c(server.port());
    c.send({{"op", "hello"}, {"name", "m"}, {"token", "guess"}, {"id", 1}});
    const auto frames = c.read_until_closed();
    REQUIRE(frames.size() >= 1);
    CHECK(matches(frames[0], {{"op", "error"}, {"code", "auth_failed"}, {"id", 1}}));
    for (std::size_t i = 1; i < frames.size(); ++i) CHECK(frames[i]["op"] == "bye");
  }
  SECTION("a missing token is auth_failed and closes") {
    LineClient c(server.port());
    c.send({{"op", "hello"}, {"name", "m"}});
    const auto frames = c.read_until_closed();
    REQUIRE(!frames.empty());
    CHECK(matches(frames[0], {{"op", "error"}, {"code", "auth_failed"}}));
  }
  SECTION("quit before hello says bye") {
    LineClient c(server.port());
    c.send({{"op", "quit"}, {"id", 9}});
    const auto frames = c.read_until_closed();
    REQUIRE(frames.size() == 1);
    CHECK(matches(frames[0], {{"op", "bye"}, {"id", 9}, {"reason", "quit"}}));
  }
}

TEST_CASE("with a token, a connection that does not complete hello in time gets bye auth_timeout",
          "[hello][auth_timeout]") {
  ServerProcess server({{"--token", "secret", "--auth-timeout", "300ms"}});
  LineClient silent(server.port());
  LineClient ready(server.port());
  ready.send({{"op", "hello"}, {"name", "ready"}, {"token", "secret"}, {"id", 1}});
  ready.expect({{"op", "welcome"}});
  const auto frames = silent.read_until_closed(5s);
  REQUIRE(frames.size() == 1);
  CHECK(matches(frames[0], {{"op", "bye"}, {"reason", "auth_timeout"}}));
  // A greeted session is not subject to it.
  ready.send({{"op", "ping"}, {"id", 2}});
  ready.expect({{"op", "pong"}, {"id", 2}});
}

TEST_CASE("without auth there is no auth timeout", "[hello][auth_timeout]") {
  ServerProcess server({{"--auth-timeout", "100ms", "--ping-interval", "10s"}});
  LineClient quiet(server.port());
  // Three times the timeout pass while this client stays silent: nothing may arrive.
  CHECK_FALSE(quiet.try_recv(300ms).has_value());
  quiet.send({{"op", "ping"}, {"id", "still"}});
  quiet.expect({{"op", "pong"}, {"id", "still"}});
}

// [single-node]: the per-address limit is per node.
TEST_CASE("one address may hold at most --max-connections-per-ip connections",
          "[hello][server_full][single-node]") {
  ServerProcess server({{"--max-connections-per-ip", "2", "--log-level", "debug"}});
  auto first = std::make_unique<LineClient>(server.port());
  LineClient second(server.port());
  first->send({{"op", "ping"}, {"id", 1}});
  first->expect({{"op", "pong"}});
  LineClient third(server.port());
  const auto frames = third.read_until_closed(5s);
  REQUIRE(frames.size() == 2);
  CHECK(matches(frames[0], {{"op", "error"}, {"code", "server_full"}}));
  CHECK(frames[0]["message"].get<std::string>().find("your address") != std::string::npos);
  CHECK(matches(frames[1], {{"op", "bye"}, {"reason", "server_full"}}));
  // Once one leaves, another may come.
  first->send({{"op", "quit"}});
  first->read_until_closed();
  first.reset();
  REQUIRE(server.wait_for_log("session 1 (127.0.0.1"));
  REQUIRE(server.wait_for_log(") closed"));
  LineClient fourth(server.port());
  fourth.send({{"op", "ping"}, {"id", 4}});
  fourth.expect({{"op", "pong"}, {"id", 4}});
}
