#include "parley/common/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace parley::common {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool is_address_literal(const std::string& host) {
  in6_addr probe{};
  return inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &probe) == 1;
}

}  // namespace

std::string Endpoint::text() const {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const char* scheme = ws ? (tls ? "wss://" : "ws://") : (tls ? "tls://" : "");
  return scheme + shown + ":" + std::to_string(port) + (ws ? path : "");
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string_view default_host) {
  Endpoint endpoint;
  text = trim(text);
  if (text.starts_with("tcp://")) {
    text.remove_prefix(6);
  } else if (text.starts_with("tls://")) {
    text.remove_prefix(6);
    endpoint.tls = true;
  } else if (text.starts_with("ws://") || text.starts_with("wss://")) {
    endpoint.ws = true;
    endpoint.tls = text.starts_with("wss://");
    text.remove_prefix(endpoint.tls ? 6 : 5);
    const auto slash = text.find('/');
    endpoint.path = slash == std::string_view::npos ? "/ws" : std::string(text.substr(slash));
    if (slash != std::string_view::npos) text = text.substr(0, slash);
    // A request target of visible ASCII only: it goes into the request line as it is.
    for (char c : endpoint.path) {
      if (c <= ' ' || c > '~') return std::nullopt;
    }
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.empty()) return std::nullopt;
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs its brackets
  }
  if (host.find_first_of(" /,") != std::string_view::npos) return std::nullopt;
  endpoint.host = host.empty() ? std::string(default_host) : std::string(host);
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [ptr, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return std::nullopt;
  }
  endpoint.port = static_cast<unsigned short>(port);
  return endpoint;
}

std::optional<std::vector<Endpoint>> parse_endpoints(std::string_view text,
                                                     std::string_view default_host) {
  std::vector<Endpoint> endpoints;
  while (true) {
    const auto comma = text.find(',');
    auto endpoint = parse_endpoint(text.substr(0, comma), default_host);
    if (!endpoint) return std::nullopt;
    endpoints.push_back(std::move(*endpoint));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return endpoints;
}

std::optional<Endpoint> parse_listen(std::string_view text) {
  if (text.find("://") != std::string_view::npos) return std::nullopt;
  auto endpoint = parse_endpoint(text, "0.0.0.0");
  if (!endpoint) return std::nullopt;
  if (endpoint->host == "localhost") endpoint->host = "127.0.0.1";
  // Only address literals: a name would need a resolver, and which address it picks is
  // better decided by whoever writes the flag.
  if (!is_address_literal(endpoint->host)) return std::nullopt;
  return endpoint;
}

}  // namespace parley::common
