#include "connection.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "parley/protocol/websocket.hpp"
#include "tls_context.hpp"

namespace parley::client {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr std::size_t kChunk = std::size_t{64} << 10;  // each read from the stream
// The largest WebSocket message taken from a server (as the load generator's read buffer).
constexpr std::size_t kMaxWsMessage = std::size_t{16} << 20;
constexpr std::size_t kMaxUpgradeHead = 16384;

// Writes are never cancelled half-way: a deadline racing a read must not cut a pong (or
// a TLS record) in two, which would corrupt the stream for every later frame.
auto uncancelled() {
  return asio::bind_cancellation_slot(asio::cancellation_slot(), as_tuple(use_awaitable));
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The value of header `name` (lower case) in an HTTP response head, trimmed; empty if absent.
std::string header_value(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    const std::size_t start = at + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line =
        head.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && lower(line.substr(0, colon)) == name) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return std::string(value);
    }
    at = end;
  }
  return {};
}

}  // namespace

// The WebSocket layer: the server's frames decoded into '\n'-ended frame text, and a pool
// of random masks for ours.
struct Connection::WebSocket {
  WebSocket() : reader(kMaxWsMessage, protocol::WsFramesFrom::server) {}

  std::array<unsigned char, 4> next_mask() {
    // RFC 6455 §5.3 wants masks from a strong source; one RAND_bytes call per 256 masks
    // keeps that off the load generator's profile.
    if (mask_at == masks.size()) {
      if (RAND_bytes(masks.data(), static_cast<int>(masks.size())) != 1)
        throw std::runtime_error("no random bytes for WebSocket masks");
      mask_at = 0;
    }
    std::array<unsigned char, 4> mask{};
    std::memcpy(mask.data(), masks.data() + mask_at, mask.size());
    mask_at += mask.size();
    return mask;
  }

  protocol::WsReader reader;
  std::string text;  // decoded frames, each ended by '\n', from text_at on not handed out
  std::size_t text_at = 0;
  std::string control;  // control frames to send (pong, close)
  bool closed = false;  // a close frame came (or the server broke the protocol)
  std::array<unsigned char, 1024> masks{};
  std::size_t mask_at = masks.size();
};

bool is_server_ping(std::string_view line) {
  if (line.find("\"ping\"") == std::string_view::npos) return false;  // the common case, cheaply
  const auto frame = nlohmann::json::parse(line, nullptr, false);
  return frame.is_object() && frame.value("op", nlohmann::json()) == "ping" &&
         !frame.contains("id");
}

Connection::Connection(const asio::any_io_executor& executor) : socket_(executor) {}

Connection::~Connection() = default;

const char* Connection::transport() const {
  if (ws_) return tls_ ? "wss" : "ws";
  return tls_ ? "tls" : "tcp";
}

asio::awaitable<std::string> Connection::connect(const Endpoint& endpoint,
                                                 std::chrono::milliseconds timeout,
                                                 const TlsSetup& tls) {
  auto executor = co_await asio::this_coro::executor;
  close();
  peer_ = endpoint;
  tls_.reset();
  ws_.reset();
  buffer_.clear();
  outbox_.clear();
  last_error_.clear();
  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer deadline(executor, timeout);
  const std::string port = std::to_string(endpoint.port);
  // Resolving counts against the same deadline: a dead DNS server must not hang us.
  auto resolved = co_await (resolver.async_resolve(endpoint.host, port, as_tuple(use_awaitable)) ||
                            deadline.async_wait(as_tuple(use_awaitable)));
  if (resolved.index() == 1) {
    co_return "cannot resolve " + endpoint.host + " within " + std::to_string(timeout.count()) +
        " ms";
  }
  auto [resolve_error, results] = std::get<0>(std::move(resolved));
  if (resolve_error) co_return "cannot resolve " + endpoint.host + ": " + resolve_error.message();
  auto outcome = co_await (asio::async_connect(socket_, results, as_tuple(use_awaitable)) ||
                           deadline.async_wait(as_tuple(use_awaitable)));
  if (outcome.index() == 1) {
    close();
    co_return "no answer from " + endpoint.text() + " within " + std::to_string(timeout.count()) +
        " ms";
  }
  const auto& [ec, ignored] = std::get<0>(outcome);
  if (ec) co_return "cannot connect to " + endpoint.text() + ": " + ec.message();
  std::error_code option_error;
  socket_.set_option(asio::ip::tcp::no_delay(true), option_error);
  if (endpoint.tls) {
    std::string failure = co_await tls_handshake(endpoint, tls, deadline);
    if (!failure.empty()) {
      close();
      co_return failure;
    }
  }
  if (endpoint.ws) {
    std::string failure = co_await ws_upgrade(endpoint, deadline);
    if (!failure.empty()) {
      close();
      co_return failure;
    }
  }
  co_return std::string();
}

asio::awaitable<std::string> Connection::tls_handshake(const Endpoint& endpoint,
                                                       const TlsSetup& tls,
                                                       asio::steady_timer& deadline) {
  if (!tls.context) co_return "cannot connect to " + endpoint.text() + ": TLS is not set up";
  tls_ = std::make_unique<TlsStream>(socket_, *tls.context);
  client_cert_ = tls.client_cert;
  received_ = false;
  prepare_tls(tls_->native_handle(), endpoint.host, tls.insecure);
  auto outcome =
      co_await (tls_->async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable)) ||
                deadline.async_wait(as_tuple(use_awaitable)));
  if (outcome.index() == 1)
    co_return "TLS with " + endpoint.text() +
        " failed: no handshake in time (does the server speak TLS on this port? see also "
        "--timeout)";
  const auto [ec] = std::get<0>(outcome);
  if (ec) co_return describe_tls_failure(tls_->native_handle(), ec, endpoint);
  co_return std::string();
}

asio::awaitable<std::string> Connection::ws_upgrade(const Endpoint& endpoint,
                                                    asio::steady_timer& deadline) {
  const std::string where = "WebSocket upgrade at " + endpoint.text() + " failed: ";
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
    co_return where + "no random bytes for the key";
  const std::string key = base64(nonce.data(), nonce.size());
  const std::string host =
      endpoint.host.find(':') != std::string::npos ? "[" + endpoint.host + "]" : endpoint.host;
  const std::string request = "GET " + endpoint.path + " HTTP/1.1\r\nHost: " + host + ":" +
                              std::to_string(endpoint.port) +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: " +
                              key +
                              "\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: parley.v1\r\n\r\n";
  const std::error_code write_error = co_await stream_write(request);
  if (write_error) co_return where + write_error.message();
  std::string head;
  std::size_t end = std::string::npos;
  std::string chunk(kChunk, '\0');
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > kMaxUpgradeHead) co_return where + "the response head is too long";
    auto outcome = co_await (stream_read_some(asio::buffer(chunk)) ||
                             deadline.async_wait(as_tuple(use_awaitable)));
    if (outcome.index() == 1) co_return where + "no answer in time (see --timeout)";
    const auto [ec, n] = std::get<0>(outcome);
    if (ec) co_return where + "the server closed the connection (is this its HTTP listener?)";
    head.append(chunk.data(), n);
  }
  const std::string status = head.substr(0, head.find("\r\n"));
  if (!status.starts_with("HTTP/1.1 101")) {
    std::string text = where + "the server answered '" + status + "'";
    if (status.find(" 404") != std::string::npos)
      text += " (is " + endpoint.path + " its WebSocket path? The server's is /ws)";
    if (status.find(" 403") != std::string::npos)
      text += " (the server's origin allow-list refused the upgrade)";
    co_return text;
  }
  if (header_value(head, "sec-websocket-accept") != protocol::websocket_accept(key))
    co_return where + "the server's Sec-WebSocket-Accept does not match the key sent";
  ws_ = std::make_unique<WebSocket>();
  const std::string rest = head.substr(end + 4);
  ws_decode(rest);
  if (!ws_->control.empty()) {
    std::string control = std::move(ws_->control);
    ws_->control.clear();
    co_await write_wire(control);
  }
  co_return std::string();
}

void Connection::ws_decode(std::string_view bytes) {
  WebSocket& ws = *ws_;
  ws.reader.feed(bytes);
  while (auto event = ws.reader.next()) {
    switch (event->kind) {
      case protocol::WsEvent::Kind::text:
        ws.text.append(event->payload);
        ws.text.push_back('\n');
        break;
      case protocol::WsEvent::Kind::ping:
        protocol::append_ws_masked_frame(ws.control, protocol::WsOpcode::pong, event->payload,
                                         ws.next_mask());
        break;
      case protocol::WsEvent::Kind::pong:
        break;
      case protocol::WsEvent::Kind::close:
      case protocol::WsEvent::Kind::error: {
        // Answer the close (or close for the server's broken frame) and read no more.
        ws.closed = true;
        const std::uint16_t code =
            event->kind == protocol::WsEvent::Kind::close &&
                    event->code != protocol::ws_close::no_status
                ? event->code
                : (event->kind == protocol::WsEvent::Kind::error ? event->code
                                                                 : protocol::ws_close::normal);
        if (event->kind == protocol::WsEvent::Kind::error)
          last_error_ = "the server broke the WebSocket protocol: " + std::string(event->payload);
        std::string payload;
        payload.push_back(static_cast<char>(code >> 8U));
        payload.push_back(static_cast<char>(code & 0xFFU));
        protocol::append_ws_masked_frame(ws.control, protocol::WsOpcode::close, payload,
                                         ws.next_mask());
        break;
      }
    }
  }
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> Connection::stream_read_some(
    asio::mutable_buffer into) {
  if (!tls_) co_return co_await socket_.async_read_some(into, as_tuple(use_awaitable));
  auto result = co_await tls_->async_read_some(into, as_tuple(use_awaitable));
  const auto& [ec, n] = result;
  if (!ec) {
    received_ = true;
  } else if (last_error_.empty() && ec != asio::error::operation_aborted) {
    // A refusal after the handshake: TLS 1.3 servers check client certificates then, and
    // may close without their alert reaching us.
    if (ec.category() == asio::error::get_ssl_category()) {
      last_error_ = describe_tls_failure(tls_->native_handle(), ec, peer_);
    } else if (!received_) {
      last_error_ = "TLS with " + peer_.text() +
                    ": the server closed the connection right after the handshake" +
                    (client_cert_ ? " (does it trust the CA that signed --tls-cert?)"
                                  : " (a server that asks for a client certificate needs "
                                    "--tls-cert FILE and --tls-key FILE)");
    }
  }
  co_return result;
}

asio::awaitable<std::error_code> Connection::stream_write(std::string_view bytes) {
  const auto buffer = asio::buffer(bytes.data(), bytes.size());
  if (!tls_) {
    auto [ec, n] = co_await asio::async_write(socket_, buffer, uncancelled());
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(*tls_, buffer, uncancelled());
  co_return ec;
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> Connection::read_some(
    asio::mutable_buffer into) {
  // Plain TCP straight from the socket: the load generator's subscribers read here.
  if (!ws_ && !tls_) co_return co_await socket_.async_read_some(into, as_tuple(use_awaitable));
  if (!ws_) co_return co_await stream_read_some(into);
  while (ws_->text_at == ws_->text.size()) {
    ws_->text.clear();
    ws_->text_at = 0;
    if (ws_->closed) co_return std::tuple{std::error_code(asio::error::eof), std::size_t{0}};
    if (chunk_.empty()) chunk_.resize(kChunk);
    auto [ec, n] = co_await stream_read_some(asio::buffer(chunk_.data(), chunk_.size()));
    if (ec) co_return std::tuple{ec, std::size_t{0}};
    ws_decode(std::string_view(chunk_.data(), n));
    if (!ws_->control.empty()) {
      std::string control = std::move(ws_->control);
      ws_->control.clear();
      if (writing_) {
        outbox_ += control;
      } else {
        co_await write_wire(control);
      }
    }
  }
  const std::size_t n = std::min(into.size(), ws_->text.size() - ws_->text_at);
  std::memcpy(into.data(), ws_->text.data() + ws_->text_at, n);
  ws_->text_at += n;
  co_return std::tuple{std::error_code(), n};
}

void Connection::encode(std::string_view frames, std::string& out) {
  if (!ws_) {
    out.append(frames);
    return;
  }
  while (!frames.empty()) {
    const std::size_t newline = frames.find('\n');
    std::string_view frame = frames.substr(0, newline);
    frames.remove_prefix(newline == std::string_view::npos ? frames.size() : newline + 1);
    if (!frame.empty() && frame.back() == '\r') frame.remove_suffix(1);
    if (frame.empty()) continue;
    protocol::append_ws_masked_frame(out, protocol::WsOpcode::text, frame, ws_->next_mask());
  }
}

asio::awaitable<std::error_code> Connection::write(std::string_view frames) {
  if (!socket_.is_open()) co_return std::error_code(asio::error::not_connected);
  if (writing_) {
    encode(frames, outbox_);
    co_return std::error_code();
  }
  if (!ws_) co_return co_await write_wire(frames);  // plain and TLS: straight from `frames`
  std::string wire = std::move(wire_);              // the scratch's capacity, reused
  wire.clear();
  encode(frames, wire);
  const std::error_code ec = co_await write_wire(wire);
  wire_ = std::move(wire);
  co_return ec;
}

asio::awaitable<std::error_code> Connection::write_wire(std::string_view wire) {
  writing_ = true;
  std::error_code ec = co_await stream_write(wire);
  std::string batch;
  while (!ec && !outbox_.empty()) {
    batch.swap(outbox_);
    outbox_.clear();
    ec = co_await stream_write(batch);
    batch.clear();
  }
  writing_ = false;
  if (ec) outbox_.clear();
  co_return ec;
}

asio::awaitable<bool> Connection::send(std::string_view frame) {
  if (!socket_.is_open()) co_return false;
  std::string line(frame);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  const std::error_code ec = co_await write(line);
  co_return !ec;
}

std::string Connection::take_unread() {
  std::string unread = std::move(buffer_);
  buffer_.clear();
  return unread;
}

bool Connection::buffered(std::string& line) {
  const auto newline = buffer_.find('\n');
  if (newline == std::string::npos) return false;
  line.assign(buffer_, 0, newline);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  buffer_.erase(0, newline + 1);
  return true;
}

asio::awaitable<Connection::Read> Connection::read(std::string& line,
                                                   std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  const auto deadline_at = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!buffered(line)) {
      if (!socket_.is_open()) co_return Read::closed;
      asio::steady_timer deadline(executor, deadline_at);
      if (read_chunk_.empty()) read_chunk_.resize(kChunk);
      auto outcome = co_await (read_some(asio::buffer(read_chunk_.data(), read_chunk_.size())) ||
                               deadline.async_wait(as_tuple(use_awaitable)));
      if (outcome.index() == 1) co_return Read::timeout;
      const auto& [ec, n] = std::get<0>(outcome);
      if (ec) co_return Read::closed;
      buffer_.append(read_chunk_.data(), n);
      continue;
    }
    if (!answer_pings_ || !is_server_ping(line)) co_return Read::frame;
    co_await send(R"({"op":"pong"})");
  }
}

void Connection::shutdown_send() {
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void Connection::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

void Connection::reset() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
}

}  // namespace parley::client
