#pragma once
// Accepts connections and hands each one on. It survives accept errors (out of file
// descriptors, aborted handshakes): it logs, pauses briefly and goes on.
#include <asio.hpp>
#include <functional>

namespace parley::server {

class Listener {
 public:
  using OnAccept = std::function<void(asio::ip::tcp::socket)>;

  // Binds and listens; throws std::system_error when the address cannot be had.
  Listener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint, OnAccept on_accept);

  void start();
  void close();
  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  asio::awaitable<void> accept_loop();

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer backoff_;
  OnAccept on_accept_;
  bool closed_ = false;
};

}  // namespace parley::server
