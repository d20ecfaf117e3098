#include "http_connection.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "byte_stream.hpp"
#include "spawn.hpp"
#include "web_page.hpp"
#include "ws_transport.hpp"

namespace parley::server {
namespace {

using protocol::HttpHeader;
using protocol::HttpParse;
using protocol::HttpRequest;

constexpr std::size_t kReadChunk = 4096;
// What a closing connection reads and discards at most while it lingers.
constexpr std::size_t kLingerBytes = std::size_t{1} << 20;

std::string plain(int status, std::string_view reason, std::string_view body,
                  std::initializer_list<HttpHeader> extra = {}) {
  std::vector<HttpHeader> headers{{"Content-Type", "text/plain; charset=utf-8"},
                                  {"Cache-Control", "no-store"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return protocol::build_http_response(status, reason, headers, body);
}

// The response to a refused request: always the connection's last.
std::string refusal(int status, std::string_view reason, std::string_view body,
                    std::initializer_list<HttpHeader> extra = {}) {
  std::vector<HttpHeader> headers{{"Content-Type", "text/plain; charset=utf-8"},
                                  {"Connection", "close"}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return protocol::build_http_response(status, reason, headers, body);
}

// A HEAD answer: the GET answer's head, Content-Length included, without the body.
void strip_body(std::string& response) {
  const auto end = response.find("\r\n\r\n");
  if (end != std::string::npos) response.resize(end + 4);
}

// A request announcing a body that a GET-only server does not read.
bool has_body(const HttpRequest& request) {
  if (request.header("transfer-encoding")) return true;
  const auto length = request.header("content-length");
  return length && *length != "0";
}

}  // namespace

template <class Stream>
HttpConnection<Stream>::HttpConnection(Stream stream, std::string peer_ip,
                                       std::shared_ptr<HttpContext> context)
    : stream_(std::move(stream)),
      context_(std::move(context)),
      deadline_(stream_.get_executor()),
      peer_ip_(std::move(peer_ip)) {
  ++context_->open_connections;
}

template <class Stream>
HttpConnection<Stream>::~HttpConnection() {
  --context_->open_connections;
}

template <class Stream>
void HttpConnection<Stream>::start(const std::shared_ptr<HttpConnection>& connection) {
  spawn_logged(connection->stream_.get_executor(), connection->serve(),
               "HTTP connection from " + connection->peer_ip_, [connection](bool) {
                 connection->deadline_.cancel();
                 if (!connection->upgraded_) connection->stream_.close();
               });
}

template <class Stream>
void HttpConnection<Stream>::arm_deadline(std::chrono::milliseconds after) {
  deadline_.expires_after(after);
  deadline_.async_wait([weak = this->weak_from_this()](const std::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    const auto self = weak.lock();
    if (!self || self->upgraded_) return;
    spdlog::debug("HTTP connection from {} timed out", self->peer_ip_);
    self->stream_.close();  // the coroutine's pending wait ends with an error
  });
}

template <class Stream>
asio::awaitable<std::size_t> HttpConnection<Stream>::receive(std::span<char> buffer,
                                                             std::error_code& ec) {
  while (true) {
    const std::size_t n = stream_.read_some(buffer, ec);
    if (!ec) co_return n;
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return 0;
    if (!stream_.is_open()) {
      ec = asio::error::operation_aborted;
      co_return 0;
    }
    ec = co_await stream_.wait_readable();
    if (ec) co_return 0;
  }
}

template <class Stream>
asio::awaitable<void> HttpConnection<Stream>::serve() {
  std::array<char, kReadChunk> chunk;
  while (true) {
    // One deadline for the whole head: a client trickling bytes does not extend it.
    arm_deadline(context_->settings.header_timeout);
    protocol::HttpHeadParser parser;
    HttpParse status = HttpParse::need_more;
    std::string input = std::move(leftover_);
    leftover_.clear();
    while (true) {
      if (!input.empty()) {
        const auto result = parser.feed(input);
        status = result.status;
        if (status == HttpParse::complete) leftover_ = input.substr(result.used);
        if (status != HttpParse::need_more) break;
      }
      std::error_code ec;
      const std::size_t n = co_await receive(chunk, ec);
      if (ec) co_return;  // the client left, or the deadline closed the connection
      input.assign(chunk.data(), n);
    }
    ++context_->requests;
    Answer reply;
    switch (status) {
      case HttpParse::complete:
        reply = answer(parser.request());
        break;
      case HttpParse::too_large:
        reply = {refusal(431, "Request Header Fields Too Large",
                         "the request head is over 8 KiB or 100 fields\n"),
                 true, false};
        break;
      case HttpParse::bad_version:
        reply = {refusal(505, "HTTP Version Not Supported", "HTTP/1.0 and HTTP/1.1 only\n"), true,
                 false};
        break;
      case HttpParse::bad_request:
      case HttpParse::need_more:
        reply = {refusal(400, "Bad Request", "malformed request head\n"), true, false};
        break;
    }
    arm_deadline(context_->settings.header_timeout);  // the response must be taken in time too
    if (!co_await send(reply.response)) co_return;
    if (reply.upgrade) {
      deadline_.cancel();
      upgraded_ = true;
      spdlog::debug("HTTP connection from {} upgraded to WebSocket", peer_ip_);
      context_->hooks.start_session(std::make_unique<WsTransport<Stream>>(
          std::move(stream_), context_->settings.max_frame, std::move(leftover_)));
      co_return;
    }
    if (reply.close) {
      co_await linger();
      co_return;
    }
  }
}

template <class Stream>
typename HttpConnection<Stream>::Answer HttpConnection<Stream>::answer(const HttpRequest& request) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/ws") return upgrade(request);

  const bool known = path == "/" || path == "/healthz" || path == "/metrics";
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    // The body of, say, a POST is not read: answer and close.
    return {refusal(405, "Method Not Allowed", "GET or HEAD only\n", {{"Allow", "GET, HEAD"}}),
            true, false};
  }
  if (has_body(request)) {
    return {refusal(400, "Bad Request", "a GET request has no body here\n"), true, false};
  }
  const bool keep = protocol::keep_alive(request);
  const std::initializer_list<HttpHeader> connection = {{"Connection", "close"}};
  const std::initializer_list<HttpHeader> none = {};
  Answer reply;
  reply.close = !keep;
  if (!known) {
    reply.response = plain(404, "Not Found", "no such page\n", keep ? none : connection);
  } else if (path == "/") {
    std::vector<HttpHeader> headers{{"Content-Type", "text/html; charset=utf-8"},
                                    {"Cache-Control", "no-cache"},
                                    {"X-Content-Type-Options", "nosniff"}};
    if (!keep) headers.push_back({"Connection", "close"});
    reply.response = protocol::build_http_response(200, "OK", headers, web_page());
  } else if (path == "/healthz") {
    reply.response = context_->hooks.healthy() ? plain(200, "OK", "ok\n", keep ? none : connection)
                                               : plain(503, "Service Unavailable", "draining\n",
                                                       keep ? none : connection);
  } else {
    std::vector<HttpHeader> headers{{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"},
                                    {"Cache-Control", "no-store"}};
    if (!keep) headers.push_back({"Connection", "close"});
    reply.response = protocol::build_http_response(200, "OK", headers, context_->hooks.metrics());
  }
  if (head) strip_body(reply.response);
  return reply;
}

template <class Stream>
typename HttpConnection<Stream>::Answer HttpConnection<Stream>::upgrade(
    const HttpRequest& request) {
  std::vector<std::string> same_origin;
  std::span<const std::string> allowed = context_->settings.allowed_origins;
  if (allowed.empty()) {
    allowed = context_->default_origins;
    if (context_->any_interface) {
      // Listening everywhere (a container): the address the browser used is the page's.
      if (const auto host = request.header("host")) {
        same_origin = context_->default_origins;
        same_origin.push_back("http://" + std::string(*host));
        same_origin.push_back("https://" + std::string(*host));
        allowed = same_origin;
      }
    }
  }
  protocol::WsUpgrade checked = protocol::check_websocket_upgrade(request, allowed);
  if (checked.status != 101) {
    spdlog::debug("refused a WebSocket upgrade from {}: HTTP {}", peer_ip_, checked.status);
    return {std::move(checked.response), true, false};
  }
  if (!context_->hooks.healthy()) {
    return {refusal(503, "Service Unavailable", "the server is shutting down\n"), true, false};
  }
  if (const std::string why = context_->hooks.refuse_session(peer_ip_); !why.empty()) {
    spdlog::warn("refused a WebSocket session from {}: {}", peer_ip_, why);
    return {refusal(503, "Service Unavailable", why + "\n"), true, false};
  }
  return {std::move(checked.response), false, true};
}

template <class Stream>
asio::awaitable<bool> HttpConnection<Stream>::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    // iovec is not const-qualified; the stream only reads these bytes.
    const iovec buffer{const_cast<char*>(bytes.data() + sent), bytes.size() - sent};
    std::error_code ec;
    sent += stream_.writev(&buffer, 1, ec);
    if (!ec) continue;
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
    if (!stream_.is_open() || co_await stream_.wait_writable()) co_return false;
  }
  co_return true;
}

template <class Stream>
asio::awaitable<void> HttpConnection<Stream>::linger() {
  if (!stream_.is_open()) co_return;
  stream_.shutdown_send();
  arm_deadline(context_->settings.linger_time);
  std::array<char, kReadChunk> sink;
  std::size_t discarded = 0;
  while (discarded <= kLingerBytes) {
    std::error_code ec;
    discarded += co_await receive(sink, ec);
    if (ec) break;
  }
}

template class HttpConnection<SocketStream<asio::ip::tcp::socket>>;
template class HttpConnection<TlsStream>;

}  // namespace parley::server
