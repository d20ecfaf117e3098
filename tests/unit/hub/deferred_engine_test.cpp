// The dispatcher over an engine that answers later, as the cluster engine does: replies
// keep the order of the requests, the session is served meanwhile, a refused hello undoes
// its greeting, and an answer for a session that is gone is dropped.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "dispatcher.hpp"
#include "engine.hpp"
#include "fake_peer.hpp"
#include "users_file.hpp"

using namespace parley::server;
using parley::test::FakePeer;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Decides like LocalEngine, but holds back the answers of greet and who until release().
class LaterEngine final : public Engine {
 public:
  explicit LaterEngine(Hub& hub) : local_(hub) {}
  void release() {
    auto held = std::move(held_);
    held_.clear();
    for (auto& answer : held) answer();
  }
  std::size_t held() const noexcept { return held_.size(); }
  std::optional<HubError> refuse_names;  // greet answers this, when set

  const std::string& node_id() const override { return local_.node_id(); }
  Hub& hub() override { return local_.hub(); }
  void greet(SessionId id, const std::optional<std::string>& name, bool echo, bool take_over,
             Done<Status> done) override {
    held_.push_back([this, id, name, echo, take_over, done] {
      if (refuse_names) return done(refuse_names);
      local_.greet(id, name, echo, take_over, done);
    });
  }
  void subscribe(SessionId id, const std::string& pattern, const std::optional<std::string>& group,
                 Done<Status> done) override {
    local_.subscribe(id, pattern, group, std::move(done));
  }
  Status unsubscribe(SessionId id, const std::string& pattern) override {
    return local_.unsubscribe(id, pattern);
  }
  Status publish(SessionId id, std::string_view topic, std::string_view data_json,
                 std::optional<std::string_view> reply, std::int64_t ts_ms) override {
    return local_.publish(id, topic, data_json, reply, ts_ms);
  }
  void join(SessionId id, const std::string& topic, int history, std::optional<std::uint64_t> since,
            const std::optional<std::string>& epoch,
            Done<std::pair<Status, JoinView>> done) override {
    local_.join(id, topic, history, since, epoch, std::move(done));
  }
  Status leave(SessionId id, const std::string& topic) override { return local_.leave(id, topic); }
  void tell(SessionId id, std::string_view to, std::string_view data_json, std::int64_t ts_ms,
            Done<Status> done) override {
    local_.tell(id, to, data_json, ts_ms, std::move(done));
  }
  void who(const std::string& topic,
           Done<std::pair<Status, std::vector<std::string>>> done) override {
    held_.push_back([this, topic, done] { local_.who(topic, done); });
  }
  void topics(const std::optional<std::string>& pattern, int limit,
              const std::optional<std::string>& after,
              std::shared_ptr<const parley::auth::Permissions> rights,
              Done<std::pair<Status, TopicsView>> done) override {
    // Held like who: the rights must still apply when the answer comes later.
    held_.push_back([this, pattern, limit, after, rights, done] {
      local_.topics(pattern, limit, after, rights, done);
    });
  }
  void history(const std::string& topic, int limit, std::optional<std::uint64_t> before,
               std::optional<std::uint64_t> after,
               Done<std::pair<Status, MessagesView>> done) override {
    local_.history(topic, limit, before, after, std::move(done));
  }
  parley::protocol::StatsReport stats_report(std::uint64_t uptime_s) const override {
    return local_.stats_report(uptime_s);
  }

 private:
  LocalEngine local_;
  std::vector<std::function<void()>> held_;
};

struct Bench {
  Bench() : hub(HubLimits{}, "b00t"), engine(hub), dispatcher(engine, options(), now_wall()) {}
  static DispatchOptions options() {
    DispatchOptions o;
    o.limits = {65536, 10, 30};
    return o;
  }
  static std::chrono::system_clock::time_point now_wall() {
    return std::chrono::system_clock::now();
  }
  void send(SessionState& state, FakePeer& peer, const std::string& frame) {
    dispatcher.handle(state, peer, frame, Dispatcher::Clock::now(), 1000);
  }
  Hub hub;
  LaterEngine engine;
  Dispatcher dispatcher;
};

}  // namespace

TEST_CASE("replies wait for an earlier deferred one, and the session is served meanwhile",
          "[dispatch][deferred]") {
  Bench b;
  FakePeer peer;
  SessionState state(b.hub.connect(peer), Bench::options(), Dispatcher::Clock::now());
  b.send(state, peer, R"({"op":"who","topic":"t","id":1})");
  b.send(state, peer, R"({"op":"sub","topic":"t","id":2})");
  b.send(state, peer, R"({"op":"pub","topic":"t","data":7,"id":3})");
  b.send(state, peer, R"({"op":"ping","id":4})");
  b.send(state, peer, R"({"op":"nonsense"})");
  // The pub was served (its msg is an event, not held back); its ok waits behind who's.
  const auto first = peer.take();
  REQUIRE(first.size() == 1);
  CHECK(first[0]["op"] == "msg");
  CHECK(b.engine.held() == 1);
  b.engine.release();
  std::vector<std::string> ops;
  std::vector<json> ids;
  for (const auto& f : peer.take()) {
    ops.push_back(f["op"]);
    ids.push_back(f.value("id", json()));
  }
  CHECK(ops == std::vector<std::string>{"who", "ok", "ok", "pong", "error"});
  CHECK(ids == std::vector<json>{1, 2, 3, 4, nullptr});
  // Nothing held any more: replies go straight out again.
  b.send(state, peer, R"({"op":"ping","id":5})");
  CHECK(peer.take_ops() == std::vector<std::string>{"pong"});
}

TEST_CASE("a hello refused later can be retried, and a second hello meanwhile is refused",
          "[dispatch][deferred]") {
  Bench b;
  FakePeer peer;
  SessionState state(b.hub.connect(peer), Bench::options(), Dispatcher::Clock::now());
  b.engine.refuse_names = HubError{parley::protocol::ErrorCode::name_taken, "taken"};
  b.send(state, peer, R"({"op":"hello","name":"ann","id":1})");
  b.send(state, peer, R"({"op":"hello","name":"bea","id":2})");  // while the first is pending
  b.engine.release();
  const auto replies = peer.take();
  REQUIRE(replies.size() == 2);
  CHECK(replies[0]["code"] == "name_taken");
  CHECK(replies[0]["id"] == 1);
  CHECK(replies[1]["code"] == "already_greeted");
  CHECK_FALSE(state.greeted);  // undone: a refused hello may be retried
  b.engine.refuse_names.reset();
  b.send(state, peer, R"({"op":"hello","name":"ann","id":3})");
  b.engine.release();
  const auto welcome = peer.take();
  REQUIRE(welcome.size() == 1);
  CHECK(welcome[0]["op"] == "welcome");
  CHECK(welcome[0]["name"] == "ann");
  CHECK(state.greeted);
}

TEST_CASE("an answer for a session that has gone is dropped", "[dispatch][deferred]") {
  Bench b;
  FakePeer peer;
  SessionState state(b.hub.connect(peer), Bench::options(), Dispatcher::Clock::now());
  b.send(state, peer, R"({"op":"who","topic":"t","id":1})");
  b.send(state, peer, R"({"op":"ping","id":2})");
  b.hub.disconnect(state.id);
  b.engine.release();
  CHECK(peer.take().empty());
  CHECK(peer.replies == 0);
}

TEST_CASE("an account signed in through a deferred engine keeps its rights meanwhile and later",
          "[dispatch][deferred][accounts]") {
  // The hash of "correct horse battery staple" (tests/unit/hub/accounts_test.cpp uses it).
  const std::string hash =
      "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU";
  auto parsed = parley::auth::parse_users_file(R"({"users":[{"name":"alice","password":")" + hash +
                                               R"("},)" + R"({"name":"carol","password":")" + hash +
                                               R"(","subscribe":["t.*"]}]})");
  REQUIRE(std::holds_alternative<parley::auth::Users>(parsed));
  DispatchOptions options = Bench::options();
  options.users =
      std::make_shared<const parley::auth::Users>(std::get<parley::auth::Users>(std::move(parsed)));
  Hub hub(HubLimits{}, "b00t");
  LaterEngine engine(hub);
  Dispatcher dispatcher(engine, options, std::chrono::system_clock::now());
  const auto send = [&](SessionState& state, FakePeer& peer, const std::string& frame) {
    return dispatcher.handle(state, peer, frame, Dispatcher::Clock::now(), 1000);
  };
  // The password check the server runs on a worker, run here in between.
  const auto sign_in = [&](SessionState& state, FakePeer& peer, const std::string& name) {
    REQUIRE(send(state, peer,
                 R"({"op":"hello","name":")" + name +
                     R"(","password":"correct horse battery staple","id":"h"})") ==
            Disposition::verify);
    dispatcher.complete_hello(state, peer, state.pending->check.run(), Dispatcher::Clock::now());
  };

  FakePeer alice_peer;
  SessionState alice(hub.connect(alice_peer), options, Dispatcher::Clock::now());
  sign_in(alice, alice_peer, "alice");
  engine.release();
  CHECK(alice_peer.take_ops() == std::vector<std::string>{"welcome"});
  send(alice, alice_peer, R"({"op":"pub","topic":"chat.a","data":1})");
  send(alice, alice_peer, R"({"op":"pub","topic":"t.x","data":2})");

  FakePeer carol_peer;
  SessionState carol(hub.connect(carol_peer), options, Dispatcher::Clock::now());
  sign_in(carol, carol_peer, "carol");
  // Pipelined while the engine still claims the name: served under carol's rights, and
  // answered after the welcome; topics is answered later still, and filtered then.
  send(carol, carol_peer, R"({"op":"sub","topic":"chat.>","id":1})");
  send(carol, carol_peer, R"({"op":"topics","id":2})");
  CHECK(carol_peer.take().empty());
  engine.release();
  const auto replies = carol_peer.take();
  REQUIRE(replies.size() == 3);
  CHECK(replies[0]["op"] == "welcome");
  CHECK(replies[1]["code"] == "forbidden");
  CHECK(replies[1]["id"] == 1);
  CHECK(replies[2]["op"] == "topics");
  CHECK(replies[2]["topics"] == json::parse(R"([{"topic":"t.x","members":0,"seq":1}])"));

  // A second login of alice takes the name over from the first session (bye replaced).
  FakePeer again_peer;
  SessionState again(hub.connect(again_peer), options, Dispatcher::Clock::now());
  sign_in(again, again_peer, "alice");
  engine.release();
  CHECK(again_peer.take_ops() == std::vector<std::string>{"welcome"});
  CHECK(alice_peer.evictions == std::vector<std::string>{"replaced"});
  CHECK_FALSE(hub.contains(alice.id));
}
