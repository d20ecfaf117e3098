#pragma once
// Server addresses: "HOST:PORT", "[v6]:PORT" or ":PORT", with an optional "tcp://" or
// "tls://" scheme, or a WebSocket URL "ws://HOST:PORT/PATH" or "wss://HOST:PORT/PATH"
// (the path defaults to "/ws"); a list is comma-separated. One grammar for the server's --listen
// and the client's --server.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::common {

struct Endpoint {
  std::string host;  // a name or an address literal, without brackets
  unsigned short port = 0;
  bool tls = false;    // written with "tls://" or "wss://"
  bool ws = false;     // written with "ws://" or "wss://"
  std::string path{};  // the WebSocket request path, when ws

  // Written back the way it parses: "host:port", "[::1]:port", "tls://host:port",
  // "wss://host:port/ws".
  std::string text() const;
  bool operator==(const Endpoint&) const = default;
};

// One address; `default_host` stands in for an empty host (":7878"). Empty when malformed.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string_view default_host);

// Comma-separated addresses ("a:1,b:2"), spaces around commas allowed. Empty when any is
// malformed or the list is empty.
std::optional<std::vector<Endpoint>> parse_endpoints(std::string_view text,
                                                     std::string_view default_host);

// The server's listen address: an address literal only (a name would need a resolver),
// "localhost" meaning 127.0.0.1, an empty host 0.0.0.0, no scheme.
std::optional<Endpoint> parse_listen(std::string_view text);

inline constexpr std::string_view kEndpointRule =
    "HOST:PORT, [IPv6]:PORT or :PORT with a port from 0 to 65535 (tls://, ws://HOST:PORT/ws and "
    "wss:// in front for TLS and WebSocket)";

}  // namespace parley::common
