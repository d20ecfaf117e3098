// The users file: accepted files and their accounts, then a table of every refusal with
// the place its message must name.
#include <catch2/catch.hpp>
#include <string>
#include <variant>

#include "password_hash.hpp"
#include "users_file.hpp"

using namespace parley::auth;

namespace {

// A valid hash of "correct horse battery staple" (see password_hash_test.cpp).
const std::string kHash =
    "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU";

std::string user(const std::string& name, const std::string& extra = "") {
  return R"({"name":")" + name + R"(","password":")" + kHash + "\"" + extra + "}";
}

std::string file(const std::string& users) {
  return R"({"users":[)" + users + "]}";
}

const Users& accepted(const std::variant<Users, std::string>& result) {
  if (const auto* error = std::get_if<std::string>(&result)) FAIL("refused: " << *error);
  return std::get<Users>(result);
}

}  // namespace

TEST_CASE("a users file with every field is accepted", "[auth][users]") {
  const auto result = parse_users_file(
      file(user("Alice",
                R"(,"publish":["chat.>"],"subscribe":["chat.>","$sys.>"],)"
                R"("deny_publish":["chat.admin"],"deny_subscribe":["chat.secret"],"tell":false)") +
           "," + user("bob") + "," + user("carol.x-1_", R"(,"publish":[],"tell":true)")));
  const Users& users = accepted(result);
  REQUIRE(users.accounts().size() == 3);
  CHECK(users.accounts()[0].name == "Alice");
  CHECK(users.accounts()[0].password == kHash);

  const Account* alice = users.find("aLiCe");
  REQUIRE(alice != nullptr);
  CHECK(alice->name == "Alice");
  CHECK(alice->permissions.allow_publish("chat.general"));
  CHECK_FALSE(alice->permissions.allow_publish("chat.admin"));
  CHECK_FALSE(alice->permissions.allow_publish("news"));
  CHECK(alice->permissions.allow_subscribe_pattern("$sys.*"));
  CHECK(alice->permissions.delivery_denied("chat.secret"));
  CHECK_FALSE(alice->permissions.allow_tell());

  const Account* bob = users.find("BOB");
  REQUIRE(bob != nullptr);
  CHECK(bob->permissions.allow_publish("anything.at.all"));
  CHECK(bob->permissions.allow_tell());
  const Account* carol = users.find("Carol.X-1_");
  REQUIRE(carol != nullptr);
  CHECK_FALSE(carol->permissions.allow_publish("a"));
  CHECK(users.find("dave") == nullptr);
  CHECK(users.find("") == nullptr);
}

TEST_CASE("an empty list of users is a valid file", "[auth][users]") {
  const auto result = parse_users_file(" {\"users\" : [ ] }\n");
  CHECK(accepted(result).accounts().empty());
}

TEST_CASE("authenticate checks the password, and unknown names cost the same", "[auth][users]") {
  const auto result = parse_users_file(file(user("alice")));
  const Users& users = accepted(result);
  CHECK(users.authenticate("ALICE", "correct horse battery staple") == users.find("alice"));
  CHECK(users.authenticate("alice", "wrong") == nullptr);
  CHECK(users.authenticate("mallory", "correct horse battery staple") == nullptr);
}

TEST_CASE("a users file is refused with a message naming the place", "[auth][users]") {
  struct Row {
    std::string text;
    std::string message_part;  // must appear in the message
  };
  const auto row = GENERATE_COPY(values<Row>({
      // Not JSON, or not the expected shape.
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {R"({"users":[]} x)", "not valid JSON"},
      {"[]", "top level: expected an object"},
      {"{}", "top level: missing \"users\""},
      {R"({"users":{}})", "users: expected an array"},
      {R"({"users":null})", "users: expected an array"},
      {R"({"users":[1]})", "users[0]: expected an object"},
      {file(user("a") + ",[]"), "users[1]: expected an object"},
      // Unknown and repeated fields, at the top and in an account.
      {R"({"users":[],"admins":[]})", "top level: unknown field \"admins\""},
      {R"({"Users":[]})", "top level: unknown field \"Users\""},
      {file(user("a") + "," + user("b", R"(,"publsh":["x"])")),
       "users[1]: unknown field \"publsh\""},
      {file(user("a", R"(,"Name":"b")")), "users[0]: unknown field \"Name\""},
      {file(user("a", R"(,"admin":true)")), "users[0]: unknown field \"admin\""},
      {R"({"users":[],"users":[]})", "top level: field \"users\" given twice"},
      {file(user("a") + "," + user("b", R"(,"tell":true,"tell":false)")),
       "users[1]: field \"tell\" given twice"},
      {file(user("a", R"(,"name":"b")")), "users[0]: field \"name\" given twice"},
      // Names.
      {file(R"({"password":")" + kHash + "\"}"), "users[0]: missing \"name\""},
      {file(R"({"name":7,"password":")" + kHash + "\"}"), "users[0].name: expected a string"},
      {file(user("")), "users[0].name: invalid name"},
      {file(user("al ice")), "users[0].name: invalid name"},
      {file(user(std::string(33, 'a'))), "users[0].name: invalid name"},
      {file(user("a") + "," + user("gUeSt-7")), "users[1].name: \"gUeSt-7\" is reserved"},
      {file(user("alice") + "," + user("bob") + "," + user("ALICE")),
       "users[2].name: \"ALICE\" repeats users[0]"},
      // Passwords.
      {file(R"({"name":"a"})"), "users[0]: missing \"password\""},
      {file(R"({"name":"a","password":null})"), "users[0].password: expected a string"},
      {file(R"({"name":"a","password":"hunter2"})"), "users[0].password: not a password hash"},
      {file(R"({"name":"a","password":"$pbkdf2-sha256$i=600000$AAECAwQFBgcICQoLDA0ODw$)"
            R"(11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU"})"),
       "users[0].password: not a password hash"},
      {file(R"({"name":"a","password":"$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$)"
            R"(11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU"})"),
       "users[0].password: not a password hash"},
      // Pattern lists and tell.
      {file(user("a", R"(,"publish":"chat.>")")), "users[0].publish: expected an array"},
      {file(user("a", R"(,"subscribe":{"x":1})")), "users[0].subscribe: expected an array"},
      {file(user("a", R"(,"deny_publish":[1])")), "users[0].deny_publish[0]: expected a pattern"},
      {file(user("a", R"(,"deny_subscribe":["ok",null])")),
       "users[0].deny_subscribe[1]: expected a pattern"},
      {file(user("a", R"(,"publish":["chat..x"])")),
       "users[0].publish[0]: invalid pattern \"chat..x\""},
      {file(user("a", R"(,"subscribe":["a.>.b"])")), "users[0].subscribe[0]: invalid pattern"},
      {file(user("a", R"(,"subscribe":["chat.*","$"])")), "users[0].subscribe[1]: invalid pattern"},
      {file(user("a", R"(,"deny_subscribe":["a b"])")),
       "users[0].deny_subscribe[0]: invalid pattern"},
      {file(user("a", R"(,"publish":[""])")), "users[0].publish[0]: invalid pattern"},
      {file(user("a", R"(,"tell":"no")")), "users[0].tell: expected true or false"},
      {file(user("a", R"(,"tell":0)")), "users[0].tell: expected true or false"},
      {file(user("a", R"(,"tell":null)")), "users[0].tell: expected true or false"},
  }));
  INFO(row.text);
  const auto result = parse_users_file(row.text);
  REQUIRE(std::holds_alternative<std::string>(result));
  const auto& message = std::get<std::string>(result);
  INFO(message);
  CHECK(message.find(row.message_part) != std::string::npos);
}
