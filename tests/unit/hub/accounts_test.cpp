// Accounts through the dispatcher and hub with fake peers: hello with a password (the
// check the server runs on a worker is run here by the test, in between), the throttle,
// a table of permission cases, delivery filtering, topics filtered and paged, takeover,
// and users-file reloads that revoke or narrow.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "dispatcher.hpp"
#include "fake_peer.hpp"
#include "password_hash.hpp"
#include "users_file.hpp"

using namespace parley::server;
using parley::test::FakePeer;
using json = nlohmann::json;
using Clock = Dispatcher::Clock;
using namespace std::chrono_literals;

namespace {

// A valid hash of this password (tests/unit/auth/users_file_test.cpp uses it too).
const std::string kPassword = "correct horse battery staple";
const std::string kHash =
    "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU";

std::string account(const std::string& name, const std::string& rights = "",
                    const std::string& hash = kHash) {
  return R"({"name":")" + name + R"(","password":")" + hash + "\"" + rights + "}";
}

std::shared_ptr<const parley::auth::Users> users(const std::vector<std::string>& accounts) {
  std::string text = R"({"users":[)";
  for (std::size_t i = 0; i < accounts.size(); ++i) text += (i ? "," : "") + accounts[i];
  text += "]}";
  auto parsed = parley::auth::parse_users_file(text);
  if (auto* reason = std::get_if<std::string>(&parsed)) FAIL("users file refused: " << *reason);
  return std::make_shared<const parley::auth::Users>(
      std::move(std::get<parley::auth::Users>(parsed)));
}

// The accounts most cases use.
std::shared_ptr<const parley::auth::Users> standard_users() {
  return users({
      account("alice"),  // no lists: everything allowed
      account("bob", R"(,"publish":["chat.>"],"subscribe":["chat.>"],)"
                     R"("deny_publish":["chat.ro"],"deny_subscribe":["chat.secret"],"tell":false)"),
      account("dave", R"(,"deny_subscribe":["chat.secret"])"),
      account("carol", R"(,"subscribe":["t.*"])"),
  });
}

struct Client {
  Client(Hub& hub, const DispatchOptions& options, Clock::time_point now, std::string address)
      : id(hub.connect(peer)), state(id, options, now) {
    state.peer_address = std::move(address);
  }
  FakePeer peer;
  SessionId id;
  SessionState state;
};

struct Accounts {
  explicit Accounts(std::shared_ptr<const parley::auth::Users> initial = standard_users())
      : hub(HubLimits{10, 100, 1 << 20}, "b00t"),
        options(make_options(std::move(initial))),
        dispatcher(hub, options, std::chrono::system_clock::now()) {}
  DispatchOptions make_options(std::shared_ptr<const parley::auth::Users> u) {
    DispatchOptions o;
    o.users = std::move(u);
    o.limits = {65536, 10, 30};
    o.on_auth_failure = [this](const AuthFailure& f) {
      failures.push_back(std::string(f.reason) + (f.throttled ? " (throttled)" : ""));
    };
    return o;
  }

  Client& client(const std::string& address = "10.0.0.1") {
    clients.push_back(std::make_unique<Client>(hub, options, now, address));
    return *clients.back();
  }
  // Sends a hello and, when the dispatcher parks it, runs its password check as a worker
  // would and completes it. Returns what the session got and the final disposition.
  std::pair<std::vector<json>, Disposition> hello(Client& c, const std::string& frame) {
    Disposition d = dispatcher.handle(c.state, c.peer, frame, now, 1000);
    if (d == Disposition::verify) {
      REQUIRE(c.state.pending.has_value());
      CHECK(c.peer.take().empty());  // nothing is answered before the check is done
      auto checked = c.state.pending->check.run();
      d = dispatcher.complete_hello(c.state, c.peer, std::move(checked), now);
    }
    return {c.peer.take(), d};
  }
  Client& login(const std::string& name, const std::string& address = "10.0.0.1") {
    Client& c = client(address);
    const auto [frames, d] =
        hello(c, json{{"op", "hello"}, {"name", name}, {"password", kPassword}, {"id", 1}}.dump());
    REQUIRE(d == Disposition::keep_open);
    REQUIRE(frames.size() == 1);
    REQUIRE(frames[0]["op"] == "welcome");
    return c;
  }
  std::vector<json> send(Client& c, const json& frame) {
    CHECK(dispatcher.handle(c.state, c.peer, frame.dump(), now, 1000) == Disposition::keep_open);
    return c.peer.take();
  }
  // The reply's op, or "error:<code>".
  std::string outcome(Client& c, const json& frame) {
    const auto frames = send(c, frame);
    INFO(frame.dump());
    REQUIRE(frames.size() == 1);
    const json& r = frames[0];
    return r["op"] == "error" ? "error:" + r["code"].get<std::string>()
                              : r["op"].get<std::string>();
  }

  std::vector<std::string> failures;  // what on_auth_failure was told; before options
  Hub hub;
  DispatchOptions options;
  Dispatcher dispatcher;
  Clock::time_point now = Clock::time_point{} + 1000h;
  std::vector<std::unique_ptr<Client>> clients;
};

json pub(const std::string& topic, const json& data = 1) {
  return {{"op", "pub"}, {"topic", topic}, {"data", data}, {"id", 1}};
}

std::vector<std::string> msg_topics(const std::vector<json>& frames) {
  std::vector<std::string> topics;
  for (const json& f : frames)
    if (f["op"] == "msg") topics.push_back(f["topic"].get<std::string>());
  return topics;
}

}  // namespace

// ------------------------------------------------------------------------------ hello

TEST_CASE("accounts: hello needs a known name and its password", "[accounts][hello]") {
  Accounts a;
  SECTION("the right password, any case of the name, gets welcome with the hello's spelling") {
    Client& c = a.client();
    const auto [frames, d] = a.hello(
        c, json{{"op", "hello"}, {"name", "ALICE"}, {"password", kPassword}, {"id", 4}}.dump());
    CHECK(d == Disposition::keep_open);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["op"] == "welcome");
    CHECK(frames[0]["id"] == 4);
    CHECK(frames[0]["name"] == "ALICE");
    CHECK(c.state.authenticated);
    REQUIRE(c.state.account != nullptr);
    CHECK(c.state.account->name == "alice");
    CHECK(a.outcome(c,
                    json{{"op", "hello"}, {"name", "alice"}, {"password", kPassword}, {"id", 2}}) ==
          "error:already_greeted");
  }
  SECTION("refusals are auth_failed, then bye, and close") {
    const std::vector<json> refused = {
        {{"op", "hello"}, {"name", "alice"}, {"password", "wrong"}, {"id", 1}},
        {{"op", "hello"}, {"name", "nobody"}, {"password", kPassword}, {"id", 1}},
        {{"op", "hello"}, {"name", "alice"}, {"id", 1}},
        {{"op", "hello"}, {"password", kPassword}, {"id", 1}},
        {{"op", "hello"}, {"name", "alice"}, {"token", kPassword}, {"id", 1}},
    };
    for (const json& frame : refused) {
      INFO(frame.dump());
      Client& c = a.client();
      const auto [frames, d] = a.hello(c, frame.dump());
      CHECK(d == Disposition::close);
      REQUIRE(frames.size() == 2);
      CHECK(frames[0]["op"] == "error");
      CHECK(frames[0]["code"] == "auth_failed");
      CHECK(frames[0]["id"] == 1);
      CHECK(frames[1] == json{{"op", "bye"}, {"reason", "auth_failed"}});
      CHECK_FALSE(c.state.authenticated);
    }
    CHECK(a.failures.size() == refused.size());
    for (const std::string& f : a.failures) CHECK(f.find(kPassword) == std::string::npos);
  }
  SECTION("before hello only ping and quit work") {
    Client& c = a.client();
    CHECK(a.outcome(c, {{"op", "sub"}, {"topic", "a"}, {"id", 1}}) == "error:not_authenticated");
    CHECK(a.outcome(c, {{"op", "ping"}, {"id", 1}}) == "pong");
  }
  SECTION("a later fault of a hello with the right password is reported; hello may be retried") {
    Client& c = a.client();
    const auto [frames, d] = a.hello(
        c, json{{"op", "hello"}, {"name", "alice"}, {"password", kPassword}, {"echo", 5}}.dump());
    CHECK(d == Disposition::keep_open);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0]["code"] == "bad_request");
    CHECK_FALSE(c.state.authenticated);
    const auto [again, d2] =
        a.hello(c, json{{"op", "hello"}, {"name", "alice"}, {"password", kPassword}}.dump());
    CHECK(d2 == Disposition::keep_open);
    REQUIRE(again.size() == 1);
    CHECK(again[0]["op"] == "welcome");
  }
}

TEST_CASE("accounts: ten failures from one address, then hellos fail at once unchecked",
          "[accounts][throttle]") {
  Accounts a;
  const std::string bad = json{{"op", "hello"}, {"name", "alice"}, {"password", "guess"}}.dump();
  for (int i = 0; i < 10; ++i) {
    Client& c = a.client("10.9.9.9");
    CHECK(a.dispatcher.handle(c.state, c.peer, bad, a.now, 0) == Disposition::verify);
    CHECK(a.dispatcher.complete_hello(c.state, c.peer, c.state.pending->check.run(), a.now) ==
          Disposition::close);
  }
  // The right password from that address is refused too, without a check being parked.
  Client& blocked = a.client("10.9.9.9");
  const std::string good = json{{"op", "hello"}, {"name", "alice"}, {"password", kPassword}}.dump();
  CHECK(a.dispatcher.handle(blocked.state, blocked.peer, good, a.now, 0) == Disposition::close);
  CHECK_FALSE(blocked.state.pending.has_value());
  CHECK(blocked.peer.take()[0]["code"] == "auth_failed");
  CHECK(a.failures.back().find("(throttled)") != std::string::npos);
  // Another address is not affected; a minute later the first one is free again.
  a.login("alice", "10.9.9.10");
  a.now += 61s;
  a.login("dave", "10.9.9.9");
}

TEST_CASE("accounts: a reload while a hello is checked decides by the new file",
          "[accounts][hello][reload]") {
  Accounts a;
  Client& c = a.client();
  const std::string hello =
      json{{"op", "hello"}, {"name", "bob"}, {"password", kPassword}, {"id", 1}}.dump();
  REQUIRE(a.dispatcher.handle(c.state, c.peer, hello, a.now, 0) == Disposition::verify);
  auto checked = c.state.pending->check.run();  // against the old file: bob exists
  REQUIRE(checked != nullptr);
  a.dispatcher.set_users(users({account("alice")}));
  CHECK(a.dispatcher.complete_hello(c.state, c.peer, std::move(checked), a.now) ==
        Disposition::close);
  CHECK(c.peer.take()[0]["code"] == "auth_failed");
}

// ------------------------------------------------------------------------ permissions

TEST_CASE("accounts: a table of permission cases", "[accounts][permissions]") {
  Accounts a;
  Client& bob = a.login("bob");
  a.login("alice");
  struct Case {
    json request;
    std::string outcome;
  };
  const std::vector<Case> table = {
      // publish rights: topic and reply
      {pub("chat.general"), "ok"},
      {pub("news"), "error:forbidden"},
      {pub("chat.ro"), "error:forbidden"},  // denied though chat.> allows it
      {{{"op", "pub"}, {"topic", "chat.a"}, {"data", 1}, {"reply", "news.r"}, {"id", 1}},
       "error:forbidden"},  // a reply to a forbidden topic
      {{{"op", "pub"}, {"topic", "chat.a"}, {"data", 1}, {"reply", "chat.r"}, {"id", 1}}, "ok"},
      {{{"op", "pub"}, {"topic", "chat.a"}, {"data", 1}, {"reply", "chat.ro"}, {"id", 1}},
       "error:forbidden"},
      // sub by containment
      {{{"op", "sub"}, {"topic", "chat.*"}, {"id", 1}}, "ok"},  // chat.* is in chat.>
      {{{"op", "sub"}, {"topic", "chat.>"}, {"id", 1}}, "ok"},
      {{{"op", "sub"}, {"topic", "chat.x.y"}, {"id", 1}}, "ok"},
      {{{"op", "sub"}, {"topic", ">"}, {"id", 1}}, "error:forbidden"},
      {{{"op", "sub"}, {"topic", "*.general"}, {"id", 1}}, "error:forbidden"},
      {{{"op", "sub"}, {"topic", "chat"}, {"id", 1}}, "error:forbidden"},         // > needs a token
      {{{"op", "sub"}, {"topic", "chat.secret"}, {"id", 1}}, "error:forbidden"},  // all denied
      // join, who, history as subscribe
      {{{"op", "join"}, {"topic", "chat.room"}, {"id", 1}}, "joined"},
      {{{"op", "join"}, {"topic", "chat.secret"}, {"id", 1}}, "error:forbidden"},
      {{{"op", "join"}, {"topic", "news"}, {"id", 1}}, "error:forbidden"},
      {{{"op", "who"}, {"topic", "chat.room"}, {"id", 1}}, "who"},
      {{{"op", "who"}, {"topic", "news"}, {"id", 1}}, "error:forbidden"},
      {{{"op", "history"}, {"topic", "chat.room"}, {"id", 1}}, "history"},
      {{{"op", "history"}, {"topic", "chat.secret"}, {"id", 1}}, "error:forbidden"},
      // tell false
      {{{"op", "tell"}, {"to", "alice"}, {"data", "hi"}, {"id", 1}}, "error:forbidden"},
      // permissions come after names and topics in the fault order
      {{{"op", "pub"}, {"topic", "news.*"}, {"data", 1}, {"id", 1}}, "error:bad_topic"},
      {{{"op", "join"}, {"topic", "$sys.x"}, {"id", 1}}, "error:forbidden"},
  };
  for (const Case& c : table) {
    INFO(c.request.dump());
    CHECK(a.outcome(bob, c.request) == c.outcome);
  }
  // A refusal names the account and the topic.
  const auto refused = a.send(bob, pub("news"));
  CHECK(refused[0]["message"].get<std::string>().find("'news'") != std::string::npos);
  // Other accounts are not narrowed by bob's lists.
  Client& alice = a.login("alice", "10.0.0.2");
  CHECK(a.outcome(alice, {{"op", "tell"}, {"to", "bob"}, {"data", "hi"}, {"id", 1}}) == "ok");
  CHECK(a.outcome(alice, {{"op", "sub"}, {"topic", ">"}, {"id", 1}}) == "ok");
}

TEST_CASE("accounts: a > sub with one denied topic receives everything else",
          "[accounts][permissions][delivery]") {
  Accounts a;
  Client& dave = a.login("dave");
  Client& alice = a.login("alice");
  REQUIRE(a.outcome(dave, {{"op", "sub"}, {"topic", ">"}, {"id", 1}}) == "ok");
  REQUIRE(a.outcome(dave, {{"op", "sub"}, {"topic", "chat.*"}, {"id", 2}}) == "ok");
  for (const std::string topic : {"chat.general", "chat.secret", "news", "chat.secret.x"})
    REQUIRE(a.outcome(alice, pub(topic)) == "ok");
  CHECK(msg_topics(dave.peer.take()) ==
        std::vector<std::string>{"chat.general", "news", "chat.secret.x"});
  // A queue group skips a member that may not receive the message instead of losing it.
  Client& carol = a.login("carol");
  REQUIRE(a.outcome(dave, {{"op", "sub"}, {"topic", "chat.*"}, {"group", "g"}, {"id", 1}}) == "ok");
  REQUIRE(a.outcome(dave, {{"op", "unsub"}, {"topic", ">"}, {"id", 1}}) == "ok");
  REQUIRE(a.outcome(alice, {{"op", "sub"}, {"topic", "chat.*"}, {"group", "g"}, {"id", 1}}) ==
          "ok");
  alice.peer.take();
  for (int i = 0; i < 4; ++i) REQUIRE(a.outcome(carol, pub("chat.secret")) == "ok");
  CHECK(msg_topics(dave.peer.take()).empty());
  CHECK(msg_topics(alice.peer.take()).size() == 4);
  for (int i = 0; i < 4; ++i) REQUIRE(a.outcome(carol, pub("chat.open")) == "ok");
  CHECK(msg_topics(dave.peer.take()).size() == 2);  // round robin where both may
  CHECK(msg_topics(alice.peer.take()).size() == 2);
}

TEST_CASE("accounts: topics lists only topics the session may subscribe to, paged right",
          "[accounts][permissions][topics]") {
  Accounts a;
  Client& alice = a.login("alice");
  Client& carol = a.login("carol");  // subscribe: t.*
  for (const std::string topic : {"a", "s.1", "t.1", "t.2", "t.x.y", "t.3", "u"})
    REQUIRE(a.outcome(alice, pub(topic)) == "ok");
  const auto list = [&](const json& request) {
    const auto frames = a.send(carol, request);
    REQUIRE(frames.size() == 1);
    std::vector<std::string> names;
    for (const json& t : frames[0]["topics"]) names.push_back(t["topic"].get<std::string>());
    return std::make_pair(names, frames[0].value("more", false));
  };
  CHECK(list({{"op", "topics"}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{"t.1", "t.2", "t.3"}, false));
  CHECK(list({{"op", "topics"}, {"limit", 2}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{"t.1", "t.2"}, true));
  CHECK(list({{"op", "topics"}, {"limit", 2}, {"after", "t.2"}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{"t.3"}, false));
  CHECK(list({{"op", "topics"}, {"limit", 3}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{"t.1", "t.2", "t.3"}, false));
  CHECK(list({{"op", "topics"}, {"pattern", "u"}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{}, false));
  CHECK(list({{"op", "topics"}, {"pattern", "*.2"}, {"id", 1}}) ==
        std::make_pair(std::vector<std::string>{"t.2"}, false));
  // alice (no lists) sees them all.
  const auto all = a.send(alice, {{"op", "topics"}, {"id", 1}});
  CHECK(all[0]["topics"].size() == 7);
}

// --------------------------------------------------------------------------- takeover

TEST_CASE("accounts: a new login takes the name over and the old session leaves its rooms",
          "[accounts][takeover]") {
  Accounts a;
  Client& watcher = a.login("dave");
  Client& old = a.login("alice", "10.0.0.5");
  REQUIRE(a.outcome(watcher, {{"op", "join"}, {"topic", "room"}, {"id", 1}}) == "joined");
  REQUIRE(a.outcome(old, {{"op", "join"}, {"topic", "room"}, {"id", 1}}) == "joined");
  REQUIRE(a.outcome(old, {{"op", "sub"}, {"topic", "x"}, {"id", 1}}) == "ok");
  watcher.peer.take();

  Client& fresh = a.client("10.0.0.6");
  const auto [frames, d] = a.hello(
      fresh, json{{"op", "hello"}, {"name", "Alice"}, {"password", kPassword}, {"id", 9}}.dump());
  CHECK(d == Disposition::keep_open);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0]["op"] == "welcome");
  CHECK(frames[0]["name"] == "Alice");
  CHECK(old.peer.evictions == std::vector<std::string>{"replaced"});
  CHECK_FALSE(a.hub.contains(old.id));
  CHECK(watcher.peer.take() ==
        std::vector<json>{
            {{"op", "presence"}, {"topic", "room"}, {"name", "alice"}, {"state", "leave"}}});
  CHECK(a.hub.who("room") == std::vector<std::string>{"dave"});
  // The old session's subscription went with it.
  REQUIRE(a.outcome(watcher, pub("x")) == "ok");
  CHECK(old.peer.take().empty());
}

TEST_CASE("without accounts a taken name stays name_taken", "[accounts][takeover]") {
  Hub hub(HubLimits{10, 100, 1 << 20}, "b00t");
  FakePeer first, second;
  const SessionId one = hub.connect(first);
  const SessionId two = hub.connect(second);
  REQUIRE_FALSE(hub.greet(one, std::string("alice"), true).has_value());
  const Status status = hub.greet(two, std::string("ALICE"), true);
  REQUIRE(status.has_value());
  CHECK(status->code == parley::protocol::ErrorCode::name_taken);
  CHECK(first.evictions.empty());
}

// ----------------------------------------------------------------------------- reload

TEST_CASE("accounts: a reload that removes an account or changes its password revokes",
          "[accounts][reload]") {
  Accounts a;
  Client& alice = a.login("alice");
  Client& bob = a.login("bob");
  Client& dave = a.login("dave");
  const std::string other_hash = parley::auth::hash_password("another password");
  a.dispatcher.set_users(users({account("alice", "", other_hash), account("dave")}));
  CHECK(a.dispatcher.reapply(alice.state, alice.peer) == Reapplied::revoked);  // password
  CHECK(a.dispatcher.reapply(bob.state, bob.peer) == Reapplied::revoked);      // gone
  CHECK(a.dispatcher.reapply(dave.state, dave.peer) == Reapplied::kept);
  CHECK(dave.peer.take().empty());
}

TEST_CASE("accounts: a reload that narrows rights removes what is no longer allowed",
          "[accounts][reload]") {
  Accounts a;
  Client& dave = a.login("dave");
  Client& member = a.login("alice");
  for (const std::string topic : {">", "chat.*", "news.*"})
    REQUIRE(a.outcome(dave, {{"op", "sub"}, {"topic", topic}, {"id", 1}}) == "ok");
  REQUIRE(a.outcome(member, {{"op", "join"}, {"topic", "news.room"}, {"id", 1}}) == "joined");
  REQUIRE(a.outcome(dave, {{"op", "join"}, {"topic", "news.room"}, {"id", 1}}) == "joined");
  REQUIRE(a.outcome(dave, {{"op", "join"}, {"topic", "chat.room"}, {"id", 1}}) == "joined");
  member.peer.take();

  a.dispatcher.set_users(
      users({account("alice"), account("dave", R"(,"subscribe":["chat.>"],)"
                                               R"("deny_subscribe":["chat.x"])")}));
  REQUIRE(a.dispatcher.reapply(dave.state, dave.peer) == Reapplied::kept);
  const auto events = dave.peer.take();
  std::vector<std::string> messages;
  for (const json& e : events) {
    CHECK(e["op"] == "error");
    CHECK(e["code"] == "forbidden");
    CHECK_FALSE(e.contains("id"));
    messages.push_back(e["message"].get<std::string>());
  }
  REQUIRE(messages.size() == 3);  // '>' and 'news.*' unsubscribed, 'news.room' left
  CHECK(messages[0].find("'>'") != std::string::npos);
  CHECK(messages[1].find("'news.*'") != std::string::npos);
  CHECK(messages[2].find("'news.room'") != std::string::npos);
  CHECK(a.hub.patterns_of(dave.id) == std::vector<std::string>{"chat.*"});
  CHECK(a.hub.rooms_of(dave.id) == std::vector<std::string>{"chat.room"});
  CHECK(member.peer.take() ==
        std::vector<json>{
            {{"op", "presence"}, {"topic", "news.room"}, {"name", "dave"}, {"state", "leave"}}});
  // The new rights apply from now on: requests and the new deny list at delivery.
  CHECK(a.outcome(dave, {{"op", "sub"}, {"topic", "news.*"}, {"id", 1}}) == "error:forbidden");
  for (const std::string topic : {"chat.x", "chat.y", "news.a"})
    REQUIRE(a.outcome(member, pub(topic)) == "ok");
  CHECK(msg_topics(dave.peer.take()) == std::vector<std::string>{"chat.y"});
}
