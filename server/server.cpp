#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>

#include "parley/protocol/frames.hpp"

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using std::chrono::milliseconds;

asio::ip::tcp::endpoint make_endpoint(const ServerConfig& config) {
  return {asio::ip::make_address(config.listen_host), config.listen_port};
}

// Fine enough for short test intervals, coarse enough to cost nothing with 10k sessions.
milliseconds sweep_period(const ServerConfig& config) {
  const auto shortest = std::min({config.ping_interval, config.ping_timeout, milliseconds(2000)});
  return std::clamp(shortest / 4, milliseconds(5), milliseconds(500));
}

DispatchOptions dispatch_options(const ServerConfig& config) {
  DispatchOptions options;
  options.token = config.token;
  options.limits = {config.max_frame, config.max_subs,
                    std::chrono::duration<double>(config.ping_interval).count()};
  options.rate = config.rate;
  options.rate_burst = config.rate_burst;
  return options;
}

}  // namespace

Server::Server(asio::io_context& io, const ServerConfig& config)
    : io_(io),
      config_(config),
      started_(std::chrono::system_clock::now()),
      hub_(HubLimits{config.max_subs, config.history, config.history_bytes}),
      dispatcher_(hub_, dispatch_options(config), started_),
      session_settings_{config.max_frame, config.outbound_limit, config.ping_interval,
                        config.ping_timeout, std::chrono::seconds(2)},
      listener_(io, make_endpoint(config),
                [this](asio::ip::tcp::socket socket) { accept(std::move(socket)); }),
      signals_(io, SIGTERM, SIGINT),
      sweep_timer_(io),
      drain_timer_(io) {}

void Server::start() {
  listener_.start();
  asio::co_spawn(io_, sweep_loop(), asio::detached);
  signals_.async_wait([this](const std::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received {}: draining", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    drain();
  });
  const auto endpoint = local_endpoint();
  spdlog::info("listening on {}:{}", endpoint.address().to_string(), endpoint.port());
  spdlog::info(
      "limits: max_frame={} max_subs={} max_connections={} outbound_limit={} rate={}/s burst={} "
      "history={} history_bytes={} ping={}ms/{}ms auth={}",
      config_.max_frame, config_.max_subs, config_.max_connections, config_.outbound_limit,
      config_.rate, config_.rate_burst, config_.history, config_.history_bytes,
      config_.ping_interval.count(), config_.ping_timeout.count(), config_.token ? "token" : "off");
}

void Server::accept(asio::ip::tcp::socket socket) {
  if (draining_) return;
  if (registry_.size() >= config_.max_connections) {
    // Refused before a session exists: tell it why in one non-blocking write, then close.
    std::string refusal = protocol::build_error(std::nullopt, protocol::ErrorCode::server_full,
                                                "the server is at its connection limit");
    refusal += protocol::build_bye(std::nullopt, "server_full");
    std::error_code ec;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(refusal), ec);
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    socket.close(ec);
    spdlog::warn("refused a connection: {} open, the limit", registry_.size());
    return;
  }
  Session::start(std::make_shared<Session>(std::move(socket), hub_, dispatcher_, registry_,
                                           session_settings_));
}

asio::awaitable<void> Server::sweep_loop() {
  const auto period = sweep_period(config_);
  while (!draining_) {
    sweep_timer_.expires_after(period);
    co_await sweep_timer_.async_wait(as_tuple(use_awaitable));
    const auto now = Session::Clock::now();
    registry_.for_each([now](Session& s) { s.tick(now); });
  }
}

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  listener_.close();
  signals_.cancel();
  sweep_timer_.cancel();
  spdlog::info("shutting down: {} sessions to drain within {} ms", registry_.size(),
               config_.drain_timeout.count());
  const auto deadline = Session::Clock::now() + config_.drain_timeout;
  if (registry_.size() == 0) return finish();
  registry_.on_empty([this] { drain_timer_.cancel(); });
  registry_.for_each([deadline](Session& s) { s.shut_down(deadline); });
  drain_timer_.expires_at(deadline);
  drain_timer_.async_wait([this](const std::error_code&) { finish(); });
}

void Server::finish() {
  if (registry_.size() != 0) {
    spdlog::warn("drain timeout: closing {} sessions that did not finish", registry_.size());
    registry_.for_each([](Session& s) { s.force_close(); });
  }
  const auto& c = hub_.counters();
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_);
  spdlog::info(
      "stopped after {} s: {} sessions served, {} msgs in, {} msgs out, {} bytes in, {} bytes out, "
      "{} slow consumers",
      uptime.count(), c.sessions_total, c.msgs_in, c.msgs_out, c.bytes_in, c.bytes_out,
      c.slow_consumers);
  // Let force-closed sessions finish their coroutines, then stop.
  asio::post(io_, [this] { io_.stop(); });
}

}  // namespace parley::server
