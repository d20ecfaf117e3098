#pragma once
// A connected, greeted client: the common options every subcommand takes, and requests
// that wait for the reply carrying their id while events are handed aside. (The server's
// per-connection class is parley::server::Session; this one is the client's end.)
#include <asio.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "connection.hpp"

namespace parley::client {

using json = nlohmann::json;

// Exit codes shared by every subcommand.
enum ExitCode { kOk = 0, kServerError = 1, kUsage = 2, kCannotConnect = 3 };

struct CommonOptions {
  std::string server = "127.0.0.1:7878";  // as the user wrote it, for messages
  std::vector<Endpoint> servers;          // parsed from `server`; tried in turn
  std::string name;
  std::string token;
  std::string password;          // an account's password (--password, PARLEY_PASSWORD)
  TlsSetup tls;                  // for tls:// and wss:// addresses (and every address with --tls)
  bool name_is_default = false;  // taken from $USER: fall back to a guest name if refused
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reply_timeout{5000};
};

struct Failure {
  Failure(int exit_code_, std::string reason_, bool connection_lost_ = false,
          std::string code_ = {})
      : exit_code(exit_code_),
        reason(std::move(reason_)),
        connection_lost(connection_lost_),
        code(std::move(code_)) {}

  int exit_code;
  std::string reason;
  bool connection_lost;  // closed or silent, rather than refused by the server
  std::string code;      // the server's error code, when it refused
};

class ClientSession {
 public:
  ClientSession(const asio::any_io_executor& executor, CommonOptions options,
                std::size_t first_server = 0);

  // Connects to the first server that answers (starting at `first_server`, in turn) and,
  // when a name or token is set (or `always_hello`), says hello.
  asio::awaitable<std::optional<Failure>> open(bool always_hello = false);
  // Sends `frame` with a fresh id and returns the reply with that id (an error reply is
  // a Failure). With `raw_data`, that JSON text is sent verbatim as the field "data".
  // Frames without that id that arrive first go to on_event.
  asio::awaitable<std::variant<json, Failure>> request(json frame,
                                                       std::optional<std::string> raw_data = {});

  Connection& connection() { return connection_; }
  const CommonOptions& options() const { return options_; }
  const json& welcome() const { return welcome_; }
  // The server connected to, and its index in options().servers.
  const Endpoint& endpoint() const { return options_.servers.at(server_index_); }
  std::size_t server_index() const { return server_index_; }
  // The server's largest frame from `welcome` (0 when unknown: no hello yet).
  std::size_t max_frame() const;
  // The last reply exactly as the server sent it, for --output json.
  const std::string& last_reply_line() const { return last_reply_line_; }
  std::function<void(const json&)> on_event = [](const json&) {};

 private:
  asio::awaitable<std::optional<Failure>> hello();

  Connection connection_;
  CommonOptions options_;
  std::size_t server_index_;
  json welcome_;
  std::string last_reply_line_;
  std::string closing_error_;  // an error event that came just before the server closed
  std::uint64_t next_id_ = 1;
};

// One line for a server `error` frame: "code: message", with a hint of what to do for
// the errors a user can fix (a missing or wrong token or password).
std::string describe_error(const json& frame);

// `frame` serialised with the field "data" holding `raw_data` exactly as written (a
// valid JSON text; line ends outside strings become spaces), so keys keep their order.
std::string with_raw_data(const json& frame, const std::string& raw_data);

}  // namespace parley::client
