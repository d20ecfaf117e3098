// Requests through the dispatcher: replies, ids, the fault order, hello and auth rules,
// and the publish rate at its edge with a controlled clock.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "dispatcher.hpp"
#include "fake_peer.hpp"

using namespace parley::server;
using parley::test::FakePeer;
using json = nlohmann::json;
using Clock = Dispatcher::Clock;

namespace {

struct Client {
  Client(Hub& hub, const DispatchOptions& options, Clock::time_point now)
      : id(hub.connect(peer)), state(id, options, now) {}
  FakePeer peer;
  SessionId id;
  SessionState state;
};

DispatchOptions make_options(std::optional<std::string> token = std::nullopt, double rate = 0,
                             double burst = 0) {
  DispatchOptions o;
  o.token = std::move(token);
  o.limits = {65536, 3, 30};
  o.rate = rate;
  o.rate_burst = burst == 0 ? rate : burst;
  return o;
}

struct Bench {
  explicit Bench(DispatchOptions opts = make_options())
      : hub(HubLimits{3, 100, 1 << 20}),
        options(opts),
        dispatcher(hub, options, std::chrono::system_clock::now()) {}
  Client& client() {
    clients.push_back(std::make_unique<Client>(hub, options, now));
    return *clients.back();
  }
  // Sends one frame; returns the replies it produced.
  std::vector<json> send(Client& c, const std::string& frame,
                         Disposition expect = Disposition::keep_open) {
    CHECK(dispatcher.handle(c.state, c.peer, frame, now, 1000) == expect);
    return c.peer.take();
  }
  json one(Client& c, const std::string& frame) {
    const auto replies = send(c, frame);
    REQUIRE(replies.size() == 1);
    return replies[0];
  }
  std::string code(Client& c, const std::string& frame) {
    return one(c, frame).value("code", "none");
  }

  Hub hub;
  DispatchOptions options;
  Dispatcher dispatcher;
  Clock::time_point now = Clock::now();
  std::vector<std::unique_ptr<Client>> clients;
};

}  // namespace

TEST_CASE("replies carry the id and without an id only own reply ops and errors come back",
          "[dispatch]") {
  Bench b;
  Client& c = b.client();
  CHECK(b.one(c, R"({"op":"sub","topic":"a","id":"x"})") == json{{"op", "ok"}, {"id", "x"}});
  CHECK(b.send(c, R"({"op":"sub","topic":"b"})").empty());
  CHECK(b.one(c, R"({"op":"ping"})") == json{{"op", "pong"}});
  CHECK(b.one(c, R"({"op":"ping","id":5})") == json{{"op", "pong"}, {"id", 5}});
  CHECK(b.one(c, R"({"op":"who","topic":"a"})")["op"] == "who");
  CHECK(b.one(c, R"({"op":"stats","id":1})")["connections"] == 1);
  const json e = b.one(c, R"({"op":"unsub","topic":"zz"})");
  CHECK(e["code"] == "not_subscribed");
  CHECK_FALSE(e.contains("id"));
  CHECK(b.send(c, R"({"op":"pong","id":[1]})").empty());
  const auto bye = b.send(c, R"({"op":"quit","id":2})", Disposition::close);
  CHECK(bye == std::vector<json>{{{"op", "bye"}, {"id", 2}, {"reason", "quit"}}});
}

TEST_CASE("the fault order: json, op, fields, topics, permissions, limits, state",
          "[dispatch][order]") {
  Bench b;
  Client& c = b.client();
  CHECK(b.code(c, "nope") == "bad_json");
  CHECK(b.code(c, R"({"op":5,"topic":"a..b"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"fly","topic":"a..b"})") == "unknown_op");
  CHECK(b.code(c, R"({"op":"pub","topic":"a..b"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"pub","topic":"a..b","data":1})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"pub","topic":"$a","data":1})") == "forbidden");
  for (const char* t : {"a", "b", "c"})
    b.send(c, std::string(R"({"op":"sub","topic":")") + t + "\"}");
  CHECK(b.code(c, R"({"op":"sub","topic":"d..e"})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"sub","topic":"d"})") == "too_many_subscriptions");
  CHECK(b.code(c, R"({"op":"leave","topic":"d"})") == "not_joined");
  CHECK(b.code(c, R"({"op":"tell","to":"x","data":1})") == "no_such_user");
}

TEST_CASE("authentication comes after op faults and before field faults", "[dispatch][auth]") {
  Bench b(make_options(std::string("s3cret")));
  Client& c = b.client();
  CHECK(b.code(c, "{") == "bad_json");
  CHECK(b.code(c, R"({"op":"fly"})") == "unknown_op");
  CHECK(b.code(c, R"({"op":"pub"})") == "not_authenticated");
  CHECK(b.code(c, R"({"op":"who","topic":"a"})") == "not_authenticated");
  CHECK(b.one(c, R"({"op":"ping"})")["op"] == "pong");
  CHECK(b.send(c, R"({"op":"pong"})").empty());
  // A wrong or missing token closes, even when the name is also bad.
  Client& wrong = b.client();
  const auto replies =
      b.send(wrong, R"({"op":"hello","name":"bad name","token":"guess"})", Disposition::close);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0]["code"] == "auth_failed");
  CHECK(replies[1] == json{{"op", "bye"}, {"reason", "auth_failed"}});
  Client& missing = b.client();
  CHECK(b.send(missing, R"({"op":"hello"})", Disposition::close)[0]["code"] == "auth_failed");
  Client& typed = b.client();
  CHECK(b.send(typed, R"({"op":"hello","token":7})", Disposition::close)[0]["code"] ==
        "auth_failed");
  // The right token with a bad name can be retried.
  CHECK(b.code(c, R"({"op":"hello","name":"bad name","token":"s3cret"})") == "bad_name");
  CHECK(b.one(c, R"({"op":"hello","name":"ok","token":"s3cret"})")["op"] == "welcome");
  CHECK(b.one(c, R"({"op":"sub","topic":"a","id":1})")["op"] == "ok");
  CHECK(b.code(c, R"({"op":"hello","token":"s3cret"})") == "already_greeted");
  Client& quitter = b.client();
  CHECK(b.send(quitter, R"({"op":"quit"})", Disposition::close)[0]["op"] == "bye");
}

TEST_CASE("hello may be retried until it succeeds or the session does something",
          "[dispatch][hello]") {
  Bench b;
  Client& c = b.client();
  Client& taken = b.client();
  CHECK(b.one(taken, R"({"op":"hello","name":"Alice"})")["name"] == "Alice");
  CHECK(b.code(c, R"({"op":"hello","name":"guest-9"})") == "bad_name");
  CHECK(b.code(c, R"({"op":"hello","name":"alice"})") == "name_taken");
  CHECK(b.code(c, R"({"op":"unsub","topic":"x"})") == "not_subscribed");  // refused: no effect
  b.send(c, R"({"op":"ping"})");
  const json welcome = b.one(c, R"({"op":"hello","name":"carol","id":1})");
  CHECK(welcome["op"] == "welcome");
  CHECK(welcome["id"] == 1);
  CHECK(welcome["session"] == c.id);
  CHECK(welcome["limits"] == json{{"max_frame", 65536}, {"max_subs", 3}, {"ping_interval_s", 30}});
  CHECK(b.code(c, R"({"op":"hello","name":"dave"})") == "already_greeted");
  Client& busy = b.client();
  b.send(busy, R"({"op":"topics"})");
  CHECK(b.code(busy, R"({"op":"hello","name":"erin"})") == "already_greeted");
}

TEST_CASE("the publish rate at its edge, refill, and tell's smaller burst", "[dispatch][rate]") {
  Bench b(make_options(std::nullopt, 2, 4));
  Client& c = b.client();
  b.one(c, R"({"op":"hello","name":"c"})");
  for (int i = 0; i < 4; ++i) CHECK(b.send(c, R"({"op":"pub","topic":"t","data":1})").empty());
  CHECK(b.code(c, R"({"op":"pub","topic":"t","data":1})") == "rate_limited");
  CHECK(b.code(c, R"({"op":"pub","topic":"$t","data":1})") == "forbidden");  // permissions first
  b.now += std::chrono::milliseconds(500);                                   // one token back
  CHECK(b.send(c, R"({"op":"pub","topic":"t","data":1})").empty());
  CHECK(b.code(c, R"({"op":"pub","topic":"t","data":1})") == "rate_limited");
  CHECK(b.hub.counters().msgs_in == 5);

  Client& teller = b.client();
  b.one(teller, R"({"op":"hello","name":"teller"})");
  // Burst 4, rate 2: a tell may use only the rate's worth of the bucket.
  CHECK(b.send(teller, R"({"op":"tell","to":"c","data":1})").empty());
  CHECK(b.send(teller, R"({"op":"tell","to":"c","data":1})").empty());
  CHECK(b.code(teller, R"({"op":"tell","to":"c","data":1})") == "rate_limited");
  CHECK(b.send(teller, R"({"op":"pub","topic":"t","data":1})").empty());  // pub may go deeper
}
