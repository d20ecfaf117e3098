// Requests through the dispatcher: reply ops and ids, every error code it produces and the
// protocol's fault order, authentication and hello rules, the publish rate at its exact
// edge with a controlled clock, and stats.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dispatcher.hpp"
#include "fake_peer.hpp"
#include "rate_limiter.hpp"

using namespace parley::server;
using parley::test::FakePeer;
using json = nlohmann::json;
using Clock = Dispatcher::Clock;
using namespace std::chrono_literals;

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
  explicit Bench(DispatchOptions opts = make_options(), HubLimits limits = {3, 100, 1 << 20})
      : hub(limits, "b00t"),
        options(std::move(opts)),
        dispatcher(hub, options, std::chrono::system_clock::now() - 90s) {}

  Client& client() {
    clients.push_back(std::make_unique<Client>(hub, options, now));
    return *clients.back();
  }
  // A client that has said hello as `name` (with the token, when one is configured).
  Client& greeted(const std::string& name) {
    Client& c = client();
    json hello = {{"op", "hello"}, {"name", name}};
    if (options.token) hello["token"] = *options.token;
    REQUIRE(one(c, hello.dump())["op"] == "welcome");
    return c;
  }
  // Sends one frame and returns the frames it produced on the sender's peer.
  std::vector<json> send(Client& c, const std::string& frame,
                         Disposition expect = Disposition::keep_open) {
    CHECK(dispatcher.handle(c.state, c.peer, frame, now, 1000) == expect);
    return c.peer.take();
  }
  json one(Client& c, const std::string& frame) {
    const auto replies = send(c, frame);
    INFO(frame);
    REQUIRE(replies.size() == 1);
    return replies[0];
  }
  // The error a frame gets: checks its shape, returns the code.
  std::string code(Client& c, const std::string& frame) {
    const json reply = one(c, frame);
    INFO(frame << " -> " << reply.dump());
    REQUIRE(reply.at("op") == "error");
    CHECK(reply.at("message").is_string());
    CHECK_FALSE(reply.at("message").get<std::string>().empty());
    return reply.at("code").get<std::string>();
  }

  Hub hub;
  DispatchOptions options;
  Dispatcher dispatcher;
  Clock::time_point now = Clock::time_point{} + 1000h;
  std::vector<std::unique_ptr<Client>> clients;
};

std::string nested(int arrays) {
  return R"({"op":"ping","x":)" + std::string(static_cast<std::size_t>(arrays), '[') +
         std::string(static_cast<std::size_t>(arrays), ']') + "}";
}

}  // namespace

// ------------------------------------------------------------------------ replies and ids

TEST_CASE("every request gets its own reply op carrying the id", "[dispatch][replies]") {
  Bench b;
  Client& c = b.client();
  Client& other = b.greeted("other");
  const std::vector<std::pair<std::string, std::string>> table = {
      {R"({"op":"hello","name":"me","id":7})", "welcome"},
      {R"({"op":"sub","topic":"a.*","id":7})", "ok"},
      {R"({"op":"unsub","topic":"a.*","id":7})", "ok"},
      {R"({"op":"pub","topic":"a","data":null,"id":7})", "ok"},
      {R"({"op":"join","topic":"room","id":7})", "joined"},
      {R"({"op":"who","topic":"room","id":7})", "who"},
      {R"({"op":"leave","topic":"room","id":7})", "ok"},
      {R"({"op":"tell","to":"other","data":"hi","id":7})", "ok"},
      {R"({"op":"topics","id":7})", "topics"},
      {R"({"op":"history","topic":"a","id":7})", "history"},
      {R"({"op":"stats","id":7})", "stats"},
      {R"({"op":"ping","id":7})", "pong"},
  };
  for (const auto& [frame, op] : table) {
    const json reply = b.one(c, frame);
    INFO(frame << " -> " << reply.dump());
    CHECK(reply["op"] == op);
    CHECK(reply["id"] == 7);
  }
  CHECK(b.send(c, R"({"op":"quit","id":7})", Disposition::close) ==
        std::vector<json>{{{"op", "bye"}, {"id", 7}, {"reason", "quit"}}});
  CHECK(other.peer.take().size() == 1);  // the tell
}

TEST_CASE("without an id only own reply ops come back, errors carry no id", "[dispatch][replies]") {
  Bench b;
  Client& c = b.client();
  b.greeted("other");
  CHECK(b.one(c, R"({"op":"hello","name":"me"})")["op"] == "welcome");
  for (const char* silent :
       {R"({"op":"sub","topic":"a"})", R"({"op":"unsub","topic":"a"})",
        R"({"op":"pub","topic":"a","data":1})", R"({"op":"tell","to":"other","data":1})"}) {
    INFO(silent);
    CHECK(b.send(c, silent).empty());
  }
  const json joined = b.one(c, R"({"op":"join","topic":"r"})");
  CHECK(joined["op"] == "joined");
  CHECK_FALSE(joined.contains("id"));
  CHECK(b.send(c, R"({"op":"leave","topic":"r"})").empty());
  for (const char* own :
       {R"({"op":"who","topic":"r"})", R"({"op":"topics"})", R"({"op":"history","topic":"a"})",
        R"({"op":"stats"})", R"({"op":"ping"})"}) {
    const json reply = b.one(c, own);
    CHECK_FALSE(reply.contains("id"));
  }
  CHECK(b.one(c, R"({"op":"ping"})") == json{{"op", "pong"}});
  const json e = b.one(c, R"({"op":"unsub","topic":"zz"})");
  CHECK(e["code"] == "not_subscribed");
  CHECK_FALSE(e.contains("id"));
  CHECK(b.send(c, R"({"op":"quit"})", Disposition::close) ==
        std::vector<json>{{{"op", "bye"}, {"reason", "quit"}}});
}

TEST_CASE("ids are echoed: strings as given, integers, on replies and errors", "[dispatch][ids]") {
  Bench b;
  Client& c = b.greeted("c");
  CHECK(b.one(c, R"({"op":"ping","id":"abc"})")["id"] == "abc");
  CHECK(b.one(c, R"({"op":"ping","id":""})")["id"] == "");
  CHECK(b.one(c, R"({"op":"ping","id":"a\"b\\c"})")["id"] == "a\"b\\c");
  CHECK(b.one(c, R"({"op":"ping","id":0})")["id"] == 0);
  CHECK(b.one(c, R"({"op":"ping","id":-5})")["id"] == -5);
  CHECK(b.one(c, R"({"op":"ping","id":12345678901234})")["id"] == 12345678901234LL);
  CHECK(b.one(c, R"({"id":9,"op":"sub","topic":"t"})") == json{{"op", "ok"}, {"id", 9}});
  const json e = b.one(c, R"({"op":"leave","topic":"t","id":"x1"})");
  CHECK(e["code"] == "not_joined");
  CHECK(e["id"] == "x1");
  const json unknown = b.one(c, R"({"op":"fly","id":3})");
  CHECK(unknown["code"] == "unknown_op");
  CHECK(unknown["id"] == 3);
  CHECK(b.one(c, R"({"op":"pub","topic":"a..b","data":1,"id":4})")["id"] == 4);
  // A null id is no id.
  CHECK(b.send(c, R"({"op":"sub","topic":"u","id":null})").empty());
  CHECK(b.one(c, R"({"op":"ping","id":null})") == json{{"op", "pong"}});
}

TEST_CASE("an id of a wrong type is bad_request without an id, and nothing is done",
          "[dispatch][ids]") {
  Bench b;
  Client& c = b.greeted("c");
  const std::string bad_id =
      GENERATE(as<std::string>{}, "[1]", "{\"a\":1}", "true", "false", "1.5", "-0.5");
  INFO("id " << bad_id);
  const json sub = b.one(c, R"({"op":"sub","topic":"t","id":)" + bad_id + "}");
  CHECK(sub["code"] == "bad_request");
  CHECK_FALSE(sub.contains("id"));
  CHECK(b.code(c, R"({"op":"unsub","topic":"t"})") == "not_subscribed");  // never subscribed
  CHECK(b.code(c, R"({"op":"ping","id":)" + bad_id + "}") == "bad_request");
  CHECK(b.code(c, R"({"op":"quit","id":)" + bad_id + "}") == "bad_request");
  CHECK(b.hub.contains(c.id));
}

TEST_CASE("pong is never answered and changes nothing", "[dispatch][pong]") {
  Bench b(make_options(std::string("s3cret")));
  Client& c = b.client();
  for (const char* pong :
       {R"({"op":"pong"})", R"({"op":"pong","id":1})", R"({"op":"pong","id":[1]})",
        R"({"op":"pong","topic":"a..b","x":{}})", R"({"op":"pong","token":5,"name":"bad name"})"}) {
    INFO(pong);
    CHECK(b.send(c, pong).empty());
  }
  // Still unauthenticated and still free to say hello.
  CHECK(b.code(c, R"({"op":"sub","topic":"a"})") == "not_authenticated");
  CHECK(b.one(c, R"({"op":"hello","name":"c","token":"s3cret"})")["op"] == "welcome");
  CHECK(b.send(c, R"({"op":"pong","id":2})").empty());
}

TEST_CASE("quit gets bye with its id and closes, before hello too", "[dispatch][quit]") {
  Bench b(make_options(std::string("s3cret")));
  Client& c = b.client();
  CHECK(b.send(c, R"({"op":"quit","id":"q"})", Disposition::close) ==
        std::vector<json>{{{"op", "bye"}, {"id", "q"}, {"reason", "quit"}}});
  Client& d = b.client();
  CHECK(b.send(d, R"({"op":"quit","extra":[1,2]})", Disposition::close) ==
        std::vector<json>{{{"op", "bye"}, {"reason", "quit"}}});
}

// ----------------------------------------------------------------------------- error codes

TEST_CASE("bad_json: not JSON, not UTF-8, too deep, not an object", "[dispatch][errors]") {
  Bench b;
  Client& c = b.client();
  for (const std::string& frame :
       {std::string("nope"), std::string("{"), std::string(R"({"op":"ping")"),
        std::string(R"({"op":"ping",})"), std::string("[1]"), std::string(R"("ping")"),
        std::string("42"), std::string("null"), std::string("{\"op\":\"ping\",\"x\":\"\xff\"}"),
        std::string("{\"op\":\"ping\",\"x\":\"\xc0\xaf\"}"), nested(128)}) {
    INFO(frame);
    CHECK(b.code(c, frame) == "bad_json");
  }
  CHECK(b.one(c, nested(127)) == json{{"op", "pong"}});  // 128 levels in all: allowed
}

TEST_CASE("bad_request: op, field types and ranges", "[dispatch][errors]") {
  Bench b;
  Client& c = b.client();
  for (const char* frame : {
           R"({})",
           R"({"op":5})",
           R"({"op":null})",
           R"({"op":["ping"]})",
           R"({"op":"hello","name":5})",
           R"({"op":"hello","echo":"yes"})",
           R"({"op":"hello","protocol":2})",
           R"({"op":"hello","protocol":"1"})",
           R"({"op":"hello","token":5})",
           R"({"op":"sub"})",
           R"({"op":"sub","topic":5})",
           R"({"op":"sub","topic":"a","group":""})",
           R"({"op":"sub","topic":"a","group":7})",
           R"({"op":"unsub"})",
           R"({"op":"pub","topic":"a"})",
           R"({"op":"pub","data":1})",
           R"({"op":"pub","topic":"a","data":1,"reply":5})",
           R"({"op":"join","topic":"a","history":"3"})",
           R"({"op":"join","topic":"a","history":-1})",
           R"({"op":"join","topic":"a","history":1.5})",
           R"({"op":"join","topic":"a","since":-1})",
           R"({"op":"join","topic":"a","since":"1"})",
           R"({"op":"leave"})",
           R"({"op":"tell","data":1})",
           R"({"op":"tell","to":"x"})",
           R"({"op":"tell","to":["x"],"data":1})",
           R"({"op":"who"})",
           R"({"op":"topics","pattern":5})",
           R"({"op":"history","topic":"a","limit":0})",
           R"({"op":"history","topic":"a","limit":1001})",
           R"({"op":"history","topic":"a","limit":"5"})",
           R"({"op":"history","topic":"a","before":-1})",
       }) {
    CHECK(b.code(c, frame) == "bad_request");
  }
  // The edges that are fine.
  CHECK(b.one(c, R"({"op":"history","topic":"a","limit":1000})")["op"] == "history");
  CHECK(b.one(c, R"({"op":"history","topic":"a","limit":1,"before":0})")["op"] == "history");
}

TEST_CASE("unknown_op: any op not in the table", "[dispatch][errors]") {
  Bench b;
  Client& c = b.client();
  for (const char* frame : {R"({"op":"fly"})", R"({"op":"PING"})", R"({"op":""})",
                            R"({"op":"welcome"})", R"({"op":"msg","topic":"a"})"}) {
    CHECK(b.code(c, frame) == "unknown_op");
  }
}

TEST_CASE("bad_topic: invalid topics and patterns, patterns where a topic is needed",
          "[dispatch][errors]") {
  Bench b;
  Client& c = b.greeted("c");
  const std::string long_topic(256, 'a');
  for (const std::string& frame : {
           std::string(R"({"op":"pub","topic":"a..b","data":1})"),
           std::string(R"({"op":"pub","topic":"a.*","data":1})"),
           std::string(R"({"op":"pub","topic":">","data":1})"),
           std::string(R"({"op":"pub","topic":"a","data":1,"reply":"r.*"})"),
           std::string(R"({"op":"pub","topic":"a","data":1,"reply":""})"),
           std::string(R"({"op":"join","topic":"a.>"})"),
           std::string(R"({"op":"leave","topic":"*"})"),
           std::string(R"({"op":"who","topic":"a.*"})"),
           std::string(R"({"op":"history","topic":"a.>"})"),
           std::string(R"({"op":"sub","topic":""})"),
           std::string(R"({"op":"sub","topic":"a.>.b"})"),
           std::string(R"({"op":"sub","topic":"a b"})"),
           std::string(R"({"op":"sub","topic":"a.$b"})"),
           std::string(R"({"op":"sub","topic":"a*"})"),
           std::string(R"({"op":"unsub","topic":".a"})"),
           std::string(R"({"op":"topics","pattern":"a."})"),
           R"({"op":"sub","topic":")" + long_topic + "\"}",
           R"({"op":"pub","topic":")" + long_topic + "\",\"data\":1}",
       }) {
    INFO(frame.substr(0, 80));
    CHECK(b.code(c, frame) == "bad_topic");
  }
  // 255 bytes is fine.
  CHECK(b.send(c, R"({"op":"sub","topic":")" + std::string(255, 'a') + "\"}").empty());
}

TEST_CASE("forbidden: pub, join and reply on a server topic, sub to one is fine",
          "[dispatch][errors]") {
  Bench b;
  Client& c = b.greeted("c");
  CHECK(b.code(c, R"({"op":"pub","topic":"$sys.x","data":1})") == "forbidden");
  CHECK(b.code(c, R"({"op":"pub","topic":"$x","data":1})") == "forbidden");
  CHECK(b.code(c, R"({"op":"join","topic":"$sys.x"})") == "forbidden");
  CHECK(b.code(c, R"({"op":"pub","topic":"a","data":1,"reply":"$sys.x"})") == "forbidden");
  CHECK(b.one(c, R"({"op":"sub","topic":"$sys.>","id":1})")["op"] == "ok");
  CHECK(b.one(c, R"({"op":"history","topic":"$sys.x"})")["messages"] == json::array());
  CHECK(b.one(c, R"({"op":"who","topic":"$sys.x"})")["members"] == json::array());
  CHECK(b.hub.topic_count() == 0);  // nothing was published or joined
}

TEST_CASE("bad_name, name_taken and already_greeted", "[dispatch][errors][hello]") {
  Bench b;
  b.greeted("Taken");
  Client& c = b.client();
  for (const std::string& name :
       {std::string(""), std::string("bad name"), std::string("a/b"), std::string("é"),
        std::string(33, 'n'), std::string("guest-1"), std::string("GUEST-x"), std::string("Guest-"),
        std::string("guest-")}) {
    INFO(name);
    CHECK(b.code(c, json{{"op", "hello"}, {"name", name}}.dump()) == "bad_name");
  }
  CHECK(b.code(c, R"({"op":"hello","name":"taken"})") == "name_taken");
  CHECK(b.code(c, R"({"op":"hello","name":"TAKEN"})") == "name_taken");
  const std::string longest(32, 'n');
  CHECK(b.one(c, json{{"op", "hello"}, {"name", longest}}.dump())["name"] == longest);
  CHECK(b.code(c, R"({"op":"hello","name":"again"})") == "already_greeted");
  CHECK(b.code(c, json{{"op", "hello"}, {"name", longest}}.dump()) == "already_greeted");
  CHECK(b.hub.name_of(c.id) == longest);
}

TEST_CASE("state errors: not_subscribed, not_joined, no_such_user, too_many_subscriptions",
          "[dispatch][errors]") {
  Bench b;
  Client& c = b.greeted("c");
  CHECK(b.code(c, R"({"op":"unsub","topic":"a"})") == "not_subscribed");
  CHECK(b.code(c, R"({"op":"leave","topic":"a"})") == "not_joined");
  CHECK(b.code(c, R"({"op":"tell","to":"nobody","data":1})") == "no_such_user");
  b.send(c, R"({"op":"sub","topic":"a"})");
  b.one(c, R"({"op":"join","topic":"a"})");
  b.send(c, R"({"op":"sub","topic":"b"})");
  CHECK(b.code(c, R"({"op":"sub","topic":"c"})") == "too_many_subscriptions");
  CHECK(b.code(c, R"({"op":"join","topic":"c"})") == "too_many_subscriptions");
  CHECK(b.code(c, R"({"op":"unsub","topic":"a.*"})") == "not_subscribed");
  CHECK(b.code(c, R"({"op":"leave","topic":"b"})") == "not_joined");  // subscribed, not joined
}

// ------------------------------------------------------------------------------ fault order

TEST_CASE("the fault order: json, op, fields, names and topics, permissions, limits, state",
          "[dispatch][order]") {
  Bench b(make_options(std::nullopt, 1, 1));
  Client& c = b.greeted("c");
  // JSON before everything.
  CHECK(b.code(c, R"({"op":"fly","topic":"a..b",)") == "bad_json");
  // op before fields.
  CHECK(b.code(c, R"({"op":5,"topic":"a..b","id":[1]})") == "bad_request");
  CHECK(b.code(c, R"({"op":"fly","topic":"a..b","id":[1]})") == "unknown_op");
  // Field types before names and topics.
  CHECK(b.code(c, R"({"op":"pub","topic":"a..b"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"pub","topic":"$a..b","data":1,"reply":5})") == "bad_request");
  CHECK(b.code(c, R"({"op":"join","topic":"a..b","history":"x"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"sub","topic":"a..b","group":""})") == "bad_request");
  CHECK(b.code(c, R"({"op":"sub","topic":"a..b","id":true})") == "bad_request");
  CHECK(b.code(c, R"({"op":"hello","name":"bad name","echo":1})") == "bad_request");
  // Names and topics before permissions.
  CHECK(b.code(c, R"({"op":"pub","topic":"$a.*","data":1})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"pub","topic":"$a","data":1,"reply":"a..b"})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"pub","topic":"a..b","data":1,"reply":"$r"})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"join","topic":"$a.>"})") == "bad_topic");
  // Names before state: a bad hello after a good one.
  CHECK(b.code(c, R"({"op":"hello","name":"bad name"})") == "bad_name");
  CHECK(b.code(c, R"({"op":"hello","name":"guest-7"})") == "bad_name");
  // Permissions before limits; limits before state.
  for (const char* t : {"x", "y", "z"})
    b.send(c, std::string(R"({"op":"sub","topic":")") + t + "\"}");
  CHECK(b.code(c, R"({"op":"join","topic":"$a"})") == "forbidden");
  CHECK(b.code(c, R"({"op":"join","topic":"a..b"})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"sub","topic":"a..b"})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"join","topic":"a"})") == "too_many_subscriptions");
  CHECK(b.send(c, R"({"op":"pub","topic":"a","data":1})").empty());  // the one token
  CHECK(b.code(c, R"({"op":"pub","topic":"$a","data":1})") == "forbidden");
  CHECK(b.code(c, R"({"op":"pub","topic":"a..b","data":1})") == "bad_topic");
  CHECK(b.code(c, R"({"op":"pub","topic":"a"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"tell","to":5,"data":1})") == "bad_request");
  CHECK(b.code(c, R"({"op":"pub","topic":"a","data":1})") == "rate_limited");
  CHECK(b.code(c, R"({"op":"tell","to":"nobody","data":1})") == "rate_limited");
}

TEST_CASE("authentication comes after op faults and before field faults", "[dispatch][auth]") {
  Bench b(make_options(std::string("s3cret")));
  Client& c = b.client();
  CHECK(b.code(c, "{") == "bad_json");
  CHECK(b.code(c, R"({"topic":"a"})") == "bad_request");
  CHECK(b.code(c, R"({"op":"fly"})") == "unknown_op");
  CHECK(b.code(c, R"({"op":"pub"})") == "not_authenticated");
  CHECK(b.code(c, R"({"op":"sub","topic":"a..b"})") == "not_authenticated");
  CHECK(b.code(c, R"({"op":"pub","topic":"$x","data":1})") == "not_authenticated");
  const json no_id = b.one(c, R"({"op":"sub","topic":"a","id":[1]})");
  CHECK(no_id["code"] == "not_authenticated");
  CHECK_FALSE(no_id.contains("id"));
  // A hello's token is checked before its other fields.
  Client& d = b.client();
  const auto closed =
      b.send(d, R"({"op":"hello","name":"bad name","protocol":2,"id":5})", Disposition::close);
  REQUIRE(closed.size() == 2);
  CHECK(closed[0]["code"] == "auth_failed");
  CHECK(closed[0]["id"] == 5);
}

// ------------------------------------------------------------------------- authentication

TEST_CASE("with a token every op but hello, ping and quit needs a hello first",
          "[dispatch][auth]") {
  Bench b(make_options(std::string("s3cret")));
  Client& c = b.client();
  for (const char* frame :
       {R"({"op":"sub","topic":"a","id":1})", R"({"op":"unsub","topic":"a","id":1})",
        R"({"op":"pub","topic":"a","data":1,"id":1})", R"({"op":"join","topic":"a","id":1})",
        R"({"op":"leave","topic":"a","id":1})", R"({"op":"tell","to":"x","data":1,"id":1})",
        R"({"op":"who","topic":"a","id":1})", R"({"op":"topics","id":1})",
        R"({"op":"history","topic":"a","id":1})", R"({"op":"stats","id":1})"}) {
    const json reply = b.one(c, frame);
    INFO(frame);
    CHECK(reply["code"] == "not_authenticated");
    CHECK(reply["id"] == 1);
  }
  CHECK(b.one(c, R"({"op":"ping","id":2})") == json{{"op", "pong"}, {"id", 2}});
  CHECK(b.hub.subscription_count() == 0);
  CHECK(b.hub.topic_count() == 0);
  // Refused requests leave hello open.
  const json welcome = b.one(c, R"({"op":"hello","name":"c","token":"s3cret","id":3})");
  CHECK(welcome["op"] == "welcome");
  CHECK(welcome["id"] == 3);
  CHECK(b.one(c, R"({"op":"sub","topic":"a","id":4})") == json{{"op", "ok"}, {"id", 4}});
  CHECK(b.one(c, R"({"op":"stats"})")["op"] == "stats");
}

TEST_CASE("a wrong or missing token is auth_failed, then bye, then close", "[dispatch][auth]") {
  Bench b(make_options(std::string("s3cret")));
  const std::string hello =
      GENERATE(as<std::string>{}, R"({"op":"hello","token":"guess"})", R"({"op":"hello"})",
               R"({"op":"hello","token":null,"name":"ok"})", R"({"op":"hello","token":7})",
               R"({"op":"hello","token":"S3CRET"})", R"({"op":"hello","token":"s3cret "})",
               R"({"op":"hello","token":"","name":"bad name"})");
  INFO(hello);
  Client& c = b.client();
  const auto replies = b.send(c, hello, Disposition::close);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0]["op"] == "error");
  CHECK(replies[0]["code"] == "auth_failed");
  CHECK_FALSE(replies[0].contains("id"));
  CHECK(replies[1] == json{{"op", "bye"}, {"reason", "auth_failed"}});
}

TEST_CASE("the right token with a bad or taken name may be retried", "[dispatch][auth]") {
  Bench b(make_options(std::string("s3cret")));
  b.greeted("taken");
  Client& c = b.client();
  CHECK(b.code(c, R"({"op":"hello","name":"bad name","token":"s3cret"})") == "bad_name");
  CHECK(b.code(c, R"({"op":"sub","topic":"a"})") == "not_authenticated");
  CHECK(b.code(c, R"({"op":"hello","name":"Taken","token":"s3cret"})") == "name_taken");
  CHECK(b.code(c, R"({"op":"sub","topic":"a"})") == "not_authenticated");
  CHECK(b.code(c, R"({"op":"hello","token":"s3cret","protocol":2})") == "bad_request");
  CHECK(b.one(c, R"({"op":"hello","name":"c","token":"s3cret","protocol":1})")["name"] == "c");
  // Once greeted, a second hello is too late, whatever its token.
  CHECK(b.code(c, R"({"op":"hello","token":"guess"})") == "already_greeted");
  CHECK(b.code(c, R"({"op":"hello","token":"s3cret"})") == "already_greeted");
}

TEST_CASE("without a configured token a hello's token is not checked", "[dispatch][auth]") {
  Bench b;
  Client& c = b.client();
  CHECK(b.one(c, R"({"op":"hello","token":"anything"})")["op"] == "welcome");
  Client& d = b.client();
  CHECK(b.one(d, R"({"op":"sub","topic":"a","id":1})")["op"] == "ok");  // no hello needed
}

// ---------------------------------------------------------------------------------- hello

TEST_CASE("welcome: name, session, server, protocol and limits", "[dispatch][hello]") {
  Bench b;
  Client& c = b.client();
  CHECK(b.one(c, R"({"op":"hello","name":"carol","id":1,"protocol":1})") ==
        json{{"op", "welcome"},
             {"id", 1},
             {"name", "carol"},
             {"session", c.id},
             {"server", "parley/0.1.0"},
             {"protocol", 1},
             {"limits", {{"max_frame", 65536}, {"max_subs", 3}, {"ping_interval_s", 30}}},
             {"node", "b00t"}});
  Client& guest = b.client();
  const json welcome = b.one(guest, R"({"op":"hello"})");
  CHECK(welcome["name"] == b.hub.name_of(guest.id));
  CHECK(welcome["name"].get<std::string>().rfind("guest-", 0) == 0);
  CHECK(welcome["session"] == guest.id);
}

TEST_CASE("hello with echo false keeps a session's own messages from it", "[dispatch][hello]") {
  Bench b;
  Client& quiet = b.client();
  Client& loud = b.greeted("loud");
  b.one(quiet, R"({"op":"hello","name":"quiet","echo":false})");
  for (Client* c : {&quiet, &loud}) b.send(*c, R"({"op":"sub","topic":"t"})");
  CHECK(b.send(quiet, R"({"op":"pub","topic":"t","data":1})").empty());  // not echoed
  CHECK(loud.peer.take().size() == 1);
  CHECK(b.send(loud, R"({"op":"pub","topic":"t","data":2})").size() == 1);  // its own, echoed
  CHECK(quiet.peer.take().size() == 1);
}

TEST_CASE("after any successful request but ping, hello is already_greeted", "[dispatch][hello]") {
  Bench b;
  b.greeted("other");
  Client& c = b.client();
  const std::string request = GENERATE(
      as<std::string>{}, R"({"op":"sub","topic":"a"})", R"({"op":"pub","topic":"a","data":1})",
      R"({"op":"join","topic":"a"})", R"({"op":"who","topic":"a"})", R"({"op":"topics"})",
      R"({"op":"history","topic":"a"})", R"({"op":"stats"})",
      R"({"op":"tell","to":"other","data":1})");
  INFO(request);
  b.send(c, request);
  CHECK(b.code(c, R"({"op":"hello","name":"late"})") == "already_greeted");
  CHECK(b.hub.name_of(c.id) != "late");
}

TEST_CASE("ping, pong and refused requests leave hello open", "[dispatch][hello]") {
  Bench b(make_options(std::nullopt, 1, 1));
  b.greeted("taken");
  Client& c = b.client();
  REQUIRE(c.state.rate.allow_publish(b.now));  // the bucket is empty: pub is refused below
  for (const char* refused : {
           R"({"op":"ping"})",
           R"({"op":"pong"})",
           "not json",
           R"({"op":"fly"})",
           R"({"op":"sub"})",
           R"({"op":"sub","topic":"a..b"})",
           R"({"op":"pub","topic":"$a","data":1})",
           R"({"op":"unsub","topic":"a"})",
           R"({"op":"leave","topic":"a"})",
           R"({"op":"pub","topic":"a","data":1})",
           R"({"op":"hello","name":"bad name"})",
           R"({"op":"hello","name":"TAKEN"})",
           R"({"op":"join","topic":"$x"})",
       }) {
    INFO(refused);
    const bool pong = std::string(refused).find("pong") != std::string::npos;
    CHECK(b.send(c, refused).size() == (pong ? 0U : 1U));
  }
  CHECK(b.code(c, R"({"op":"pub","topic":"a","data":1})") == "rate_limited");
  b.now += 1s;
  CHECK(b.code(c, R"({"op":"tell","to":"nobody","data":1})") == "no_such_user");
  CHECK(b.one(c, R"({"op":"hello","name":"c"})")["op"] == "welcome");
  CHECK(b.code(c, R"({"op":"hello","name":"c2"})") == "already_greeted");
}

// ----------------------------------------------------------------------------- rate limits

TEST_CASE("the rate limiter at its edges", "[rate]") {
  const RateLimiter::Clock::time_point t0{};
  SECTION("the burst is accepted, one more is not, and time refills it") {
    RateLimiter r(2, 4, t0);
    for (int i = 0; i < 4; ++i) CHECK(r.allow_publish(t0));
    CHECK_FALSE(r.allow_publish(t0));
    CHECK_FALSE(r.allow_publish(t0 + 499ms));
    CHECK(r.allow_publish(t0 + 500ms));
    CHECK_FALSE(r.allow_publish(t0 + 500ms));
    // A long rest refills the burst, no more.
    CHECK(r.allow_publish(t0 + 1h));
    for (int i = 0; i < 3; ++i) CHECK(r.allow_publish(t0 + 1h));
    CHECK_FALSE(r.allow_publish(t0 + 1h));
  }
  SECTION("rejected attempts cost nothing") {
    RateLimiter r(10, 1, t0);
    CHECK(r.allow_publish(t0));
    for (int i = 0; i < 100; ++i) CHECK_FALSE(r.allow_publish(t0 + 1ms * i));
    CHECK(r.allow_publish(t0 + 100ms));
  }
  SECTION("a token comes back exactly on time, however often the bucket is asked") {
    for (const int rate : {1, 2, 4, 5, 8, 10, 1000}) {
      const auto interval = std::chrono::nanoseconds(1s) / rate;
      for (int asks = 1; asks <= 40; ++asks) {
        INFO("rate " << rate << ", " << asks << " refused asks on the way");
        RateLimiter r(rate, 1, t0);
        REQUIRE(r.allow_publish(t0));
        for (int i = 1; i < asks; ++i) REQUIRE_FALSE(r.allow_publish(t0 + interval * i / asks));
        REQUIRE_FALSE(r.allow_publish(t0 + interval - 1ns));
        REQUIRE(r.allow_publish(t0 + interval));
        REQUIRE_FALSE(r.allow_publish(t0 + interval));
      }
    }
  }
  SECTION("tell may use only the rate's worth of the bucket") {
    RateLimiter r(2, 5, t0);
    CHECK(r.allow_tell(t0));
    CHECK(r.allow_tell(t0));
    CHECK_FALSE(r.allow_tell(t0));
    CHECK(r.allow_publish(t0));  // pub may go deeper
    CHECK(r.allow_publish(t0));
    CHECK(r.allow_publish(t0));
    CHECK_FALSE(r.allow_publish(t0));
    CHECK_FALSE(r.allow_tell(t0 + 1s));  // two tokens back: not above the reserve
    CHECK(r.allow_tell(t0 + 2s));        // four back
  }
  SECTION("with burst equal to rate, tell and pub share the whole bucket") {
    RateLimiter r(3, 3, t0);
    CHECK(r.allow_tell(t0));
    CHECK(r.allow_publish(t0));
    CHECK(r.allow_tell(t0));
    CHECK_FALSE(r.allow_tell(t0));
    CHECK_FALSE(r.allow_publish(t0));
  }
  SECTION("a rate below one a second still lets a tell through") {
    RateLimiter r(0.5, 2, t0);
    CHECK(r.allow_tell(t0));
    CHECK_FALSE(r.allow_tell(t0));
    CHECK(r.allow_publish(t0));
    CHECK_FALSE(r.allow_publish(t0));
    CHECK_FALSE(r.allow_tell(t0 + 2s));  // one token: tell keeps the other in reserve
    CHECK(r.allow_tell(t0 + 4s));
    RateLimiter one(0.5, 1, t0);
    CHECK(one.allow_tell(t0));
    CHECK_FALSE(one.allow_tell(t0 + 1s));
    CHECK(one.allow_tell(t0 + 2s));
  }
  SECTION("rate 0 is unlimited") {
    RateLimiter r(0, 0, t0);
    for (int i = 0; i < 10000; ++i) {
      REQUIRE(r.allow_publish(t0));
      REQUIRE(r.allow_tell(t0));
    }
  }
}

TEST_CASE("pub at the rate's edge: burst accepted, one more rate_limited and dropped",
          "[dispatch][rate]") {
  Bench b(make_options(std::nullopt, 2, 4));
  Client& c = b.greeted("c");
  Client& s = b.greeted("s");
  b.send(s, R"({"op":"sub","topic":"t"})");
  for (int i = 0; i < 4; ++i) CHECK(b.send(c, R"({"op":"pub","topic":"t","data":1})").empty());
  const json limited = b.one(c, R"({"op":"pub","topic":"t","data":1,"id":"p5"})");
  CHECK(limited["code"] == "rate_limited");
  CHECK(limited["id"] == "p5");
  b.now += 499ms;
  CHECK(b.code(c, R"({"op":"pub","topic":"t","data":1})") == "rate_limited");
  b.now += 1ms;  // one token back
  CHECK(b.one(c, R"({"op":"pub","topic":"t","data":1,"id":1})")["op"] == "ok");
  CHECK(b.code(c, R"({"op":"pub","topic":"t","data":1})") == "rate_limited");
  // Dropped frames were never published: the subscriber saw seq 1..5 without a gap.
  std::vector<int> seqs;
  for (const auto& m : s.peer.take()) seqs.push_back(m["seq"].get<int>());
  CHECK(seqs == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(b.hub.counters().msgs_in == 5);
  // Other sessions have their own buckets (s gets its own message back).
  CHECK(b.send(s, R"({"op":"pub","topic":"t","data":1})").size() == 1);
}

TEST_CASE("tell's burst is the rate, and tell and pub share the bucket", "[dispatch][rate]") {
  Bench b(make_options(std::nullopt, 2, 4));
  Client& c = b.greeted("c");
  Client& teller = b.greeted("teller");
  CHECK(b.send(teller, R"({"op":"tell","to":"c","data":1})").empty());
  CHECK(b.send(teller, R"({"op":"tell","to":"C","data":1})").empty());
  CHECK(b.code(teller, R"({"op":"tell","to":"c","data":1})") == "rate_limited");
  CHECK(c.peer.take().size() == 2);
  CHECK(b.send(teller, R"({"op":"pub","topic":"t","data":1})").empty());
  CHECK(b.send(teller, R"({"op":"pub","topic":"t","data":1})").empty());
  CHECK(b.code(teller, R"({"op":"pub","topic":"t","data":1})") == "rate_limited");
  b.now += 1s;  // two tokens: tell needs more than its reserve of two
  CHECK(b.code(teller, R"({"op":"tell","to":"c","data":1})") == "rate_limited");
  b.now += 500ms;
  CHECK(b.send(teller, R"({"op":"tell","to":"c","data":1})").empty());
  CHECK(b.hub.counters().msgs_in == 5);
}

TEST_CASE("without a rate there is no limit", "[dispatch][rate]") {
  Bench b;
  Client& c = b.greeted("c");
  for (int i = 0; i < 500; ++i) REQUIRE(b.send(c, R"({"op":"pub","topic":"t","data":1})").empty());
  for (int i = 0; i < 500; ++i)
    REQUIRE(b.send(c, R"({"op":"tell","to":"c","data":1})").size() == 1);
  CHECK(b.hub.counters().msgs_in == 1000);
}

// ------------------------------------------------------------------- reply frames, stats

TEST_CASE("joined, who, topics and history replies", "[dispatch][replies]") {
  Bench b(make_options(), HubLimits{10, 1100, 1 << 24});
  Client& a = b.greeted("a");
  Client& z = b.greeted("z");
  for (int i = 1; i <= 1001; ++i)
    b.send(a, R"({"op":"pub","topic":"t","data":)" + std::to_string(i) + "}");
  CHECK(b.one(a, R"({"op":"join","topic":"t","id":1})") == json{{"op", "joined"},
                                                                {"id", 1},
                                                                {"topic", "t"},
                                                                {"epoch", "b00t-0"},
                                                                {"members", {"a"}},
                                                                {"history", json::array()}});
  const json joined = b.one(z, R"({"op":"join","topic":"t","history":2})");
  CHECK(joined["members"] == json{"a", "z"});
  REQUIRE(joined["history"].size() == 2);
  CHECK(joined["history"][0] == json{{"op", "msg"},
                                     {"topic", "t"},
                                     {"from", "a"},
                                     {"data", 1000},
                                     {"seq", 1000},
                                     {"ts", 1000}});
  CHECK_FALSE(joined.contains("recovered"));
  CHECK(a.peer.take() ==
        std::vector<json>{{{"op", "presence"}, {"topic", "t"}, {"name", "z"}, {"state", "join"}}});
  // join's history is capped at 1000, as history's limit is.
  const json capped = b.one(z, R"({"op":"join","topic":"t","history":99999999999999999999})");
  REQUIRE(capped["history"].size() == 1000);
  CHECK(capped["history"][0]["seq"] == 2);
  const json since = b.one(z, R"({"op":"join","topic":"t","since":999,"history":0})");
  CHECK(since["history"].size() == 2);
  CHECK(since["recovered"] == true);
  CHECK(b.one(z, R"({"op":"join","topic":"t","since":5000})")["recovered"] == false);
  CHECK(b.one(z, R"({"op":"who","topic":"t","id":2})") ==
        json{{"op", "who"}, {"id", 2}, {"topic", "t"}, {"members", {"a", "z"}}});
  CHECK(b.one(z, R"({"op":"topics","id":3})") ==
        json{{"op", "topics"},
             {"id", 3},
             {"topics", {{{"topic", "t"}, {"members", 2}, {"seq", 1001}}}}});
  CHECK(b.one(z, R"({"op":"topics","pattern":"x.*"})") ==
        json{{"op", "topics"}, {"topics", json::array()}});
  const json history = b.one(z, R"({"op":"history","topic":"t","limit":2,"before":1001})");
  CHECK(history["op"] == "history");
  CHECK(history["topic"] == "t");
  REQUIRE(history["messages"].size() == 2);
  CHECK(history["messages"][0]["seq"] == 999);
  CHECK(history["messages"][1]["seq"] == 1000);
  CHECK(b.one(z, R"({"op":"history","topic":"t"})")["messages"].size() == 50);
  CHECK(b.one(z, R"({"op":"history","topic":"t","limit":1000})")["messages"].size() == 1000);
  CHECK(
      b.one(z, R"({"op":"history","topic":"none"})") ==
      json{{"op", "history"}, {"topic", "none"}, {"epoch", "b00t-0"}, {"messages", json::array()}});
}

TEST_CASE("pub passes reply and the wall clock through", "[dispatch][replies]") {
  Bench b;
  Client& c = b.greeted("c");
  b.send(c, R"({"op":"sub","topic":"t"})");
  CHECK(b.dispatcher.handle(c.state, c.peer,
                            R"({"op":"pub","topic":"t","data":{"a":[1]},"reply":"inbox.c"})", b.now,
                            1700000000999) == Disposition::keep_open);
  CHECK(c.peer.take() == std::vector<json>{{{"op", "msg"},
                                            {"topic", "t"},
                                            {"from", "c"},
                                            {"data", {{"a", {1}}}},
                                            {"seq", 1},
                                            {"ts", 1700000000999},
                                            {"reply", "inbox.c"}}});
}

TEST_CASE("stats reports every field", "[dispatch][stats]") {
  Bench b;
  Client& a = b.greeted("a");
  Client& c = b.greeted("c");
  b.send(a, R"({"op":"sub","topic":"t"})");
  b.send(c, R"({"op":"sub","topic":"t"})");
  b.one(c, R"({"op":"join","topic":"room"})");
  b.send(a, R"({"op":"pub","topic":"t","data":1})");
  b.send(a, R"({"op":"tell","to":"c","data":1})");
  b.hub.counters().bytes_in = 1234;  // the sessions count wire bytes
  b.hub.counters().bytes_out = 5678;
  b.hub.counters().slow_consumers = 2;
  const json stats = b.one(a, R"({"op":"stats","id":"s"})");
  CHECK(stats["op"] == "stats");
  CHECK(stats["id"] == "s");
  CHECK(stats["uptime_s"].get<long>() >= 90);
  CHECK(stats["uptime_s"].get<long>() < 3600);
  CHECK(stats["connections"] == 2);
  CHECK(stats["topics"] == 2);         // t (history) and room (a member)
  CHECK(stats["subscriptions"] == 3);  // two subs and a join
  CHECK(stats["msgs_in"] == 2);
  CHECK(stats["msgs_out"] == 3);  // the pub to a and c, the tell to c
  CHECK(stats["bytes_in"] == 1234);
  CHECK(stats["bytes_out"] == 5678);
  CHECK(stats["slow_consumers"] == 2);
  b.hub.disconnect(c.id);
  CHECK(b.one(a, R"({"op":"stats"})")["connections"] == 1);
}

TEST_CASE("replies and errors go through Peer::reply, events through deliver",
          "[dispatch][replies]") {
  Bench b;
  Client& c = b.greeted("me");
  c.peer.refuse = true;  // its event queue is full: replies must still get through
  const int offered = c.peer.offered;
  CHECK(b.one(c, R"({"op":"join","topic":"room","id":1})")["op"] == "joined");
  CHECK(b.one(c, R"({"op":"stats","id":2})")["op"] == "stats");
  CHECK(b.code(c, R"({"op":"leave","topic":"other"})") == "not_joined");
  CHECK(b.one(c, R"({"op":"ping"})")["op"] == "pong");
  CHECK(c.peer.offered == offered);  // nothing was offered as an event
  CHECK(c.peer.replies >= 4);
  // Its own message on a joined topic is an event: offered, and refused.
  CHECK(b.send(c, R"({"op":"pub","topic":"room","data":1})").empty());
  CHECK(c.peer.offered == offered + 1);
}

TEST_CASE("failed hellos are reported without the token and throttled per address",
          "[dispatch][auth]") {
  DispatchOptions options = make_options("s3cret");
  std::vector<std::string> log;
  options.on_auth_failure = [&](const AuthFailure& f) {
    log.push_back(std::string(f.address) + " " + std::string(f.name.value_or("-")) + " " +
                  std::string(f.reason) + (f.throttled ? " throttled" : ""));
  };
  Bench b(options);
  const auto hello = [&](const std::string& address, const std::string& token) {
    Client& c = b.client();
    c.state.peer_address = address;
    return b.send(c, R"({"op":"hello","name":"eve","token":")" + token + "\"}", Disposition::close);
  };
  for (int i = 0; i < 10; ++i) {
    const auto replies = hello("10.0.0.9", "guess" + std::to_string(i));
    REQUIRE(replies.size() == 2);
    CHECK(replies[0]["message"] == "wrong token");
  }
  REQUIRE(log.size() == 10);
  CHECK(log[0] == "10.0.0.9 eve wrong token");
  for (const auto& line : log) CHECK(line.find("guess") == std::string::npos);
  // The eleventh fails at once, even with the right token, until the window passes.
  auto replies = hello("10.0.0.9", "s3cret");
  REQUIRE(replies.size() == 2);
  CHECK(replies[0]["code"] == "auth_failed");
  CHECK(replies[0]["message"].get<std::string>().find("too many") != std::string::npos);
  CHECK(log.back().ends_with(" throttled"));
  // Another address is not affected.
  Client& other = b.client();
  other.state.peer_address = "10.0.0.10";
  CHECK(b.one(other, R"({"op":"hello","name":"ok","token":"s3cret"})")["op"] == "welcome");
  b.now += 61s;
  Client& later = b.client();
  later.state.peer_address = "10.0.0.9";
  CHECK(b.one(later, R"({"op":"hello","name":"eve","token":"s3cret"})")["op"] == "welcome");
}

TEST_CASE("a password alone counts for nothing while only a token exists", "[dispatch][auth]") {
  Bench open;
  Client& c = open.client();
  CHECK(open.one(c, R"({"op":"hello","name":"a","password":"pw"})")["op"] == "welcome");
  Bench guarded(make_options("s3cret"));
  Client& d = guarded.client();
  CHECK(guarded.send(d, R"({"op":"hello","name":"a","password":"s3cret"})", Disposition::close)
            .at(0)["code"] == "auth_failed");
}

TEST_CASE("hello protocol other than 1 is bad_request, and welcome names the node",
          "[dispatch][hello]") {
  Bench b;
  Client& c = b.client();
  CHECK(b.code(c, R"({"op":"hello","protocol":2})") == "bad_request");
  CHECK(b.code(c, R"({"op":"hello","protocol":"1"})") == "bad_request");
  const json welcome = b.one(c, R"({"op":"hello","protocol":1})");
  CHECK(welcome["node"] == "b00t");
  CHECK(welcome["protocol"] == 1);
}

TEST_CASE("topics paging, history after and epochs through the dispatcher",
          "[dispatch][replies][paging]") {
  Bench b;
  Client& a = b.greeted("a");
  for (const char* t : {"x.1", "x.2", "x.3"})
    b.send(a, std::string(R"({"op":"pub","topic":")") + t + R"(","data":0})");
  const json first = b.one(a, R"({"op":"topics","limit":2})");
  CHECK(first["topics"].size() == 2);
  CHECK(first["more"] == true);
  const json rest = b.one(a, R"({"op":"topics","limit":2,"after":"x.2"})");
  CHECK(rest["topics"].size() == 1);
  CHECK(rest["topics"][0]["topic"] == "x.3");
  CHECK_FALSE(rest.contains("more"));
  CHECK(b.code(a, R"({"op":"topics","limit":0})") == "bad_request");
  for (int i = 0; i < 5; ++i) b.send(a, R"({"op":"pub","topic":"h","data":0})");
  const json after = b.one(a, R"({"op":"history","topic":"h","after":3})");
  CHECK(after["messages"].size() == 2);
  CHECK(after["messages"][0]["seq"] == 4);
  CHECK(after["epoch"] == "b00t-0");
  CHECK(b.code(a, R"({"op":"history","topic":"h","after":3,"before":5})") == "bad_request");
  Client& r = b.greeted("r");
  const json stale = b.one(r, R"({"op":"join","topic":"h","since":3,"epoch":"old-0"})");
  CHECK(stale["recovered"] == false);
  CHECK(stale["history"].size() == 5);
  CHECK(stale["epoch"] == "b00t-0");
  const json resumed = b.one(r, R"({"op":"join","topic":"h","since":3,"epoch":"b00t-0"})");
  CHECK(resumed["recovered"] == true);
  CHECK(resumed["history"].size() == 2);
}
