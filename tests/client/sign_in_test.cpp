// Signing in and being signed out: the chat's password prompt, the words for the server's
// bye reasons, and the hint an auth_failed error carries.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "client_session.hpp"
#include "password_prompt.hpp"
#include "render.hpp"

using namespace parley::client;

namespace {

// What read_password() returns for `typed`, written into a pipe (then closed).
std::optional<std::string> typed(const std::string& bytes) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  close(fds[1]);
  auto password = read_password(fds[0]);
  close(fds[0]);
  return password;
}

}  // namespace

TEST_CASE("the password prompt: Enter ends, Backspace and Ctrl-U edit, Ctrl-C gives up",
          "[client][password]") {
  CHECK(typed("secret\r") == "secret");
  CHECK(typed("secret\nrest") == "secret");  // only the first line is read
  CHECK(typed("secrex\x7ft\r") == "secret");
  CHECK(typed("caf\xc3\xa9\x7f"
              "e\r") == "cafe");  // Backspace takes the whole é
  CHECK(typed("wrong\x15right\r") == "right");
  CHECK(typed("\r") == "");
  CHECK_FALSE(typed("abc\x03"));
  CHECK_FALSE(typed("\x04"));
  CHECK_FALSE(typed("no line end"));
}

TEST_CASE("bye reasons in words a person understands", "[client][render]") {
  CHECK(bye_words("replaced") == "* you signed in elsewhere; this session was replaced");
  CHECK(bye_words("auth_revoked").find("sign in again") != std::string::npos);
  CHECK(bye_words("shutdown") == "* the server is shutting down");
  CHECK(bye_words("something_new") == "* the server said bye (something_new)");
  const nlohmann::json frame = {{"op", "bye"}, {"reason", "replaced"}};
  CHECK(render_event(frame, RenderStyle{}) == bye_words("replaced"));
  // A hostile reason cannot reach the terminal raw.
  const nlohmann::json hostile = {{"op", "bye"}, {"reason", "x\x1b[2J"}};
  CHECK(render_event(hostile, RenderStyle{}).find('\x1b') == std::string::npos);
}

TEST_CASE("auth_failed says which flag or variable to use", "[client]") {
  const nlohmann::json error = {
      {"op", "error"}, {"code", "auth_failed"}, {"message", "wrong name or password"}};
  const std::string text = describe_error(error);
  CHECK(text.starts_with("auth_failed: wrong name or password ("));
  for (const char* hint : {"--token", "PARLEY_TOKEN", "--password", "PARLEY_PASSWORD"}) {
    CAPTURE(hint);
    CHECK(text.find(hint) != std::string::npos);
  }
}
