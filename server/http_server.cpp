#include "http_server.hpp"

#include <spdlog/spdlog.h>

#include "http_connection.hpp"

namespace parley::server {
namespace {

// The origins a page served by this listener has: its address as bound, with
// "localhost" for a loopback address, over http and https.
std::vector<std::string> own_origins(const asio::ip::tcp::endpoint& endpoint) {
  const auto& address = endpoint.address();
  const std::string port = std::to_string(endpoint.port());
  std::vector<std::string> hosts;
  hosts.push_back(address.is_v6() ? "[" + address.to_string() + "]" : address.to_string());
  if (address.is_loopback()) hosts.emplace_back("localhost");
  std::vector<std::string> origins;
  for (const auto& host : hosts) {
    std::string authority = host;
    authority += ':';
    authority += port;
    origins.push_back("http://" + authority);
    origins.push_back("https://" + authority);
  }
  return origins;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                       HttpSettings settings, HttpHooks hooks)
    : context_(std::make_shared<HttpContext>()),
      listener_(io, endpoint, [this](asio::ip::tcp::socket socket) { accept(std::move(socket)); }) {
  context_->settings = std::move(settings);
  context_->hooks = std::move(hooks);
  const auto bound = listener_.local_endpoint();
  context_->default_origins = own_origins(bound);
  context_->any_interface = bound.address().is_unspecified();
}

void HttpServer::accept(asio::ip::tcp::socket socket) {
  if (context_->open_connections >= context_->settings.max_connections) {
    // No coroutine and no lingering for a connection over the limit: a best-effort 503.
    static const std::string refusal =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(refusal), ignored);
    spdlog::warn("refused an HTTP connection: {} open, the limit", context_->open_connections);
    return;
  }
  HttpConnection::start(std::make_shared<HttpConnection>(std::move(socket), context_));
}

}  // namespace parley::server
