#pragma once
// RFC 6455 WebSocket without I/O: the handshake's accept value, an incremental reader of
// frames (a server's reader of client frames, or a client's reader of server frames), and
// builders of server frames and of masked client frames.
//
// Written here rather than taken from a library: Debian 12's websocketpp (0.8.2) does not
// compile as C++20, and Beast needs Boost.Asio while Parley uses standalone Asio. No
// extension (permessage-deflate) is negotiated, so every RSV bit must be clear.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::protocol {

// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key: base64(SHA-1(key +
// RFC 6455's GUID)), computed with OpenSSL's libcrypto.
std::string websocket_accept(std::string_view client_key);

enum class WsOpcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close status codes (RFC 6455 §7.4.1) the reader reports or a server sends.
namespace ws_close {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;  // a binary message
inline constexpr std::uint16_t no_status = 1005;         // a close frame without a code
inline constexpr std::uint16_t invalid_payload = 1007;   // text that is not UTF-8
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace ws_close

// One thing the reader found. Views point into the reader and stay valid until the next
// call of next() or feed().
struct WsEvent {
  enum class Kind {
    text,   // payload: a complete text message, fragments joined, valid UTF-8
    ping,   // payload: the ping's application data (at most 125 bytes)
    pong,   // payload: the pong's application data
    close,  // code (1005 when the frame had none) and payload: the reason (UTF-8)
    error,  // code: the close status to send; payload: a short description. Final.
  };
  Kind kind = Kind::text;
  std::uint16_t code = 0;
  std::string_view payload;
};

// Reads the frames a client sends, fed in chunks of any size. It keeps only what an
// unfinished frame or message needs: up to 14 header bytes, the unmasked payload of the
// message being assembled (each payload byte is copied once, out of the fed chunk, and
// unmasked there eight bytes at a time) and the payload of one control frame.
//
// Enforced: client frames are masked, RSV bits are clear, opcodes are known, control
// frames are final and carry at most 125 bytes, fragments continue an open text message
// and a new message waits for the last fragment (control frames may come in between),
// 64-bit lengths have the top bit clear (1002 for each); a message is at most
// `max_message` bytes, refused (1009) as soon as a frame header announces more; binary
// messages are refused (1003); text and close reasons must be UTF-8 (1007); a close code
// must be one an endpoint may send (1002). Extended lengths need not be minimal.
// Each check runs once a frame's whole header (2 to 14 bytes) is in, so the events depend
// only on the bytes, never on how they were chunked.
//
// After an error or a close event the reader reads nothing more.
// Which side's frames a WsReader reads: a server reads masked client frames (the
// default), a client reads server frames, which must not be masked (RFC 6455 §5.1).
enum class WsFramesFrom { client, server };

class WsReader {
 public:
  explicit WsReader(std::size_t max_message, WsFramesFrom from = WsFramesFrom::client)
      : max_message_(max_message), from_server_(from == WsFramesFrom::server) {}

  // Hands over the next bytes received. They are read in place by next(), so they must
  // stay valid, and feed() must not be called again, until next() has returned nothing.
  void feed(std::string_view chunk) noexcept { input_ = chunk; }

  // The next event from the bytes fed so far; nothing when they are all read (a partial
  // frame is then kept) or the reader has stopped.
  std::optional<WsEvent> next();

  bool stopped() const noexcept { return stopped_; }
  // Bytes held for an unfinished frame or message (the unread rest of a chunk excluded).
  std::size_t buffered() const noexcept { return header_size_ + message_.size() + control_size_; }

 private:
  enum class Phase { header, payload };

  // Takes header bytes from input_; true once the frame's whole header is in.
  bool read_header() noexcept;
  // Checks the complete header and starts reading the payload; an error event if refused.
  std::optional<WsEvent> start_frame();
  // The event a frame whose payload is all in gives, if any.
  std::optional<WsEvent> finish_frame();
  std::optional<WsEvent> fail(std::uint16_t code, std::string_view description) noexcept;
  // XORs `size` payload bytes, read from the frame's offset_ on, with the mask in place.
  void unmask(char* data, std::size_t size) const noexcept;
  void release_message() noexcept;

  std::size_t max_message_;
  bool from_server_ = false;  // a client's reader: frames must be unmasked
  bool masked_ = false;       // the frame being read carries a mask
  std::string_view input_;
  bool stopped_ = false;
  bool release_pending_ = false;  // message_ was handed out; clear it on the next call

  Phase phase_ = Phase::header;
  std::array<unsigned char, 14> header_{};
  std::size_t header_size_ = 0;

  // The frame being read.
  WsOpcode opcode_ = WsOpcode::continuation;
  bool fin_ = false;
  std::array<unsigned char, 4> mask_{};
  std::uint64_t remaining_ = 0;  // payload bytes still to read
  std::uint64_t offset_ = 0;     // payload bytes read (selects the mask byte)

  bool in_message_ = false;  // a text message is open (its first fragment was not final)
  std::string message_;      // the text message's unmasked bytes so far
  std::array<char, 125> control_{};
  std::size_t control_size_ = 0;
};

// Appends a server frame's header (never masked): 2, 4 or 10 bytes. With fin false the
// frame is a fragment (then later ones are WsOpcode::continuation).
void append_ws_header(std::string& out, WsOpcode opcode, std::uint64_t payload_size,
                      bool fin = true);

// A whole close frame. A code of 1005 (no_status) sends an empty payload; otherwise the
// reason is cut to fit 123 bytes, at a UTF-8 character boundary.
std::string build_ws_close(std::uint16_t code, std::string_view reason = {});
// A pong answering a ping: its payload, cut to 125 bytes.
std::string build_ws_pong(std::string_view payload);
// A ping (a server's heartbeat): its payload, cut to 125 bytes.
std::string build_ws_ping(std::string_view payload = {});
// A whole, unfragmented text frame: header and payload.
std::string build_ws_text(std::string_view payload);

// Appends a client frame (RFC 6455 §5.3): the header with the mask bit and `mask`, then
// `payload` XORed with it. The caller draws a fresh mask for each frame from a strong
// random source. Control frames (close, ping, pong) must be final and at most 125 bytes.
void append_ws_masked_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                            const std::array<unsigned char, 4>& mask);

}  // namespace parley::protocol
