#pragma once
// The TLS front door: runs each accepted connection's handshake, within a deadline, before
// a session exists, and hands the finished stream on. Connections still in their
// handshake hold connection slots (counted here, per address too), so that strangers that
// never finish cannot get around the server's limits. Failures are logged at debug, with
// an info summary at most every few seconds, so that a port scan cannot flood the log.
// Event-loop thread only.
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "tls_context.hpp"
#include "tls_stream.hpp"

namespace parley::server {

class TlsAcceptor {
 public:
  using OnReady = std::function<void(TlsStream)>;

  TlsAcceptor(asio::io_context& io, TlsContextPtr context, std::chrono::milliseconds timeout,
              OnReady on_ready);

  // Starts the handshake of an accepted connection; on success on_ready gets its stream.
  void start(asio::ip::tcp::socket socket);
  // Closes every connection still in its handshake (the server is draining).
  void stop();

  std::size_t pending() const noexcept { return pending_.size(); }
  std::size_t pending_from(std::string_view ip) const;
  // What new handshakes use; a reload replaces it.
  TlsContextHolder& contexts() noexcept { return contexts_; }

 private:
  asio::awaitable<void> run(std::unique_ptr<TlsStream> stream, std::string ip);
  void log_failure(const std::string& address, const std::string& reason);

  asio::io_context& io_;
  TlsContextHolder contexts_;
  std::chrono::milliseconds timeout_;
  OnReady on_ready_;
  std::unordered_set<TlsStream*> pending_;
  std::map<std::string, std::size_t, std::less<>> pending_per_ip_;
  bool stopped_ = false;
  // Failure log throttle: one info line per period, the rest counted in it.
  std::chrono::steady_clock::time_point last_report_{};
  std::size_t unreported_ = 0;
};

}  // namespace parley::server
