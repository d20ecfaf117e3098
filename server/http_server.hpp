#pragma once
// The HTTP/1.1 listener on the server's event loop: GET / (the chat page), /healthz,
// /metrics, and the WebSocket upgrade at /ws, after which the connection is a protocol
// session like any TCP one. One coroutine per connection (http_connection.cpp); no file
// is read from disk.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "listener.hpp"
#include "tls_acceptor.hpp"
#include "transport.hpp"

namespace parley::server {

struct HttpSettings {
  // Exact origins a WebSocket upgrade may come from; empty: the listener's own address
  // (and, when it listens on every interface, the origin the request's Host names).
  std::vector<std::string> allowed_origins;
  // Time to send a whole request head (and, between keep-alive requests, to start one).
  std::chrono::milliseconds header_timeout{10000};
  // After a response that ends the connection: time to read and discard what still comes.
  std::chrono::milliseconds linger_time{2000};
  std::size_t max_connections = 1024;  // open HTTP connections not upgraded
  std::size_t max_frame = 65536;       // a WebSocket message's limit, as a line's
};

// What the listener asks of the rest of the server. Called on the loop only.
struct HttpHooks {
  std::function<bool()> healthy;  // false while draining: /healthz says 503
  std::function<std::string()> metrics;
  // Why no WebSocket session may open now for a client at `ip`; empty when one may.
  std::function<std::string(std::string_view ip)> refuse_session;
  std::function<void(TransportPtr)> start_session;
};

// State the connections share with the listener; they hold it by shared_ptr, so that a
// connection outliving the server (destroyed with the io_context) touches nothing freed.
struct HttpContext {
  HttpSettings settings;
  HttpHooks hooks;
  std::vector<std::string> default_origins;  // from the bound address
  bool any_interface = false;                // listening on 0.0.0.0 or ::
  std::uint64_t open_connections = 0;
  std::uint64_t requests = 0;
};

class HttpServer {
 public:
  // Binds and listens; throws std::system_error when the address cannot be had.
  HttpServer(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint, HttpSettings settings,
             HttpHooks hooks);

  // From here on the listener speaks HTTPS only: each connection's handshake (within
  // `timeout`, with the acceptor's reloadable context) comes before its first request.
  void enable_tls(TlsContextPtr context, std::chrono::milliseconds timeout);
  // The HTTPS handshakes' acceptor (its context is what a reload replaces); null for HTTP.
  TlsAcceptor* tls() noexcept { return tls_.get(); }

  void start() { listener_.start(); }
  void close();
  asio::ip::tcp::endpoint local_endpoint() const { return listener_.local_endpoint(); }
  std::uint64_t open_connections() const noexcept { return context_->open_connections; }
  std::uint64_t requests() const noexcept { return context_->requests; }

 private:
  void accept(asio::ip::tcp::socket socket);

  asio::io_context& io_;
  std::shared_ptr<HttpContext> context_;
  Listener listener_;
  std::unique_ptr<TlsAcceptor> tls_;
};

}  // namespace parley::server
