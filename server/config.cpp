#include "config.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <vector>

#include "parley/common/duration.hpp"
#include "parley/common/endpoint.hpp"
#include "parley/common/size.hpp"
#include "parley/protocol/version.hpp"

namespace parley::server {

// The grammars live in parley::common, shared with the client's flags.
std::optional<Duration> parse_duration(std::string_view text) {
  return common::parse_duration(text);
}

std::optional<std::size_t> parse_size(std::string_view text) {
  return common::parse_size(text);
}

std::optional<std::pair<std::string, unsigned short>> parse_listen(std::string_view text) {
  auto endpoint = common::parse_listen(text);
  if (!endpoint) return std::nullopt;
  return std::pair{std::move(endpoint->host), endpoint->port};
}

std::variant<ServerConfig, int> parse_config(int argc, char** argv) {
  ServerConfig config;
  CLI::App app{"parley-server: chat rooms and topic pub/sub over JSON lines (protocol v1)"};
  app.set_version_flag("--version", std::string(protocol::kServerSoftware));
  app.get_formatter()->column_width(34);

  std::string listen = config.listen_host + ":" + std::to_string(config.listen_port);
  std::string max_frame = "65536", outbound_limit = "8MiB", history_bytes = "64MiB";
  std::string ping_interval = "30s", ping_timeout = "30s", drain_timeout = "5s";
  std::string auth_timeout = "10s", tls_handshake_timeout = "10s";
  std::string token;
  std::string http_listen = "127.0.0.1:7880";
  std::string http_header_timeout = "10s";
  std::string users_file;

  app.add_option("--listen", listen, "Address to listen on, HOST:PORT (port 0 picks a free one)")
      ->envname("PARLEY_LISTEN")
      ->capture_default_str();
  app.add_option("--max-frame", max_frame,
                 "Largest frame in bytes, line end excluded (65536, 64KiB)")
      ->envname("PARLEY_MAX_FRAME")
      ->capture_default_str();
  app.add_option("--max-subs", config.max_subs, "Subscriptions plus joins per session")
      ->envname("PARLEY_MAX_SUBS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-connections", config.max_connections,
                 "Open connections; more get server_full")
      ->envname("PARLEY_MAX_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-connections-per-ip", config.max_connections_per_ip,
                 "Open connections from one address; more get server_full; 0 = no limit")
      ->envname("PARLEY_MAX_CONNECTIONS_PER_IP")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--auth-timeout", auth_timeout,
                 "With a token or accounts, time to complete hello before bye auth_timeout")
      ->envname("PARLEY_AUTH_TIMEOUT")
      ->capture_default_str();
  app.add_option("--ping-interval", ping_interval,
                 "Silence from a client before the server pings it (250ms, 30s, 2m)")
      ->envname("PARLEY_PING_INTERVAL")
      ->capture_default_str();
  app.add_option("--ping-timeout", ping_timeout,
                 "Time a pinged client has to say anything before bye timeout")
      ->envname("PARLEY_PING_TIMEOUT")
      ->capture_default_str();
  app.add_option("--outbound-limit", outbound_limit,
                 "Unsent output per connection before it is cut off as a slow consumer (8MiB)")
      ->envname("PARLEY_OUTBOUND_LIMIT")
      ->capture_default_str();
  app.add_option("--rate", config.rate,
                 "Publishes (pub and tell) per second per session; 0 = unlimited")
      ->envname("PARLEY_RATE")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--rate-burst", config.rate_burst,
                 "Publishes a session may send at once; 0 = one second's worth")
      ->envname("PARLEY_RATE_BURST")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--history", config.history, "Messages kept per topic; 0 = off")
      ->envname("PARLEY_HISTORY")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 24))
      ->capture_default_str();
  app.add_option(
         "--history-bytes", history_bytes,
         "Cap on all history together; least recently used topics are evicted first (64MiB)")
      ->envname("PARLEY_HISTORY_BYTES")
      ->capture_default_str();
  app.add_option("--token", token,
                 "Shared secret every hello must carry; empty = no authentication")
      ->envname("PARLEY_TOKEN");
  app.add_option("--tls-cert", config.tls_cert,
                 "PEM certificate chain; with --tls-key the listener speaks TLS only")
      ->envname("PARLEY_TLS_CERT");
  app.add_option("--tls-key", config.tls_key, "PEM private key of --tls-cert")
      ->envname("PARLEY_TLS_KEY");
  app.add_option("--tls-client-ca", config.tls_client_ca,
                 "PEM CA bundle: clients must present a certificate it signed (mutual TLS)")
      ->envname("PARLEY_TLS_CLIENT_CA");
  app.add_option("--tls-handshake-timeout", tls_handshake_timeout,
                 "Time a new connection has to complete the TLS handshake")
      ->envname("PARLEY_TLS_HANDSHAKE_TIMEOUT")
      ->capture_default_str();
  app.add_option("--users", users_file,
                 "Accounts file (JSON, hashes from `parley passwd`); reloaded on SIGHUP")
      ->envname("PARLEY_USERS");
  app.add_option("--drain-timeout", drain_timeout,
                 "On SIGTERM/SIGINT, time to flush sessions before exit")
      ->envname("PARLEY_DRAIN_TIMEOUT")
      ->capture_default_str();
  app.add_option("--log-level", config.log_level,
                 "trace, debug, info, warn, error, critical or off")
      ->envname("PARLEY_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--log-format", config.log_format, "text or json (one object per line)")
      ->envname("PARLEY_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  app.add_option("--http-listen", http_listen,
                 "HTTP listener for the web page, /ws, /healthz and /metrics, HOST:PORT or off")
      ->envname("PARLEY_HTTP_LISTEN")
      ->capture_default_str();
  app.add_option("--http-allow-origin", config.http_allow_origins,
                 "Origin a WebSocket upgrade may come from, e.g. https://chat.example.org "
                 "(repeatable; default: the HTTP listener's own host)")
      ->envname("PARLEY_HTTP_ALLOW_ORIGIN")
      ->delimiter(',');
  app.add_option("--http-header-timeout", http_header_timeout,
                 "Time an HTTP client has to send a request head before it is disconnected")
      ->envname("PARLEY_HTTP_HEADER_TIMEOUT")
      ->capture_default_str();

  std::string cluster;
  std::string cluster_node_timeout = "10s";
  app.add_option("--cluster", cluster,
                 "Run as one node of a cluster sharing this Redis: redis://HOST:PORT[/DB] "
                 "(password from the URL or PARLEY_CLUSTER_PASSWORD)")
      ->envname("PARLEY_CLUSTER");
  app.add_option("--cluster-node-timeout", cluster_node_timeout,
                 "A node silent this long is dead: its names and members are released")
      ->envname("PARLEY_CLUSTER_NODE_TIMEOUT")
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "parley-server: %s (see --help)\n", e.what());
    return 2;
  }

  const auto refuse = [](const char* flag, const std::string& value, const char* expected) {
    std::fprintf(stderr, "parley-server: %s: '%s' is not %s\n", flag, value.c_str(), expected);
    return 2;
  };
  const auto endpoint = parse_listen(listen);
  if (!endpoint)
    return refuse("--listen", listen, "IP:PORT (for example 127.0.0.1:7878 or [::1]:7878)");
  config.listen_host = endpoint->first;
  config.listen_port = endpoint->second;

  if (http_listen == "off") {
    config.http_listen.reset();
  } else {
    const auto http_endpoint = parse_listen(http_listen);
    if (!http_endpoint)
      return refuse("--http-listen", http_listen, "IP:PORT or off (for example 127.0.0.1:7880)");
    config.http_listen = *http_endpoint;
  }
  for (const std::string& origin : config.http_allow_origins) {
    if (!origin.starts_with("http://") && !origin.starts_with("https://"))
      return refuse("--http-allow-origin", origin, "an origin like https://host[:port]");
  }

  struct SizeFlag {
    const char* flag;
    const std::string& text;
    std::size_t& target;
    std::size_t min;
  };
  for (const SizeFlag& f :
       {SizeFlag{"--max-frame", max_frame, config.max_frame, 64},
        SizeFlag{"--outbound-limit", outbound_limit, config.outbound_limit, 1024},
        SizeFlag{"--history-bytes", history_bytes, config.history_bytes, 0}}) {
    const auto size = parse_size(f.text);
    if (!size || *size < f.min)
      return refuse(f.flag, f.text, "a size of at least the minimum (64KiB, 8MiB, 65536)");
    f.target = *size;
  }
  struct DurationFlag {
    const char* flag;
    const std::string& text;
    Duration& target;
  };
  for (const DurationFlag& f :
       {DurationFlag{"--ping-interval", ping_interval, config.ping_interval},
        DurationFlag{"--ping-timeout", ping_timeout, config.ping_timeout},
        DurationFlag{"--drain-timeout", drain_timeout, config.drain_timeout},
        DurationFlag{"--auth-timeout", auth_timeout, config.auth_timeout},
        DurationFlag{"--tls-handshake-timeout", tls_handshake_timeout,
                     config.tls_handshake_timeout},
        DurationFlag{"--http-header-timeout", http_header_timeout, config.http_header_timeout},
        DurationFlag{"--cluster-node-timeout", cluster_node_timeout,
                     config.cluster_node_timeout}}) {
    const auto duration = parse_duration(f.text);
    if (!duration || duration->count() <= 0)
      return refuse(f.flag, f.text, "a positive duration (250ms, 30s, 2m)");
    f.target = *duration;
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    std::fprintf(stderr, "parley-server: --tls-cert and --tls-key go together (see --help)\n");
    return 2;
  }
  if (!config.tls_client_ca.empty() && config.tls_cert.empty()) {
    std::fprintf(stderr, "parley-server: --tls-client-ca needs --tls-cert and --tls-key\n");
    return 2;
  }
  if (!token.empty()) config.token = token;
  if (!users_file.empty()) config.users_file = users_file;
  if (config.token && config.users_file) {
    std::fprintf(stderr, "parley-server: --token and --users cannot be used together\n");
    return 2;
  }
  if (!cluster.empty()) {
    if (!cluster.starts_with("redis://"))
      return refuse("--cluster", cluster, "a URL redis://HOST:PORT[/DB]");
    config.cluster = cluster;
  }
  if (config.rate_burst == 0) config.rate_burst = config.rate;
  if (config.rate > 0 && config.rate_burst < 1)
    return refuse("--rate-burst", std::to_string(config.rate_burst), "at least 1");
  return config;
}

}  // namespace parley::server
