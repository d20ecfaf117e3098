#pragma once
// A Transport speaking RFC 6455 WebSocket over a byte stream (byte_stream.hpp): the same
// Session, hub and limits as plain TCP, with WebSocket framing in between.
//
// Input: client frames are read by protocol::WsReader (masking, fragments, UTF-8, limits)
// and each text message is handed to the session as one line: one trailing "\n" or "\r\n"
// is dropped and a "\n" appended, so the session's LineSplitter sees exactly one frame
// per message and the TCP path keeps its splitter untouched. A message holding more than
// one line is handed over with its inner line ends replaced by a control character that
// no JSON text may hold, so the dispatcher answers it bad_json like any broken frame.
// Ping is answered with pong; ping and pong never reach the session (no protocol
// activity). Errors end input: read_some() reports std::errc::message_size for a message
// over max_frame (the session sends error frame_too_large, then the close says 1009) and
// std::errc::protocol_error for the rest (1002, 1003, 1007); a client close reads as eof.
//
// Output: each frame (one protocol line) goes out as one unfragmented text message
// without its "\n": the header is its own iovec in front of the shared frame, so a fan-out
// still serialises each msg once. Control frames (pong, close) go out between messages,
// never inside one. shutdown_send() sends the close frame (1000, the echo of the client's
// code, or the error's code) and then ends the stream's output.
#include <cstdint>
#include <optional>
#include <string>

#include "byte_stream.hpp"
#include "parley/protocol/websocket.hpp"
#include "tls_stream.hpp"
#include "transport.hpp"

namespace parley::server {

template <class Stream>
class WsTransport final : public Transport {
 public:
  // `initial` holds bytes read past the upgrade request's head: the first frames.
  WsTransport(Stream stream, std::size_t max_frame, std::string initial);
  ~WsTransport() override { count_closed(); }
  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  // WebSocket connections open now, for /metrics (the event-loop thread only).
  static std::uint64_t open_count() noexcept { return open_count_; }

  Executor get_executor() override { return stream_.get_executor(); }
  std::string remote_address() const override { return stream_.remote_address(); }
  asio::awaitable<std::error_code> wait_readable() override;
  std::size_t read_some(std::span<char> buffer, std::error_code& ec) override;
  WriteStatus write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                    WriteProgress& progress) override;
  asio::awaitable<std::error_code> wait_writable() override;
  void shutdown_send() override;
  void close() override {
    count_closed();
    stream_.close();
  }
  bool is_open() const override { return stream_.is_open(); }

 private:
  // Reads the events of `wire` into `out` (then pending_in_); sets deferred_ on an end.
  std::size_t decode(std::string_view wire, std::span<char> out);
  void emit_message(std::string_view message, std::span<char> out, std::size_t& used);
  // Sends queued control frames if no message is half-written; true when none is left.
  bool flush_control();
  void count_closed() noexcept {
    if (counted_) --open_count_;
    counted_ = false;
  }

  static inline std::uint64_t open_count_ = 0;
  bool counted_ = true;

  Stream stream_;
  std::size_t max_frame_;
  protocol::WsReader reader_;
  std::string initial_;
  std::string pending_in_;  // decoded lines the session's buffer had no room for
  std::size_t pending_from_ = 0;
  std::optional<std::error_code> deferred_;  // reported once pending_in_ is handed over
  std::string control_out_;                  // pong and close frames not yet sent
  std::size_t control_sent_ = 0;
  bool mid_message_ = false;  // the last write stopped inside a message
  std::uint16_t close_code_ = protocol::ws_close::normal;
  bool close_queued_ = false;
  bool input_over_ = false;        // a close or an error came: later input is only discarded
  bool broken_ = false;            // a control frame could not be written: the stream failed
  bool shutdown_pending_ = false;  // the close frame waits for room, then output ends
};

using TcpWsTransport = WsTransport<SocketStream<asio::ip::tcp::socket>>;
using LocalWsTransport = WsTransport<SocketStream<asio::local::stream_protocol::socket>>;
using WssTransport = WsTransport<TlsStream>;  // wss: WebSocket over TLS

extern template class WsTransport<SocketStream<asio::ip::tcp::socket>>;
extern template class WsTransport<SocketStream<asio::local::stream_protocol::socket>>;
extern template class WsTransport<TlsStream>;

}  // namespace parley::server
