#pragma once
// Wires the network layer around the hub: the listener, the live sessions, the heartbeat
// sweep and the drain on SIGTERM/SIGINT.
#include <asio.hpp>
#include <chrono>
#include <memory>

#include "config.hpp"
#include "dispatcher.hpp"
#include "hub.hpp"
#include "listener.hpp"
#include "session.hpp"

namespace parley::server {

class Server {
 public:
  // Binds the listening socket; throws std::system_error when it cannot.
  Server(asio::io_context& io, const ServerConfig& config);

  // Starts accepting, the heartbeat sweep and the signal watch.
  void start();
  asio::ip::tcp::endpoint local_endpoint() const { return listener_.local_endpoint(); }
  // Stops accepting, says bye to every session, flushes within the drain timeout, then
  // stops the loop.
  void drain();

  const Hub& hub() const noexcept { return hub_; }

 private:
  void accept(asio::ip::tcp::socket socket);
  asio::awaitable<void> sweep_loop();
  void finish();

  asio::io_context& io_;
  const ServerConfig& config_;
  std::chrono::system_clock::time_point started_;
  Hub hub_;
  Dispatcher dispatcher_;
  SessionSettings session_settings_;
  SessionRegistry registry_;
  Listener listener_;
  asio::signal_set signals_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer drain_timer_;
  bool draining_ = false;
};

}  // namespace parley::server
