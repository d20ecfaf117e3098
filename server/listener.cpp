#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <asio/experimental/as_tuple.hpp>

#include "spawn.hpp"

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// Long enough not to spin while descriptors are exhausted, short enough to notice freed ones.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// A burst of connections is taken in one turn of the loop, up to this many at a time.
constexpr int kAcceptsPerTurn = 64;

}  // namespace

Listener::Listener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                   OnAccept on_accept)
    : acceptor_(io), backoff_(io), on_accept_(std::move(on_accept)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  // Lets accept_loop take what is already waiting without another trip through the loop.
  acceptor_.non_blocking(true);
}

void Listener::start() {
  spawn_logged(acceptor_.get_executor(), accept_loop(), "accept loop");
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
    for (int more = 1; more < kAcceptsPerTurn && !closed_; ++more) {
      // would_block ends the burst; a real error comes back from async_accept next time.
      std::error_code burst_error;
      asio::ip::tcp::socket next = acceptor_.accept(burst_error);
      if (burst_error) break;
      on_accept_(std::move(next));
    }
  }
}

}  // namespace parley::server
