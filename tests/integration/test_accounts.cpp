// Accounts against the real server: a users file made by the test with real scrypt hashes,
// hello with passwords, takeover over two connections, SIGHUP reloads, the failed-hello
// throttle, `parley passwd`, and the event loop's responsiveness while 100 wrong passwords
// are checked at once.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "line_client.hpp"
#include "password_hash.hpp"
#include "server_process.hpp"

using namespace parley::test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPassword = "correct horse battery staple";
// One real hash per password, made once: each costs tens of milliseconds.
const std::string& hash_of_password() {
  static const std::string hash = parley::auth::hash_password(kPassword);
  return hash;
}

// A users file in a fresh directory, removed with it.
class UsersFile {
 public:
  UsersFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "parley-users-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    path_ = (dir_ / "users.json").string();
  }
  ~UsersFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  UsersFile(const UsersFile&) = delete;
  UsersFile& operator=(const UsersFile&) = delete;

  // Replaces the file in one rename, as an operator's editor or config tool would.
  // (A vector, not a json: a braced list of one json would be that json, not an array.)
  void write(const std::vector<json>& users) const {
    const std::string temporary = path_ + ".new";
    std::ofstream(temporary) << json{{"users", users}}.dump(2);
    std::filesystem::rename(temporary, path_);
  }
  void write_raw(const std::string& text) const { std::ofstream(path_) << text; }
  const std::string& path() const { return path_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

json account(const std::string& name, json rights = json::object()) {
  rights["name"] = name;
  rights["password"] = hash_of_password();
  return rights;
}

json hello(const std::string& name, const std::string& password, int id = 1) {
  return {{"op", "hello"}, {"name", name}, {"password", password}, {"id", id}};
}

void expect_refused(LineClient& c) {
  c.expect({{"op", "error"}, {"code", "auth_failed"}, {"id", 1}});
  c.expect({{"op", "bye"}, {"reason", "auth_failed"}});
  CHECK(c.read_until_closed().empty());
  CHECK(c.closed());
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("accounts: unknown name and wrong password are auth_failed, the right one gets welcome",
          "[accounts]") {
  UsersFile users;
  users.write({account("alice"), account("bob")});
  ServerProcess server({{"--users", users.path()}});
  REQUIRE(server.wait_for_log("accounts: 2 from"));

  LineClient unknown(server.port());
  unknown.send(hello("mallory", kPassword));
  expect_refused(unknown);

  LineClient wrong(server.port());
  wrong.send(hello("alice", "not the password"));
  expect_refused(wrong);
  // The log says who failed and why, never the password.
  REQUIRE(server.wait_for_log("failed hello as alice"));
  CHECK(server.log().find("not the password") == std::string::npos);

  LineClient guest(server.port());
  guest.send({{"op", "sub"}, {"topic", "a"}, {"id", 1}});
  guest.expect({{"op", "error"}, {"code", "not_authenticated"}, {"id", 1}});

  LineClient alice(server.port());
  alice.send(hello("Alice", kPassword, 7));
  const json welcome = alice.expect({{"op", "welcome"}, {"id", 7}});
  CHECK(welcome["name"] == "Alice");
}

// [cluster-gap]: a pub pipelined behind a sub that waits for Redis runs before the sub is in
// place, so its own msg is missed (docs/architecture.md).
TEST_CASE("accounts: requests pipelined behind a hello wait for it and keep their order",
          "[accounts][cluster-gap]") {
  UsersFile users;
  users.write({account("alice", {{"publish", {"chat.>"}}})});
  ServerProcess server({{"--users", users.path()}});
  LineClient c(server.port());
  c.send_raw(hello("alice", kPassword).dump() + "\n" +
             R"({"op":"sub","topic":"chat.*","id":2})"
             "\n" +
             R"({"op":"pub","topic":"chat.a","data":1,"id":3})"
             "\n" +
             R"({"op":"pub","topic":"news","data":1,"id":4})"
             "\n");
  c.expect({{"op", "welcome"}, {"id", 1}});
  c.expect({{"op", "ok"}, {"id", 2}});
  // The message and the ok of its publish, in the order the server queued them.
  std::vector<json> frames = {c.recv(), c.recv()};
  std::sort(frames.begin(), frames.end(),
            [](const json& x, const json& y) { return x["op"] < y["op"]; });
  CHECK(matches(frames[0], {{"op", "msg"}, {"topic", "chat.a"}}));
  CHECK(matches(frames[1], {{"op", "ok"}, {"id", 3}}));
  c.expect({{"op", "error"}, {"code", "forbidden"}, {"id", 4}});

  // Clients that send a hello and go away before its check is done harm nobody.
  for (int i = 0; i < 5; ++i) {
    LineClient gone(server.port());
    gone.send(hello("alice", "wrong"));
    gone.abort();
  }
  LineClient last(server.port());
  last.send_raw(hello("alice", kPassword).dump());  // no newline: then the client's FIN
  last.shutdown_write();
  last.expect({{"op", "welcome"}});
  c.expect({{"op", "bye"}, {"reason", "replaced"}});
}

TEST_CASE("accounts: a new login takes over the old session, whose members see it leave",
          "[accounts][takeover]") {
  UsersFile users;
  users.write({account("alice"), account("bob")});
  ServerProcess server({{"--users", users.path()}});
  LineClient bob(server.port());
  bob.send(hello("bob", kPassword));
  bob.expect({{"op", "welcome"}});
  bob.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  bob.expect({{"op", "joined"}});

  LineClient first(server.port());
  first.send(hello("alice", kPassword));
  first.expect({{"op", "welcome"}});
  first.send({{"op", "join"}, {"topic", "room"}, {"id", 2}});
  first.expect({{"op", "joined"}});
  bob.expect({{"op", "presence"}, {"name", "alice"}, {"state", "join"}});

  LineClient second(server.port());
  second.send(hello("ALICE", kPassword, 5));
  second.expect({{"op", "welcome"}, {"id", 5}, {"name", "ALICE"}});
  first.expect({{"op", "bye"}, {"reason", "replaced"}});
  CHECK(first.read_until_closed().empty());
  bob.expect({{"op", "presence"}, {"topic", "room"}, {"name", "alice"}, {"state", "leave"}});
  second.send({{"op", "who"}, {"topic", "room"}, {"id", 6}});
  second.expect({{"op", "who"}, {"members", {"bob"}}});
}

TEST_CASE("accounts: SIGHUP reload revokes, narrows, and keeps the old file when broken",
          "[accounts][reload][signals]") {
  UsersFile users;
  users.write({account("alice"), account("bob"), account("carol")});
  ServerProcess server({{"--users", users.path()}});
  std::vector<std::unique_ptr<LineClient>> c;
  for (const std::string name : {"alice", "bob", "carol"}) {
    c.push_back(std::make_unique<LineClient>(server.port()));
    c.back()->send(hello(name, kPassword));
    c.back()->expect({{"op", "welcome"}});
  }
  LineClient& alice = *c[0];
  LineClient& bob = *c[1];
  LineClient& carol = *c[2];
  carol.send({{"op", "sub"}, {"topic", ">"}, {"id", 2}});
  carol.expect({{"op", "ok"}});
  carol.send({{"op", "join"}, {"topic", "ops.room"}, {"id", 3}});
  carol.expect({{"op", "joined"}});
  alice.send({{"op", "join"}, {"topic", "ops.room"}, {"id", 3}});
  alice.expect({{"op", "joined"}});
  carol.expect({{"op", "presence"}, {"state", "join"}});

  SECTION("an invalid file is logged and the old one kept") {
    users.write_raw(R"({"users":[{"name":"alice","pasword":"x"}]})");
    server.signal(SIGHUP);
    REQUIRE(server.wait_for_log_on_every_node("users file not reloaded"));
    bob.send({{"op", "ping"}, {"id", 9}});
    bob.expect({{"op", "pong"}, {"id", 9}});
    LineClient again(server.port());
    again.send(hello("bob", kPassword));
    again.expect({{"op", "welcome"}});
  }
  SECTION("a removed account gets bye auth_revoked; narrowed rights remove subs and rooms") {
    users.write({account("alice"), account("carol", {{"subscribe", {"chat.>"}}})});
    server.signal(SIGHUP);
    bob.expect({{"op", "bye"}, {"reason", "auth_revoked"}});
    CHECK(bob.read_until_closed().empty());
    const json first = carol.expect({{"op", "error"}, {"code", "forbidden"}});
    const json second = carol.expect({{"op", "error"}, {"code", "forbidden"}});
    CHECK(first["message"].get<std::string>().find("'>'") != std::string::npos);
    CHECK(second["message"].get<std::string>().find("'ops.room'") != std::string::npos);
    alice.expect({{"op", "presence"}, {"name", "carol"}, {"state", "leave"}});
    carol.send({{"op", "sub"}, {"topic", "ops.*"}, {"id", 4}});
    carol.expect({{"op", "error"}, {"code", "forbidden"}, {"id", 4}});
    alice.send({{"op", "ping"}, {"id", 5}});
    alice.expect({{"op", "pong"}, {"id", 5}});
    REQUIRE(server.wait_for_log_on_every_node("users file reloaded"));  // each node reads it
    LineClient gone(server.port());
    gone.send(hello("bob", kPassword));
    expect_refused(gone);
  }
}

// [single-node]: the failed-hello throttle per address is per node.
TEST_CASE("accounts: ten failed hellos from one address, then the next fails at once",
          "[accounts][throttle][single-node]") {
  UsersFile users;
  users.write({account("alice")});
  ServerProcess server({{"--users", users.path()}});
  for (int i = 0; i < 10; ++i) {
    LineClient c(server.port(), "127.0.0.42");
    c.send(hello("alice", "guess"));
    c.expect({{"op", "error"}, {"code", "auth_failed"}});
  }
  LineClient throttled(server.port(), "127.0.0.42");
  throttled.send(hello("alice", kPassword));
  const json refusal = throttled.expect({{"op", "error"}, {"code", "auth_failed"}});
  CHECK(refusal["message"].get<std::string>().find("too many failed") != std::string::npos);
  REQUIRE(server.wait_for_log("(throttled)"));
  LineClient elsewhere(server.port(), "127.0.0.43");
  elsewhere.send(hello("alice", kPassword));
  elsewhere.expect({{"op", "welcome"}});
}

// The 100 come from ten loopback addresses (127.0.1.1-10), ten each: exactly what the
// throttle lets through, so every one of them is really hashed (the log shows no throttled
// refusal), while the throttle itself is tested above.
// [single-node]: one process's event loop under its own hashing load.
TEST_CASE("accounts: the loop stays responsive while 100 wrong passwords are checked",
          "[accounts][load][single-node]") {
  UsersFile users;
  users.write({account("alice"), account("pinger")});
  // The checks queue on two workers: on a busy machine the last may wait past the default
  // auth timeout, which would answer it with bye auth_timeout instead of its check.
  ServerProcess server({{"--users", users.path(), "--auth-timeout", "200s"}});
  LineClient pinger(server.port());
  pinger.send(hello("pinger", kPassword));
  pinger.expect({{"op", "welcome"}});

  std::vector<LineClient> logins;
  logins.reserve(100);
  for (int i = 0; i < 100; ++i)
    logins.emplace_back(server.port(), "127.0.1." + std::to_string(1 + i / 10));
  const std::string wrong = hello("alice", "wrong password").dump() + "\n";
  for (LineClient& c : logins) c.send_raw(wrong);

  // Pings one after another until every login has its answer.
  std::vector<bool> answered(logins.size(), false);
  std::size_t done = 0;
  Clock::duration worst{};
  int pings = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(200);
  while (done < logins.size() && Clock::now() < deadline) {
    const auto sent = Clock::now();
    pinger.send({{"op", "ping"}, {"id", ++pings}});
    pinger.expect({{"op", "pong"}, {"id", pings}});
    worst = std::max(worst, Clock::now() - sent);
    // Which logins have an answer waiting (a look that never blocks), then read those.
    std::vector<pollfd> waiting;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (answered[i]) continue;
      waiting.push_back({logins[i].fd(), POLLIN, 0});
      which.push_back(i);
    }
    REQUIRE(::poll(waiting.data(), waiting.size(), 0) >= 0);
    for (std::size_t k = 0; k < waiting.size(); ++k) {
      if ((waiting[k].revents & POLLIN) == 0) continue;
      const json frame = logins[which[k]].recv();
      INFO(frame.dump());
      CHECK(matches(frame, {{"op", "error"}, {"code", "auth_failed"}}));
      answered[which[k]] = true;
      ++done;
    }
  }
  const auto worst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(worst).count();
  INFO("pings: " << pings << ", worst round trip: " << worst_ms << " ms");
  REQUIRE(done == logins.size());
  CHECK(pings > 10);  // the pinger really ran throughout
#ifdef PARLEY_SANITIZED
  CHECK(worst_ms < 150);  // sanitizers slow the loop itself several times
#else
  CHECK(worst_ms < 50);
#endif
  server.wait_for_log_count("unknown account or wrong password", 100);
  CHECK(count(server.log(), "unknown account or wrong password") == 100);
  CHECK(server.log().find("(throttled)") == std::string::npos);
}

TEST_CASE("accounts: --users and --token together, or an unusable file, stop the start",
          "[accounts][config]") {
  UsersFile users;
  users.write({account("alice")});
  auto [both_code, both_log] = ServerProcess::run_to_exit(
      {"--users", users.path(), "--token", "t", "--listen", "127.0.0.1:0"});
  CHECK(both_code == 2);
  CHECK(both_log.find("--token and --users") != std::string::npos);

  users.write_raw(R"({"users":[{"name":"alice","password":"x","tell":false,"extra":1}]})");
  auto [bad_code, bad_log] =
      ServerProcess::run_to_exit({"--users", users.path(), "--listen", "127.0.0.1:0"});
  CHECK(bad_code == 1);
  CHECK(bad_log.find("users file") != std::string::npos);

  auto [missing_code, missing_log] =
      ServerProcess::run_to_exit({"--users", users.path() + ".none", "--listen", "127.0.0.1:0"});
  CHECK(missing_code == 1);
  CHECK(missing_log.find("cannot be opened") != std::string::npos);
}

// [single-node]: runs no server.
TEST_CASE("parley passwd prints a hash line of a piped password",
          "[accounts][passwd][single-node]") {
  const std::string command =
      std::string("printf 'hunter2 two\\n' | ") + PARLEY_CLIENT_PATH + " passwd";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  CHECK(::pclose(pipe) == 0);
  REQUIRE(!out.empty());
  CHECK(out.back() == '\n');
  out.pop_back();
  CHECK(out.find('\n') == std::string::npos);
  CHECK(parley::auth::parse_phc(out).has_value());
  CHECK(parley::auth::verify_password("hunter2 two", out));
  CHECK_FALSE(parley::auth::verify_password("hunter2", out));

  const std::string empty =
      std::string("printf '\\n' | ") + PARLEY_CLIENT_PATH + " passwd 2>/dev/null";
  FILE* refused = ::popen(empty.c_str(), "r");
  REQUIRE(refused != nullptr);
  const int status = ::pclose(refused);
  CHECK(WEXITSTATUS(status) == 2);
}
