#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// Long enough not to spin while descriptors are exhausted, short enough to notice freed ones.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

}  // namespace

Listener::Listener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                   OnAccept on_accept)
    : acceptor_(io), backoff_(io), on_accept_(std::move(on_accept)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void Listener::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), [](const std::exception_ptr& error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::critical("accept loop ended by an internal error: {}", e.what());
    }
  });
}

void Listener::close() {
  closed_ = true;
  std::error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

asio::awaitable<void> Listener::accept_loop() {
  std::uint64_t failures = 0;
  while (!closed_) {
    auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
    if (closed_) break;
    if (ec) {
      if (failures++ == 0)
        spdlog::warn("accept failed: {}; retrying every {} ms", ec.message(),
                     kAcceptBackoff.count());
      backoff_.expires_after(kAcceptBackoff);
      co_await backoff_.async_wait(as_tuple(use_awaitable));
      continue;
    }
    if (failures != 0) {
      spdlog::info("accepting connections again after {} failed attempts", failures);
      failures = 0;
    }
    on_accept_(std::move(socket));
  }
}

}  // namespace parley::server
