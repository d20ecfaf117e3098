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
#include "redis_engine.hpp"
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
  void refuse(asio::ip::tcp::socket socket, std::string_view why);
  asio::awaitable<void> linger_refused(asio::ip::tcp::socket socket);
  void start_sweep();
  asio::awaitable<void> sweep_loop();
  void watch_signals();
  void wait_for_signal();
  void on_signal(int signal_number);
  void reload();
  void finish();

  // Refused connections linger like closing sessions, but only this many at once.
  static constexpr int kMaxLingeringRefusals = 256;

  asio::io_context& io_;
  const ServerConfig& config_;
  std::chrono::system_clock::time_point started_;
  Hub hub_;
  std::unique_ptr<cluster::RedisEngine> cluster_;  // with --cluster: decides in Redis
  Dispatcher dispatcher_;
  SessionSettings session_settings_;
  SessionRegistry registry_;
  Listener listener_;
  asio::signal_set signals_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer drain_timer_;
  bool draining_ = false;
  bool finished_ = false;
  int lingering_refusals_ = 0;
};

}  // namespace parley::server
