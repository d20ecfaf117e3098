#pragma once
// The server's settings: parsed from the command line, each flag also read from a
// PARLEY_* environment variable so that a container needs no shell.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace parley::server {

using Duration = std::chrono::milliseconds;

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 7878;
  std::size_t max_frame = 65536;
  std::size_t max_subs = 1000;
  std::size_t max_connections = 50000;
  std::size_t max_connections_per_ip = 100;          // 0 = no limit
  Duration auth_timeout = std::chrono::seconds(10);  // only while auth is configured
  Duration ping_interval = std::chrono::seconds(30);
  Duration ping_timeout = std::chrono::seconds(30);
  std::size_t outbound_limit = std::size_t{8} << 20;
  double rate = 0;        // publishes per second per session; 0 = unlimited
  double rate_burst = 0;  // 0 = one second's worth
  std::size_t history = 100;
  std::size_t history_bytes = std::size_t{64} << 20;
  std::optional<std::string> token;
  std::optional<std::string> users_file;  // accounts (never together with a token)
  Duration drain_timeout = std::chrono::seconds(5);
  // TLS: a certificate and key (both or neither) make the TCP listener TLS-only; a client
  // CA also requires a client certificate it signed. Empty = off.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  Duration tls_handshake_timeout = std::chrono::seconds(10);
  std::string log_level = "info";
  std::string log_format = "text";
  // The HTTP listener (web page, /ws, /healthz, /metrics); none when `off`.
  std::optional<std::pair<std::string, unsigned short>> http_listen =
      std::pair<std::string, unsigned short>{"127.0.0.1", 7880};
  // Origins a WebSocket upgrade may come from; empty = the HTTP listener's own host.
  std::vector<std::string> http_allow_origins;
  Duration http_header_timeout = std::chrono::seconds(10);  // to send a request head
  // Several nodes as one server on a shared Redis: redis://HOST:PORT[/DB]. Empty: this
  // process alone, in memory. The password comes from the URL or PARLEY_CLUSTER_PASSWORD.
  std::optional<std::string> cluster;
  Duration cluster_node_timeout = std::chrono::seconds(10);
};

// Parses argv. Either a config, or the exit code to leave with (0 after --help/--version,
// 2 after a bad flag, with its one-line reason already printed on stderr).
std::variant<ServerConfig, int> parse_config(int argc, char** argv);

// "250ms", "30s", "2m", "1h"; a plain number is seconds. Empty on a bad value.
std::optional<Duration> parse_duration(std::string_view text);
// "65536", "64KiB", "8MiB", "1GiB", "64KB", "8MB". Empty on a bad value.
std::optional<std::size_t> parse_size(std::string_view text);
// "HOST:PORT", "[v6]:PORT" or ":PORT". Empty on a bad value.
std::optional<std::pair<std::string, unsigned short>> parse_listen(std::string_view text);

}  // namespace parley::server
