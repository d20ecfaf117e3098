#include "tls_acceptor.hpp"

#include <spdlog/spdlog.h>

#include "spawn.hpp"

namespace parley::server {
namespace {

constexpr auto kFailureReportPeriod = std::chrono::seconds(10);

std::string ip_of(const asio::ip::tcp::socket& socket) {
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  return ec ? "?" : remote.address().to_string();
}

}  // namespace

TlsAcceptor::TlsAcceptor(asio::io_context& io, TlsContextPtr context,
                         std::chrono::milliseconds timeout, OnReady on_ready)
    : io_(io), contexts_(std::move(context)), timeout_(timeout), on_ready_(std::move(on_ready)) {}

std::size_t TlsAcceptor::pending_from(std::string_view ip) const {
  const auto it = pending_per_ip_.find(ip);
  return it == pending_per_ip_.end() ? 0 : it->second;
}

void TlsAcceptor::start(asio::ip::tcp::socket socket) {
  if (stopped_) return;
  std::string ip = ip_of(socket);
  std::unique_ptr<TlsStream> stream;
  try {
    stream = std::make_unique<TlsStream>(std::move(socket), contexts_.current());
  } catch (const std::exception& e) {
    spdlog::error("TLS connection from {} not started: {}", ip, e.what());
    return;
  }
  pending_.insert(stream.get());
  ++pending_per_ip_[ip];
  spawn_logged(io_.get_executor(), run(std::move(stream), std::move(ip)), "TLS handshake");
}

void TlsAcceptor::stop() {
  stopped_ = true;
  for (TlsStream* stream : pending_) stream->close();
}

asio::awaitable<void> TlsAcceptor::run(std::unique_ptr<TlsStream> stream, std::string ip) {
  const std::string address = stream->remote_address();
  // The deadline closes the socket, which ends the handshake's wait. `alive` keeps a
  // timer that already fired from touching a stream that has moved on.
  auto alive = std::make_shared<bool>(true);
  asio::steady_timer deadline(io_, timeout_);
  deadline.async_wait([alive, raw = stream.get()](const std::error_code& ec) {
    if (!ec && *alive) raw->close();
  });
  std::string reason;
  const std::error_code ec = co_await stream->handshake(reason);
  *alive = false;
  deadline.cancel();
  pending_.erase(stream.get());
  if (const auto it = pending_per_ip_.find(ip); it != pending_per_ip_.end() && --it->second == 0) {
    pending_per_ip_.erase(it);
  }
  if (ec || stopped_) {
    if (ec) log_failure(address, reason);
    co_return;  // the stream closes the connection as it goes
  }
  spdlog::debug("TLS handshake with {} done: {}", address, stream->describe_session());
  on_ready_(std::move(*stream));
}

void TlsAcceptor::log_failure(const std::string& address, const std::string& reason) {
  spdlog::debug("TLS handshake with {} failed: {}", address, reason);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_report_ < kFailureReportPeriod) {
    ++unreported_;
    return;
  }
  if (unreported_ == 0) {
    spdlog::info("TLS handshake with {} failed: {}", address, reason);
  } else {
    spdlog::info("TLS handshake with {} failed: {} ({} more failures since the last report)",
                 address, reason, unreported_);
  }
  last_report_ = now;
  unreported_ = 0;
}

}  // namespace parley::server
