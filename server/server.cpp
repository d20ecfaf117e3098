#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <csignal>
#include <cstdlib>

#include "metrics.hpp"
#include "parley/protocol/frames.hpp"
#include "spawn.hpp"
#include "stream_transport.hpp"
#include "tls_transport.hpp"
#include "users_loader.hpp"
#include "ws_transport.hpp"

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using std::chrono::milliseconds;

asio::ip::tcp::endpoint make_endpoint(const ServerConfig& config) {
  return {asio::ip::make_address(config.listen_host), config.listen_port};
}

// How often the event-loop lag is sampled: often enough for a p99 under a benchmark.
constexpr auto kLoopLagPeriod = milliseconds(20);

// Fine enough for short test intervals, coarse enough to cost nothing with 10k sessions.
milliseconds sweep_period(const ServerConfig& config) {
  const auto shortest = std::min({config.ping_interval, config.ping_timeout, milliseconds(2000)});
  return std::clamp(shortest / 4, milliseconds(5), milliseconds(500));
}

// The users file is read once here, before the loop runs; a file that cannot be used stops
// the start with its reason.
std::shared_ptr<const auth::Users> initial_users(const ServerConfig& config) {
  if (!config.users_file) return nullptr;
  auto loaded = load_users_file(*config.users_file);
  if (auto* reason = std::get_if<std::string>(&loaded)) throw std::runtime_error(*reason);
  auto users = std::get<std::shared_ptr<const auth::Users>>(std::move(loaded));
  spdlog::info("accounts: {} from {}", users->accounts().size(), *config.users_file);
  return users;
}

bool auth_configured(const ServerConfig& config) {
  return config.token.has_value() || config.users_file.has_value();
}

DispatchOptions dispatch_options(const ServerConfig& config) {
  DispatchOptions options;
  options.token = config.token;
  options.users = initial_users(config);
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

TlsFiles tls_files(const ServerConfig& config) {
  return {.cert = config.tls_cert, .key = config.tls_key, .client_ca = config.tls_client_ca};
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
                        .auth_timeout = auth_configured(config) ? config.auth_timeout : Duration(0),
                        .auth_workers = &auth_workers_},
      listener_(io, make_endpoint(config),
                [this](asio::ip::tcp::socket socket) { accept(std::move(socket)); }),
      loop_lag_(io, kLoopLagPeriod),
      http_(make_http_server()),
      signals_(io),
      sweep_timer_(io),
      drain_timer_(io) {
  if (!config.tls_cert.empty()) {
    // Read before the loop runs: a server that cannot serve TLS must not start.
    auto loaded = load_tls_context(tls_files(config));
    spdlog::info("TLS on: {}{}", loaded.certificate,
                 config.tls_client_ca.empty() ? "" : "; client certificates required");
    // The HTTP listener, if any, speaks HTTPS only, with the same context and deadline.
    if (http_) http_->enable_tls(loaded.context, config.tls_handshake_timeout);
    tls_ = std::make_unique<TlsAcceptor>(
        io, std::move(loaded.context), config.tls_handshake_timeout, [this](TlsStream stream) {
          start_session(std::make_unique<TlsTransport>(std::move(stream)));
        });
  }
}

std::unique_ptr<HttpServer> Server::make_http_server() {
  if (!config_.http_listen) return nullptr;
  HttpSettings settings{.allowed_origins = config_.http_allow_origins,
                        .header_timeout = config_.http_header_timeout,
                        .linger_time = session_settings_.linger_time,
                        .max_connections = config_.max_connections,
                        .max_frame = config_.max_frame};
  HttpHooks hooks{
      .healthy = [this] { return !draining_; },
      .metrics = [this] { return metrics_text(); },
      .refuse_session = [this](std::string_view ip) { return refuse_reason(ip); },
      .start_session = [this](TransportPtr transport) { start_session(std::move(transport)); }};
  const asio::ip::tcp::endpoint endpoint{asio::ip::make_address(config_.http_listen->first),
                                         config_.http_listen->second};
  return std::make_unique<HttpServer>(io_, endpoint, std::move(settings), std::move(hooks));
}

std::optional<asio::ip::tcp::endpoint> Server::http_endpoint() const {
  if (!http_) return std::nullopt;
  return http_->local_endpoint();
}

void Server::start() {
  if (cluster_) {
    cluster_->start();
    spdlog::info("cluster node {}: node timeout {} ms", hub_.node_id(),
                 config_.cluster_node_timeout.count());
  }
  listener_.start();
  start_sweep();
  watch_signals();
  loop_lag_.start();
  const auto endpoint = local_endpoint();
  spdlog::info("listening on {}:{}", endpoint.address().to_string(), endpoint.port());
  if (http_) {
    http_->start();
    const auto http = http_->local_endpoint();
    spdlog::info("HTTP on {}:{} ({}/, /ws, /healthz, /metrics)", http.address().to_string(),
                 http.port(), http_->tls() != nullptr ? "TLS only, https and wss: " : "");
  }
  spdlog::info(
      "limits: max_frame={} max_subs={} max_connections={} outbound_limit={} rate={}/s burst={} "
      "history={} history_bytes={} ping={}ms/{}ms auth={}",
      config_.max_frame, config_.max_subs, config_.max_connections, config_.outbound_limit,
      config_.rate, config_.rate_burst, config_.history, config_.history_bytes,
      config_.ping_interval.count(), config_.ping_timeout.count(),
      config_.token ? "token" : (config_.users_file ? "accounts" : "off"));
  spdlog::info(
      "connections: max={} per_ip={} auth_timeout={}ms", config_.max_connections,
      config_.max_connections_per_ip,
      auth_configured(config_) ? config_.auth_timeout.count() : std::chrono::milliseconds::rep{0});
}

std::string Server::refuse_reason(std::string_view ip) const {
  if (registry_.size() >= config_.max_connections) return "the server is at its connection limit";
  if (config_.max_connections_per_ip != 0 &&
      registry_.count_from(ip) >= config_.max_connections_per_ip) {
    return "too many connections from your address";
  }
  return {};
}

std::string Server::metrics_text() const {
  const std::uint64_t ws = TcpWsTransport::open_count();
  const std::uint64_t wss = WssTransport::open_count();
  // The protocol listener is TLS only or plain only: its sessions are the rest.
  const std::uint64_t sessions = registry_.size();
  const std::uint64_t stream = sessions > ws + wss ? sessions - ws - wss : 0;
  return render_metrics(MetricsSnapshot{
      .hub = &hub_.counters(),
      .dispatch = &dispatcher_.counters(),
      .loop_lag = &loop_lag_.histogram(),
      .tcp_connections = tls_ ? 0 : stream,
      .ws_connections = ws,
      .tls_connections = tls_ ? stream : 0,
      .wss_connections = wss,
      .http_connections = http_ ? http_->open_connections() : 0,
      .http_requests = http_ ? http_->requests() : 0,
      .frames_in = registry_.frames_in,
      .frames_out = registry_.frames_out,
      .subscriptions = hub_.subscription_count(),
      .topics = hub_.topic_count(),
      .history_bytes = hub_.topic_store().bytes(),
      .uptime_seconds = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                       std::chrono::system_clock::now() - started_)
                                                       .count()),
      .draining = draining_});
}

void Server::accept(asio::ip::tcp::socket socket) {
  if (draining_) return;
  // Connections still in their TLS handshake hold slots too.
  const std::size_t handshaking = tls_ ? tls_->pending() : 0;
  if (registry_.size() + handshaking >= config_.max_connections) {
    spdlog::warn("refused a connection: {} open, the limit", registry_.size() + handshaking);
    dispatcher_.counters().count_error(protocol::ErrorCode::server_full);
    refuse(std::move(socket), "the server is at its connection limit");
    return;
  }
  if (config_.max_connections_per_ip != 0) {
    std::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string ip = ec ? "?" : remote.address().to_string();
    const std::size_t from_ip = registry_.count_from(ip) + (tls_ ? tls_->pending_from(ip) : 0);
    if (from_ip >= config_.max_connections_per_ip) {
      spdlog::warn("refused a connection from {}: {} open from that address, the limit", ip,
                   config_.max_connections_per_ip);
      refuse(std::move(socket), "too many connections from your address");
      return;
    }
  }
  if (tls_) {
    tls_->start(std::move(socket));
    return;
  }
  start_session(
      std::make_unique<TcpTransport>(SocketStream<asio::ip::tcp::socket>(std::move(socket))));
}

void Server::start_session(TransportPtr transport) {
  if (draining_) return;
  Session::start(std::make_shared<Session>(std::move(transport), hub_, dispatcher_, registry_,
                                           session_settings_));
}

void Server::refuse(asio::ip::tcp::socket socket, std::string_view why) {
  // Refused before a session exists: tell it why in one non-blocking write, shut our side
  // down, and linger briefly so that a hello already on its way does not turn the close
  // into a reset that destroys the error. Lingering refusals are bounded in number.
  // A TLS client could not read a plaintext error: it is closed before any handshake.
  if (tls_) return;
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
  const auto steps = reload_steps();
  if (steps.empty()) {
    spdlog::info("received SIGHUP: nothing to reload (no users file or certificates configured)");
    return;
  }
  spdlog::info("received SIGHUP: reloading");
  for (const auto& step : steps) step();
}

std::vector<std::function<void()>> Server::reload_steps() {
  std::vector<std::function<void()>> steps;
  if (config_.users_file) steps.emplace_back([this] { reload_users(); });
  if (tls_) steps.emplace_back([this] { reload_tls(); });
  return steps;
}

void Server::reload_tls() {
  // Read and check the files on the worker; only the swap happens on the loop. A pair
  // that does not load leaves the current one in place.
  asio::post(reload_worker_, [this, files = tls_files(config_)] {
    std::optional<LoadedTlsContext> loaded;
    std::string error;
    try {
      loaded = load_tls_context(files);
    } catch (const std::exception& e) {
      error = e.what();
    }
    asio::post(io_, [this, loaded = std::move(loaded), error = std::move(error)] {
      if (!loaded) {
        spdlog::error("TLS reload refused, keeping the current certificate: {}", error);
        return;
      }
      tls_->contexts().replace(loaded->context);
      if (http_ && http_->tls() != nullptr) http_->tls()->contexts().replace(loaded->context);
      spdlog::info("TLS reloaded: new handshakes use {}", loaded->certificate);
    });
  });
}

void Server::reload_users() {
  spdlog::info("received SIGHUP: reloading the users file {}", *config_.users_file);
  auth_workers_.run(
      io_.get_executor(), [path = *config_.users_file] { return load_users_file(path); },
      // The workers are joined before the server goes, so `this` outlives the answer.
      [this](std::variant<std::shared_ptr<const auth::Users>, std::string> loaded) {
        if (auto* reason = std::get_if<std::string>(&loaded)) {
          spdlog::error("users file not reloaded, the old one stays: {}", *reason);
          return;
        }
        apply_users(std::get<std::shared_ptr<const auth::Users>>(std::move(loaded)));
      });
}

void Server::apply_users(std::shared_ptr<const auth::Users> users) {
  if (draining_) return;
  const std::size_t count = users->accounts().size();
  dispatcher_.set_users(std::move(users));
  registry_.for_each([](Session& s) { s.users_reloaded(); });
  spdlog::info("users file reloaded: {} accounts", count);
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
  if (tls_) tls_->stop();
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
  if (http_) http_->close();
  loop_lag_.stop();
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
