#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <csignal>
#include <cstdlib>

#include "parley/protocol/frames.hpp"
#include "spawn.hpp"
#include "stream_transport.hpp"

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
  options.on_auth_failure = [](const AuthFailure& failure) {
    // Never the secret: who asked, from where, and why it was refused.
    spdlog::warn("session {} ({}) failed hello{}: {}{}", failure.session,
                 failure.address.empty() ? "?" : failure.address,
                 failure.name ? " as " + std::string(*failure.name) : std::string(), failure.reason,
                 failure.throttled ? " (throttled)" : "");
  };
  return options;
}

std::unique_ptr<cluster::RedisEngine> make_cluster(asio::io_context& io, Hub& hub,
                                                   const ServerConfig& config) {
  if (!config.cluster) return nullptr;
  cluster::ClusterOptions options{.target = cluster::parse_redis_url(*config.cluster),
                                  .node_timeout = config.cluster_node_timeout};
  if (!options.target.password) {
    if (const char* password = std::getenv("PARLEY_CLUSTER_PASSWORD"); password && *password)
      options.target.password = password;
  }
  return std::make_unique<cluster::RedisEngine>(io, hub, std::move(options));
}

}  // namespace

Server::Server(asio::io_context& io, const ServerConfig& config)
    : io_(io),
      config_(config),
      started_(std::chrono::system_clock::now()),
      hub_(HubLimits{
          .max_subs = config.max_subs,
          .history_per_topic = config.history,
          .history_bytes = config.history_bytes,
          .reply_bytes = std::max<std::size_t>(protocol::kMinReplyMessageBytes, config.max_frame)}),
      cluster_(make_cluster(io, hub_, config)),
      dispatcher_(cluster_ ? Dispatcher(*cluster_, dispatch_options(config), started_)
                           : Dispatcher(hub_, dispatch_options(config), started_)),
      session_settings_{.max_frame = config.max_frame,
                        .outbound_limit = config.outbound_limit,
                        .ping_interval = config.ping_interval,
                        .ping_timeout = config.ping_timeout,
                        .auth_timeout = config.token ? config.auth_timeout : Duration(0)},
      listener_(io, make_endpoint(config),
                [this](asio::ip::tcp::socket socket) { accept(std::move(socket)); }),
      signals_(io),
      sweep_timer_(io),
      drain_timer_(io) {}

void Server::start() {
  if (cluster_) {
    cluster_->start();
    spdlog::info("cluster node {}: node timeout {} ms", hub_.node_id(),
                 config_.cluster_node_timeout.count());
  }
  listener_.start();
  start_sweep();
  watch_signals();
  const auto endpoint = local_endpoint();
  spdlog::info("listening on {}:{}", endpoint.address().to_string(), endpoint.port());
  spdlog::info(
      "limits: max_frame={} max_subs={} max_connections={} outbound_limit={} rate={}/s burst={} "
      "history={} history_bytes={} ping={}ms/{}ms auth={}",
      config_.max_frame, config_.max_subs, config_.max_connections, config_.outbound_limit,
      config_.rate, config_.rate_burst, config_.history, config_.history_bytes,
      config_.ping_interval.count(), config_.ping_timeout.count(), config_.token ? "token" : "off");
  spdlog::info("connections: max={} per_ip={} auth_timeout={}ms", config_.max_connections,
               config_.max_connections_per_ip,
               config_.token ? config_.auth_timeout.count() : std::chrono::milliseconds::rep{0});
}

void Server::accept(asio::ip::tcp::socket socket) {
  if (draining_) return;
  if (registry_.size() >= config_.max_connections) {
    spdlog::warn("refused a connection: {} open, the limit", registry_.size());
    refuse(std::move(socket), "the server is at its connection limit");
    return;
  }
  if (config_.max_connections_per_ip != 0) {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string ip = ec ? "?" : remote.address().to_string();
    if (registry_.count_from(ip) >= config_.max_connections_per_ip) {
      spdlog::warn("refused a connection from {}: {} open from that address, the limit", ip,
                   config_.max_connections_per_ip);
      refuse(std::move(socket), "too many connections from your address");
      return;
    }
  }
  Session::start(std::make_shared<Session>(std::make_unique<TcpTransport>(std::move(socket)), hub_,
                                           dispatcher_, registry_, session_settings_));
}

void Server::refuse(asio::ip::tcp::socket socket, std::string_view why) {
  // Refused before a session exists: tell it why in one non-blocking write, shut our side
  // down, and linger briefly so that a hello already on its way does not turn the close
  // into a reset that destroys the error. Lingering refusals are bounded in number.
  std::string refusal = protocol::build_error(std::nullopt, protocol::ErrorCode::server_full, why);
  refusal += protocol::build_bye(std::nullopt, "server_full");
  std::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(refusal), ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (lingering_refusals_ >= kMaxLingeringRefusals) return;  // closed on return
  ++lingering_refusals_;
  spawn_logged(io_.get_executor(), linger_refused(std::move(socket)), "refused connection",
               [this](bool) { --lingering_refusals_; });
}

asio::awaitable<void> Server::linger_refused(asio::ip::tcp::socket socket) {
  asio::steady_timer deadline(io_, session_settings_.linger_time);
  deadline.async_wait([&socket](const std::error_code& ec) {
    std::error_code ignored;
    if (!ec) socket.close(ignored);
  });
  std::array<char, 4096> sink;
  std::size_t discarded = 0;
  while (socket.is_open() && discarded <= session_settings_.linger_bytes) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), as_tuple(use_awaitable));
    if (ec) break;
    discarded += n;
  }
  deadline.cancel();
  std::error_code ignored;
  socket.close(ignored);
}

void Server::start_sweep() {
  spawn_logged(io_.get_executor(), sweep_loop(), "heartbeat sweep", [this](bool failed) {
    // Heartbeats must not silently end for everyone: start the sweep again.
    if (failed && !finished_) start_sweep();
  });
}

void Server::watch_signals() {
  // SIGPIPE would end the process when a peer (or the log's reader) goes away mid-write;
  // every write here reports EPIPE as an error instead.
  std::signal(SIGPIPE, SIG_IGN);
  for (const int signal_number : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) {
    signals_.add(signal_number);
  }
  wait_for_signal();
}

void Server::wait_for_signal() {
  signals_.async_wait([this](const std::error_code& ec, int signal_number) {
    if (ec) return;
    on_signal(signal_number);
    if (!finished_) wait_for_signal();
  });
}

void Server::on_signal(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
    case SIGINT: {
      const char* name = signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
      if (!draining_) {
        spdlog::info("received {}: draining", name);
        drain();
      } else {
        spdlog::warn("received {} again while draining: closing every session now", name);
        finish();
      }
      return;
    }
    case SIGHUP:
      reload();
      return;
    default:
      spdlog::info("received signal {}: ignored (SIGTERM or SIGINT drains, SIGHUP reloads)",
                   signal_number == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
      return;
  }
}

void Server::reload() {
  // Users and certificates are the reloadable configuration; none is configured yet.
  spdlog::info("received SIGHUP: nothing to reload (no users file or certificates configured)");
}

asio::awaitable<void> Server::sweep_loop() {
  const auto period = sweep_period(config_);
  // The sweep goes on while draining: closing sessions have deadlines too.
  while (!finished_) {
    sweep_timer_.expires_after(period);
    co_await sweep_timer_.async_wait(as_tuple(use_awaitable));
    const auto now = Session::Clock::now();
    registry_.for_each([now](Session& s) { s.tick(now); });
  }
}

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  if (cluster_) cluster_->stop();  // the other nodes hear of this node's members at once
  listener_.close();
  spdlog::info("shutting down: {} sessions to drain within {} ms", registry_.size(),
               config_.drain_timeout.count());
  const auto deadline = Session::Clock::now() + config_.drain_timeout;
  if (registry_.size() == 0) return finish();
  registry_.on_empty([this] { drain_timer_.cancel(); });
  registry_.for_each([deadline](Session& s) { s.shut_down(deadline); });
  drain_timer_.expires_at(deadline);
  drain_timer_.async_wait([this](const std::error_code& ec) {
    if (ec != asio::error::operation_aborted || registry_.size() == 0) finish();
  });
}

void Server::finish() {
  if (finished_) return;
  finished_ = true;
  signals_.cancel();
  sweep_timer_.cancel();
  drain_timer_.cancel();
  if (registry_.size() != 0) {
    spdlog::warn("drain timeout: closing {} sessions that did not finish", registry_.size());
    registry_.for_each([](Session& s) { s.close(CloseReason::deadline); });
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
