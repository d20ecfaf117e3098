#include "connection.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <nlohmann/json.hpp>

namespace parley::client {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace asio::experimental::awaitable_operators;

bool is_server_ping(std::string_view line) {
  if (line.find("\"ping\"") == std::string_view::npos) return false;  // the common case, cheaply
  const auto frame = nlohmann::json::parse(line, nullptr, false);
  return frame.is_object() && frame.value("op", nlohmann::json()) == "ping" &&
         !frame.contains("id");
}

Connection::Connection(const asio::any_io_executor& executor) : socket_(executor) {}

asio::awaitable<std::string> Connection::connect(const Endpoint& endpoint,
                                                 std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  if (endpoint.tls)
    co_return "cannot connect to " + endpoint.text() + ": TLS is not supported by this client yet";
  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer deadline(executor, timeout);
  const std::string port = std::to_string(endpoint.port);
  // Resolving counts against the same deadline: a dead DNS server must not hang us.
  auto resolved = co_await (resolver.async_resolve(endpoint.host, port, as_tuple(use_awaitable)) ||
                            deadline.async_wait(as_tuple(use_awaitable)));
  if (resolved.index() == 1) {
    co_return "cannot resolve " + endpoint.host + " within " + std::to_string(timeout.count()) +
        " ms";
  }
  auto [resolve_error, results] = std::get<0>(std::move(resolved));
  if (resolve_error) co_return "cannot resolve " + endpoint.host + ": " + resolve_error.message();
  auto outcome = co_await (asio::async_connect(socket_, results, as_tuple(use_awaitable)) ||
                           deadline.async_wait(as_tuple(use_awaitable)));
  if (outcome.index() == 1) {
    close();
    co_return "no answer from " + endpoint.text() + " within " + std::to_string(timeout.count()) +
        " ms";
  }
  const auto& [ec, ignored] = std::get<0>(outcome);
  if (ec) co_return "cannot connect to " + endpoint.text() + ": " + ec.message();
  std::error_code option_error;
  socket_.set_option(asio::ip::tcp::no_delay(true), option_error);
  co_return std::string();
}

asio::awaitable<bool> Connection::send(std::string_view frame) {
  if (!socket_.is_open()) co_return false;
  outbox_.append(frame);
  if (outbox_.empty() || outbox_.back() != '\n') outbox_.push_back('\n');
  if (writing_) co_return true;  // the write in flight takes this frame with it
  writing_ = true;
  bool ok = true;
  while (ok && !outbox_.empty()) {
    std::string batch = std::move(outbox_);
    outbox_.clear();
    auto [ec, written] =
        co_await asio::async_write(socket_, asio::buffer(batch), as_tuple(use_awaitable));
    ok = !ec;
  }
  writing_ = false;
  if (!ok) outbox_.clear();
  co_return ok;
}

bool Connection::buffered(std::string& line) {
  const auto newline = buffer_.find('\n');
  if (newline == std::string::npos) return false;
  line.assign(buffer_, 0, newline);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  buffer_.erase(0, newline + 1);
  return true;
}

asio::awaitable<Connection::Read> Connection::read(std::string& line,
                                                   std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline_at = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!buffered(line)) {
      if (!socket_.is_open()) co_return Read::closed;
      asio::steady_timer deadline(executor, deadline_at);
      auto outcome = co_await (asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                                                      as_tuple(use_awaitable)) ||
                               deadline.async_wait(as_tuple(use_awaitable)));
      if (outcome.index() == 1) co_return Read::timeout;
      const auto& [ec, ignored] = std::get<0>(outcome);
      if (ec) co_return Read::closed;
      buffered(line);
    }
    if (!answer_pings_ || !is_server_ping(line)) co_return Read::frame;
    co_await send(R"({"op":"pong"})");
  }
}

void Connection::shutdown_send() {
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void Connection::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

void Connection::reset() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

}  // namespace parley::client
