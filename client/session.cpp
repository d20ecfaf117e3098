#include "session.hpp"

namespace parley::client {

Session::Session(const asio::any_io_executor& executor, CommonOptions options)
    : connection_(executor), options_(std::move(options)) {}

std::string describe_error(const json& frame) {
  return frame.value("code", std::string("error")) + ": " + frame.value("message", std::string());
}

asio::awaitable<std::optional<Failure>> Session::open(bool always_hello) {
  const auto endpoint = parse_endpoint(options_.server);
  if (!endpoint) co_return Failure{kUsage, "'" + options_.server + "' is not HOST:PORT"};
  const std::string failure = co_await connection_.connect(*endpoint, options_.connect_timeout);
  if (!failure.empty()) co_return Failure{kCannotConnect, failure};
  if (!always_hello && options_.name.empty() && options_.token.empty()) co_return std::nullopt;
  json hello = {{"op", "hello"}};
  if (!options_.name.empty()) hello["name"] = options_.name;
  if (!options_.token.empty()) hello["token"] = options_.token;
  auto reply = co_await request(std::move(hello));
  if (auto* failed = std::get_if<Failure>(&reply)) co_return *failed;
  welcome_ = std::get<json>(reply);
  co_return std::nullopt;
}

asio::awaitable<std::variant<json, Failure>> Session::request(json frame) {
  const std::string id = "c" + std::to_string(next_id_++);
  frame["id"] = id;
  if (!co_await connection_.send(frame.dump()))
    co_return Failure{kServerError, "the connection is closed", true};
  const auto deadline = std::chrono::steady_clock::now() + options_.reply_timeout;
  std::string line;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const auto read = co_await connection_.read(line, std::max(left, std::chrono::milliseconds(1)));
    if (read == Connection::Read::timeout)
      co_return Failure{kServerError, "no reply from the server in time", true};
    if (read == Connection::Read::closed)
      co_return Failure{kServerError, "the server closed the connection", true};
    json reply = json::parse(line, nullptr, false);
    if (reply.is_discarded()) continue;
    if (reply.value("id", json()) != id) {
      if (reply.value("op", "") == "ping") {
        co_await connection_.send(R"({"op":"pong"})");
      } else {
        on_event(reply);
      }
      continue;
    }
    if (reply.value("op", "") == "error") co_return Failure{kServerError, describe_error(reply)};
    last_reply_line_ = line;
    co_return reply;
  }
}

}  // namespace parley::client
