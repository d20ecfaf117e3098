#include "client_session.hpp"

#include "safe_text.hpp"

namespace parley::client {

ClientSession::ClientSession(const asio::any_io_executor& executor, CommonOptions options,
                             std::size_t first_server)
    : connection_(executor),
      options_(std::move(options)),
      server_index_(options_.servers.empty() ? 0 : first_server % options_.servers.size()) {}

std::string describe_error(const json& frame) {
  const std::string code =
      frame.value("code", json()).is_string() ? frame["code"].get<std::string>() : "error";
  const std::string message =
      frame.value("message", json()).is_string() ? frame["message"].get<std::string>() : "";
  std::string text = safe_text(code, "\\n") + ": " + safe_text(message, "\\n");
  if (code == "auth_failed" || code == "not_authenticated") {
    text +=
        " (a server with a shared token: --token TOKEN or PARLEY_TOKEN=TOKEN; a server with "
        "accounts: --name NAME and --password, or PARLEY_PASSWORD, with the account's password)";
  }
  return text;
}

std::string with_raw_data(const json& frame, const std::string& raw_data) {
  std::string text = frame.dump();
  text.pop_back();  // the closing brace
  text += frame.empty() ? "\"data\":" : ",\"data\":";
  // Outside strings, JSON allows line ends as whitespace; inside, it forbids them raw.
  for (char c : raw_data) text.push_back(c == '\n' || c == '\r' ? ' ' : c);
  text.push_back('}');
  return text;
}

std::size_t ClientSession::max_frame() const {
  const auto limits = welcome_.value("limits", json::object());
  const auto value = limits.value("max_frame", json());
  return value.is_number_unsigned() ? value.get<std::size_t>() : 0;
}

asio::awaitable<std::optional<Failure>> ClientSession::open(bool always_hello) {
  if (options_.servers.empty()) co_return Failure{kUsage, "no server address given"};
  std::string failures;
  for (std::size_t tried = 0; tried < options_.servers.size(); ++tried) {
    const std::string failure =
        co_await connection_.connect(endpoint(), options_.connect_timeout, options_.tls);
    if (failure.empty()) {
      failures.clear();
      break;
    }
    failures += (failures.empty() ? "" : "; ") + failure;
    server_index_ = (server_index_ + 1) % options_.servers.size();
  }
  if (!failures.empty()) co_return Failure{kCannotConnect, failures, true};
  if (!always_hello && options_.name.empty() && options_.token.empty() && options_.password.empty())
    co_return std::nullopt;
  co_return co_await hello();
}

asio::awaitable<std::optional<Failure>> ClientSession::hello() {
  json frame = {{"op", "hello"}};
  if (!options_.name.empty()) frame["name"] = options_.name;
  if (!options_.token.empty()) frame["token"] = options_.token;
  if (!options_.password.empty()) frame["password"] = options_.password;
  auto reply = co_await request(frame);
  if (auto* failed = std::get_if<Failure>(&reply)) {
    // A default name ($USER) that is taken or not allowed is no reason to fail: go on as
    // a guest, as IRC clients pick another nick.
    if (!options_.name_is_default || (failed->code != "name_taken" && failed->code != "bad_name"))
      co_return *failed;
    frame.erase("name");
    options_.name.clear();
    reply = co_await request(frame);
    if (auto* again = std::get_if<Failure>(&reply)) co_return *again;
  }
  welcome_ = std::get<json>(reply);
  co_return std::nullopt;
}

asio::awaitable<std::variant<json, Failure>> ClientSession::request(
    json frame, std::optional<std::string> raw_data) {
  const std::string id = "c" + std::to_string(next_id_++);
  frame["id"] = id;
  const std::string text = raw_data ? with_raw_data(frame, *raw_data) : frame.dump();
  if (!co_await connection_.send(text))
    co_return Failure{kServerError, "the connection is closed", true};
  const auto deadline = std::chrono::steady_clock::now() + options_.reply_timeout;
  std::string line;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto read = co_await connection_.read(line, std::max(left, std::chrono::milliseconds(1)));
    if (read == Connection::Read::timeout) {
      co_return Failure{kCannotConnect,
                        "no reply from " + endpoint().text() + " within " +
                            std::to_string(options_.reply_timeout.count()) + " ms (see --timeout)",
                        true};
    }
    if (read == Connection::Read::closed) {
      if (!closing_error_.empty()) co_return Failure{kServerError, closing_error_, true};
      if (!connection_.error().empty()) co_return Failure{kServerError, connection_.error(), true};
      co_return Failure{kServerError, "the server closed the connection", true};
    }
    json reply = json::parse(line, nullptr, false);
    if (reply.is_discarded()) continue;
    if (reply.value("id", json()) != id) {
      // An error without our id may be the reason the server is about to close.
      if (reply.value("op", "") == "error") closing_error_ = describe_error(reply);
      on_event(reply);
      continue;
    }
    if (reply.value("op", "") == "error") {
      co_return Failure{
          kServerError, describe_error(reply), false,
          reply.value("code", json()).is_string() ? reply["code"].get<std::string>() : ""};
    }
    last_reply_line_ = line;
    co_return reply;
  }
}

}  // namespace parley::client
