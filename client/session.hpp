#pragma once
// A connected, greeted client: the common options every subcommand takes, and requests
// that wait for the reply carrying their id while events are handed aside.
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "connection.hpp"

namespace parley::client {

using json = nlohmann::json;

// Exit codes shared by every subcommand.
enum ExitCode { kOk = 0, kServerError = 1, kUsage = 2, kCannotConnect = 3 };

struct CommonOptions {
  std::string server = "127.0.0.1:7878";
  std::string name;
  std::string token;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reply_timeout{10000};
};

struct Failure {
  int exit_code;
  std::string reason;
  bool connection_lost = false;  // closed or silent, rather than refused by the server
};

class Session {
 public:
  Session(const asio::any_io_executor& executor, CommonOptions options);

  // Connects and, when a name or token is set (or `always_hello`), says hello.
  asio::awaitable<std::optional<Failure>> open(bool always_hello = false);
  // Sends `frame` with a fresh id and returns the reply with that id (an error reply is
  // a Failure). Frames without that id that arrive first go to on_event.
  asio::awaitable<std::variant<json, Failure>> request(json frame);

  Connection& connection() { return connection_; }
  const CommonOptions& options() const { return options_; }
  const json& welcome() const { return welcome_; }
  // The last reply exactly as the server sent it, for --json output.
  const std::string& last_reply_line() const { return last_reply_line_; }
  std::function<void(const json&)> on_event = [](const json&) {};

 private:
  Connection connection_;
  CommonOptions options_;
  json welcome_;
  std::string last_reply_line_;
  std::uint64_t next_id_ = 1;
};

// One line for a server `error` frame: "code: message".
std::string describe_error(const json& frame);

}  // namespace parley::client
