#include "connection.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

namespace parley::client {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace asio::experimental::awaitable_operators;

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  const std::string port(text.substr(colon + 1));
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoul(port) > 65535) {
    return std::nullopt;
  }
  return Endpoint{host, port};
}

Connection::Connection(const asio::any_io_executor& executor) : socket_(executor) {}

asio::awaitable<std::string> Connection::connect(const Endpoint& endpoint,
                                                 std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, results] =
      co_await resolver.async_resolve(endpoint.host, endpoint.port, as_tuple(use_awaitable));
  if (resolve_error) co_return "cannot resolve " + endpoint.host + ": " + resolve_error.message();
  asio::steady_timer deadline(executor, timeout);
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
  std::string line(frame);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  auto [ec, written] =
      co_await asio::async_write(socket_, asio::buffer(line), as_tuple(use_awaitable));
  co_return !ec;
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
  if (buffered(line)) co_return Read::frame;
  if (!socket_.is_open()) co_return Read::closed;
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto outcome = co_await (asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                                                  as_tuple(use_awaitable)) ||
                           deadline.async_wait(as_tuple(use_awaitable)));
  if (outcome.index() == 1) co_return Read::timeout;
  const auto& [ec, ignored] = std::get<0>(outcome);
  if (ec) co_return Read::closed;
  buffered(line);
  co_return Read::frame;
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
