// Accounts on a cluster (PROTOCOL.md § Permissions and § Clusters): the rights of an account
// hold as strictly when the answer comes from Redis as on one server (topics filtered,
// who/history/join/tell refused, deny_subscribe withholding messages published on another
// node), and a second login of an account replaces the first on the same node and across
// nodes. Every wait is for an expected frame, never for a fixed time.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "line_client.hpp"
#include "password_hash.hpp"
#include "redis_process.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

const std::string kPassword = "cluster accounts password";

// A users file in a fresh directory, removed with it; every node of a test reads it.
class UsersFile {
 public:
  explicit UsersFile(const std::vector<json>& users) {
    std::string pattern = (std::filesystem::temp_directory_path() / "parley-users-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    path_ = (dir_ / "users.json").string();
    std::ofstream(path_) << json{{"users", users}}.dump(2);
  }
  ~UsersFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  UsersFile(const UsersFile&) = delete;
  UsersFile& operator=(const UsersFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

json account(const std::string& name, json rights = json::object()) {
  // One hash for every account: each costs tens of milliseconds.
  static const std::string hash = parley::auth::hash_password(kPassword);
  rights["name"] = name;
  rights["password"] = hash;
  return rights;
}

std::unique_ptr<ServerProcess> node(const RedisProcess& redis, const UsersFile& users) {
  return std::make_unique<ServerProcess>(LaunchOptions(
      {"--cluster", redis.url(), "--cluster-node-timeout", "2s", "--users", users.path()}));
}

// Signs in, retrying while the node's store link is still coming up (`unavailable`).
json sign_in(LineClient& c, const std::string& name) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    c.send({{"op", "hello"}, {"name", name}, {"password", kPassword}, {"id", attempt}});
    json reply = c.expect({{"id", attempt}});
    if (reply["op"] == "welcome") return reply;
    REQUIRE(reply["code"] == "unavailable");
    c.sync();
  }
  FAIL("no welcome for " << name);
  return {};
}

void expect_forbidden(LineClient& c, json request, const std::string& id) {
  request["id"] = id;
  c.send(request);
  c.expect({{"op", "error"}, {"id", id}, {"code", "forbidden"}});
}

}  // namespace

TEST_CASE("cluster accounts: rights hold for answers from Redis and messages from another node",
          "[cluster][accounts]") {
  RedisProcess redis;
  const UsersFile users({account("boss"), account("reader", {{"publish", {"public.>"}},
                                                             {"subscribe", {"public.>"}},
                                                             {"deny_subscribe", {"public.secret"}},
                                                             {"tell", false}})});
  auto a_node = node(redis, users);
  auto b_node = node(redis, users);

  LineClient boss(a_node->port());
  sign_in(boss, "boss");
  for (const char* topic : {"public.room", "public.secret", "private.room"}) {
    boss.send({{"op", "pub"}, {"topic", topic}, {"data", topic}, {"id", topic}});
    boss.expect({{"op", "ok"}, {"id", topic}});
  }
  LineClient reader(b_node->port());
  sign_in(reader, "reader");

  // topics, answered by Redis, lists only what the account may subscribe to; the limit
  // counts listed topics only.
  reader.send({{"op", "topics"}, {"id", "t"}});
  json topics = reader.expect({{"op", "topics"}, {"id", "t"}});
  CHECK(topics["topics"] == json::parse(R"([{"topic":"public.room","members":0,"seq":1}])"));
  CHECK(topics.value("more", false) == false);
  boss.send({{"op", "topics"}, {"id", "t"}});
  CHECK(boss.expect({{"op", "topics"}, {"id", "t"}})["topics"].size() == 3);

  // Refused on the node before Redis is asked.
  expect_forbidden(reader, {{"op", "who"}, {"topic", "private.room"}}, "who");
  expect_forbidden(reader, {{"op", "history"}, {"topic", "public.secret"}}, "history");
  expect_forbidden(reader, {{"op", "join"}, {"topic", "private.room"}}, "join");
  expect_forbidden(reader, {{"op", "sub"}, {"topic", ">"}}, "sub");
  expect_forbidden(reader, {{"op", "pub"}, {"topic", "private.room"}, {"data", 1}}, "pub");
  expect_forbidden(reader, {{"op", "tell"}, {"to", "boss"}, {"data", 1}}, "tell");
  reader.send({{"op", "history"}, {"topic", "public.room"}, {"id", "h"}});
  CHECK(reader.expect({{"op", "history"}, {"id", "h"}})["messages"].size() == 1);

  // A subscription that overlaps the deny pattern is allowed, but a message on a denied
  // topic published on the other node is withheld at the local fan-out.
  reader.send({{"op", "sub"}, {"topic", "public.>"}, {"id", "s"}});
  reader.expect({{"op", "ok"}, {"id", "s"}});
  // (The ok means node B has the pattern's channel.)
  boss.send({{"op", "pub"}, {"topic", "public.secret"}, {"data", "withheld"}});
  boss.send({{"op", "pub"}, {"topic", "public.room"}, {"data", "delivered"}, {"id", "last"}});
  boss.expect({{"op", "ok"}, {"id", "last"}});
  // Both went through Redis in this order: the first frame to arrive is the second message.
  reader.expect({{"op", "msg"}, {"topic", "public.room"}, {"data", "delivered"}, {"seq", 2}});
  reader.expect_nothing();
}

TEST_CASE("cluster accounts: a second login replaces the first, across nodes and on one node",
          "[cluster][accounts]") {
  RedisProcess redis;
  const UsersFile users({account("alice"), account("boss")});
  auto a_node = node(redis, users);
  auto b_node = node(redis, users);

  LineClient first(a_node->port());
  sign_in(first, "alice");
  first.send({{"op", "join"}, {"topic", "room"}, {"id", "j"}});
  first.expect({{"op", "joined"}, {"id", "j"}});
  LineClient boss(b_node->port());
  sign_in(boss, "boss");
  boss.send({{"op", "join"}, {"topic", "room"}, {"id", "j"}});
  boss.expect({{"op", "joined"}, {"id", "j"}, {"members", {"alice", "boss"}}});
  first.expect({{"op", "presence"}, {"name", "boss"}, {"state", "join"}});

  // alice again, on the other node: the session on node A is ended (bye replaced) and its
  // members see it leave; the name now reaches the new session.
  LineClient second(b_node->port());
  CHECK(sign_in(second, "alice")["name"] == "alice");
  first.expect({{"op", "bye"}, {"reason", "replaced"}});
  CHECK(first.read_until_closed().empty());
  boss.expect({{"op", "presence"}, {"topic", "room"}, {"name", "alice"}, {"state", "leave"}});
  boss.send({{"op", "tell"}, {"to", "alice"}, {"data", "to the second"}, {"id", "t"}});
  boss.expect({{"op", "ok"}, {"id", "t"}});
  second.expect({{"op", "msg"}, {"to", "alice"}, {"from", "boss"}, {"data", "to the second"}});
  boss.send({{"op", "who"}, {"topic", "room"}, {"id", "w"}});
  boss.expect({{"op", "who"}, {"id", "w"}, {"members", {"boss"}}});

  // And a third time on the same node.
  LineClient third(b_node->port());
  sign_in(third, "alice");
  second.expect({{"op", "bye"}, {"reason", "replaced"}});
  CHECK(second.read_until_closed().empty());
  LineClient from_a(a_node->port());
  sign_in(from_a, "boss");  // replaces boss on B too: a tell from node A reaches alice on B
  boss.expect({{"op", "bye"}, {"reason", "replaced"}});
  from_a.send({{"op", "tell"}, {"to", "ALICE"}, {"data", "to the third"}, {"id", "t"}});
  from_a.expect({{"op", "ok"}, {"id", "t"}});
  third.expect({{"op", "msg"}, {"to", "alice"}, {"from", "boss"}, {"data", "to the third"}});
}
