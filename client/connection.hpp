#pragma once
// One client connection to a Parley server, driven by coroutines on the caller's
// io_context: connect with a deadline, send lines, read frames with a deadline. It answers
// the server's heartbeat `ping` itself, so no caller has to.
//
// The transport is chosen by the address: plain TCP, TLS (tls://, or --tls), WebSocket
// (ws://HOST:PORT/PATH) or WebSocket over TLS (wss://). Above the transport everything is
// the same byte stream of '\n'-ended frames: on WebSocket each text message from the
// server arrives as one frame and its line end, and each frame written goes out as one
// masked text message. So the chat, the one-shot commands, scripts and the load generator
// share this one code path whatever the transport.
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>

#include "parley/common/endpoint.hpp"

namespace parley::client {

using common::Endpoint;

// How to speak TLS: the context made once from the --tls-* flags (shared by every
// connection of a run) and whether certificate checks are off.
struct TlsSetup {
  std::shared_ptr<asio::ssl::context> context;
  bool insecure = false;
  bool client_cert = false;  // --tls-cert given
};

class Connection {
 public:
  enum class Read { frame, timeout, closed };

  explicit Connection(const asio::any_io_executor& executor);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves, connects and (for tls/wss) does the TLS handshake, and (for ws/wss) the
  // WebSocket upgrade, all within `timeout`; an empty string on success, else the reason.
  asio::awaitable<std::string> connect(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                                       const TlsSetup& tls = {});
  // Sends one frame; a '\n' is added. Frames sent while another send is still writing
  // are queued behind it and written in order (the call returns once queued). False when
  // the connection is gone.
  asio::awaitable<bool> send(std::string_view frame);
  // Waits up to `timeout` for the next line (without its '\n') into `line`. A server
  // `ping` is answered with `pong` and not returned, unless set_answer_pings(false).
  asio::awaitable<Read> read(std::string& line, std::chrono::milliseconds timeout);
  // The next line already received, if any, without waiting (pings included).
  bool buffered(std::string& line);
  // `raw` and scripts see every frame as it came, pings included.
  void set_answer_pings(bool answer) { answer_pings_ = answer; }

  // The stream of frames below read() and send(), for the load generator, which parses
  // frames in its own buffer. Bytes read() has received but not returned yet come first
  // (take them with take_unread()). An end of stream is asio::error::eof.
  asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer into);
  // Writes `frames` (whole '\n'-ended frames). If a write is in flight, they are copied
  // and written after it, and the call returns at once.
  asio::awaitable<std::error_code> write(std::string_view frames);
  bool writing() const { return writing_; }
  // Moves out what read() has received past the last line it returned.
  std::string take_unread();

  void shutdown_send();
  void close();
  // Closes with a TCP reset, as a crashed client would.
  void reset();
  bool is_open() const { return socket_.is_open(); }
  // "tcp", "tls", "ws" or "wss".
  const char* transport() const;
  // Why the transport failed after connecting, when it knows better than "closed" (a TLS
  // alert such as a refused client certificate, a broken WebSocket frame); else empty.
  const std::string& error() const { return last_error_; }

 private:
  struct WebSocket;
  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;

  // The byte stream under the framing: the socket or TLS over it.
  asio::awaitable<std::tuple<std::error_code, std::size_t>> stream_read_some(
      asio::mutable_buffer into);
  asio::awaitable<std::error_code> stream_write(std::string_view bytes);
  asio::awaitable<std::string> tls_handshake(const Endpoint& endpoint, const TlsSetup& tls,
                                             asio::steady_timer& deadline);
  asio::awaitable<std::string> ws_upgrade(const Endpoint& endpoint, asio::steady_timer& deadline);
  // Decodes server frames: text into ws_->text, answers (pong, close) into ws_->control.
  void ws_decode(std::string_view bytes);
  // Appends `frames` to `out` as they go on the wire (masked messages on WebSocket).
  void encode(std::string_view frames, std::string& out);
  // Writes `wire` (already encoded), then whatever was queued meanwhile.
  asio::awaitable<std::error_code> write_wire(std::string_view wire);

  asio::ip::tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;
  std::unique_ptr<WebSocket> ws_;
  std::string buffer_;      // received, not yet returned by read()
  std::string outbox_;      // encoded bytes waiting while a write is in flight
  std::string wire_;        // encoding scratch
  std::string chunk_;       // WebSocket: raw bytes read from the stream
  std::string read_chunk_;  // read(): bytes read before they join buffer_
  Endpoint peer_;
  bool client_cert_ = false;
  bool received_ = false;  // any byte came from the server after the handshake
  std::string last_error_;
  bool writing_ = false;
  bool answer_pings_ = true;
};

// True for the server's heartbeat frame, {"op":"ping"} (with or without other fields).
bool is_server_ping(std::string_view line);

}  // namespace parley::client
