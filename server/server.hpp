#pragma once
// Wires the network layer around the hub: the listener, the live sessions, the heartbeat
// sweep and the drain on SIGTERM/SIGINT.
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth_workers.hpp"
#include "config.hpp"
#include "dispatcher.hpp"
#include "http_server.hpp"
#include "hub.hpp"
#include "listener.hpp"
#include "loop_lag.hpp"
#include "redis_engine.hpp"
#include "session.hpp"
#include "tls_acceptor.hpp"

namespace parley::server {

class Server {
 public:
  // Binds the listening socket; throws std::system_error when it cannot.
  Server(asio::io_context& io, const ServerConfig& config);

  // Starts accepting, the heartbeat sweep and the signal watch.
  void start();
  asio::ip::tcp::endpoint local_endpoint() const { return listener_.local_endpoint(); }
  // The HTTP listener's address, when it is on.
  std::optional<asio::ip::tcp::endpoint> http_endpoint() const;
  // Stops accepting, says bye to every session, flushes within the drain timeout, then
  // stops the loop.
  void drain();

  const Hub& hub() const noexcept { return hub_; }

 private:
  void accept(asio::ip::tcp::socket socket);
  // Why a new session cannot open for a client at `ip` now; empty when it can.
  std::string refuse_reason(std::string_view ip) const;
  std::unique_ptr<HttpServer> make_http_server();
  void start_session(TransportPtr transport);
  std::string metrics_text() const;
  void refuse(asio::ip::tcp::socket socket, std::string_view why);
  asio::awaitable<void> linger_refused(asio::ip::tcp::socket socket);
  void start_sweep();
  asio::awaitable<void> sweep_loop();
  void watch_signals();
  void wait_for_signal();
  void on_signal(int signal_number);
  void reload();
  // What SIGHUP reloads, one step per configured source; each step reads its files off the
  // loop and applies the result on it.
  std::vector<std::function<void()>> reload_steps();
  void reload_tls();
  // SIGHUP's users-file step: read and parse on a worker, then apply on the loop.
  void reload_users();
  void apply_users(std::shared_ptr<const auth::Users> users);
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
  // Set when the listener speaks TLS: handshakes run there before a session starts.
  std::unique_ptr<TlsAcceptor> tls_;
  // File reading for reloads, which must not block the loop.
  asio::thread_pool reload_worker_{1};
  LoopLagProbe loop_lag_;
  std::unique_ptr<HttpServer> http_;  // none with --http-listen off
  asio::signal_set signals_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer drain_timer_;
  bool draining_ = false;
  bool finished_ = false;
  int lingering_refusals_ = 0;
  // Password checks and users-file reads, off the loop. Last member: destroyed (joined)
  // first, before anything a job's answer could refer to.
  AuthWorkers auth_workers_;
};

}  // namespace parley::server
