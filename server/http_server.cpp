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

// "address:port" (as a stream's remote_address() says) to the address alone.
std::string ip_of(std::string address) {
  const auto colon = address.rfind(':');
  if (colon != std::string::npos) address.resize(colon);
  return address;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                       HttpSettings settings, HttpHooks hooks)
    : io_(io),
      context_(std::make_shared<HttpContext>()),
      listener_(io, endpoint, [this](asio::ip::tcp::socket socket) { accept(std::move(socket)); }) {
  context_->settings = std::move(settings);
  context_->hooks = std::move(hooks);
  const auto bound = listener_.local_endpoint();
  context_->default_origins = own_origins(bound);
  context_->any_interface = bound.address().is_unspecified();
}

void HttpServer::enable_tls(TlsContextPtr context, std::chrono::milliseconds timeout) {
  tls_ = std::make_unique<TlsAcceptor>(io_, std::move(context), timeout, [this](TlsStream stream) {
    std::string address = stream.remote_address();
    auto connection = std::make_shared<HttpConnection<TlsStream>>(
        std::move(stream), ip_of(std::move(address)), context_);
    HttpConnection<TlsStream>::start(connection);
  });
}

void HttpServer::close() {
  listener_.close();
  if (tls_) tls_->stop();
}

void HttpServer::accept(asio::ip::tcp::socket socket) {
  // Connections still in their TLS handshake hold slots too.
  const std::size_t open = context_->open_connections + (tls_ ? tls_->pending() : 0);
  if (open >= context_->settings.max_connections) {
    spdlog::warn("refused an HTTP connection: {} open, the limit", open);
    // A TLS client could not read a plaintext answer: it is only closed.
    if (tls_) return;
    // No coroutine and no lingering for a connection over the limit: a best-effort 503.
    static const std::string refusal =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    std::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(refusal), ignored);
    return;
  }
  if (tls_) {
    tls_->start(std::move(socket));
    return;
  }
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  std::string ip = ec ? "?" : remote.address().to_string();
  HttpConnection<SocketStream<asio::ip::tcp::socket>>::start(
      std::make_shared<HttpConnection<SocketStream<asio::ip::tcp::socket>>>(
          SocketStream<asio::ip::tcp::socket>(std::move(socket)), std::move(ip), context_));
}

}  // namespace parley::server
