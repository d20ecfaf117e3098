#pragma once
// WsTransport's member definitions, for each stream it is instantiated with:
// ws_transport.cpp (sockets), and a fuzz target's in-memory stream.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "ws_transport.hpp"

namespace parley::server {
namespace ws_detail {

// Messages per gathered write: a header and a body iovec each, plus one for control
// frames, within the kernel's IOV_MAX (1024).
inline constexpr std::size_t kMaxMessagesPerWrite = 511;
inline constexpr std::size_t kMaxWsHeader = 10;
// Wire bytes read per read_some(): as much as the session's own buffer.
inline constexpr std::size_t kWireBufferBytes = std::size_t{64} << 10;

// Like the session's read buffer: one thread, and every read is decoded before the next.
inline std::array<char, kWireBufferBytes>& wire_buffer() {
  static std::array<char, kWireBufferBytes> buffer;
  return buffer;
}

// A line end inside a message becomes this: a control character no JSON text may hold
// (not even inside a string), so the dispatcher refuses the message as bad_json.
inline constexpr char kInnerLineEnd = '\x1e';

// The server's header of an unfragmented text message: 2, 4 or 10 bytes, never masked.
inline std::size_t text_header(std::size_t payload, unsigned char* out) noexcept {
  out[0] = 0x81;  // FIN, text
  if (payload < 126) {
    out[1] = static_cast<unsigned char>(payload);
    return 2;
  }
  if (payload <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(payload >> 8);
    out[3] = static_cast<unsigned char>(payload);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(payload) >> (56 - 8 * i));
  }
  return 10;
}

// A frame's body on the wire: the protocol line without its "\n".
inline std::size_t body_size(const std::string& frame) noexcept {
  return !frame.empty() && frame.back() == '\n' ? frame.size() - 1 : frame.size();
}

inline std::size_t header_size(std::size_t payload) noexcept {
  return payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10;
}

}  // namespace ws_detail

template <class Stream>
WsTransport<Stream>::WsTransport(Stream stream, std::size_t max_frame, std::string initial)
    : stream_(std::move(stream)),
      max_frame_(max_frame),
      // Room for one trailing "\r\n", which is dropped before max_frame is checked.
      reader_(max_frame + 2),
      initial_(std::move(initial)) {
  ++open_count_;
}

template <class Stream>
asio::awaitable<std::error_code> WsTransport<Stream>::wait_readable() {
  if (pending_from_ < pending_in_.size() || deferred_ || !initial_.empty())
    co_return std::error_code{};
  co_return co_await stream_.wait_readable();
}

template <class Stream>
asio::awaitable<std::error_code> WsTransport<Stream>::wait_writable() {
  co_return co_await stream_.wait_writable();
}

template <class Stream>
std::size_t WsTransport<Stream>::read_some(std::span<char> buffer, std::error_code& ec) {
  ec.clear();
  if (pending_from_ < pending_in_.size()) {
    const std::size_t n = std::min(buffer.size(), pending_in_.size() - pending_from_);
    std::memcpy(buffer.data(), pending_in_.data() + pending_from_, n);
    pending_from_ += n;
    if (pending_from_ == pending_in_.size()) {
      pending_from_ = 0;
      pending_in_.clear();
      pending_in_.shrink_to_fit();  // a large message should not stay behind
    }
    return n;
  }
  if (deferred_) {
    ec = *deferred_;
    deferred_.reset();
    return 0;
  }
  if (control_sent_ < control_out_.size()) flush_control();
  if (input_over_) {
    // After a close or an error: the session discards whatever still comes.
    if (!initial_.empty()) {
      const std::size_t n = std::min(buffer.size(), initial_.size());
      initial_.erase(0, n);
      return n;
    }
    return stream_.read_some(buffer, ec);
  }
  std::string initial;
  std::string_view wire;
  if (!initial_.empty()) {
    initial.swap(initial_);
    wire = initial;
  } else {
    auto& raw = ws_detail::wire_buffer();
    const std::size_t n = stream_.read_some(raw, ec);
    if (ec) return 0;
    wire = std::string_view(raw.data(), n);
  }
  const std::size_t used = decode(wire, buffer);
  if (used > 0) return used;
  if (pending_from_ < pending_in_.size()) return read_some(buffer, ec);
  if (deferred_) {
    ec = *deferred_;
    deferred_.reset();
    return 0;
  }
  ec = asio::error::would_block;  // only part of a frame, or only control frames, came
  return 0;
}

template <class Stream>
std::size_t WsTransport<Stream>::decode(std::string_view wire, std::span<char> out) {
  using Kind = protocol::WsEvent::Kind;
  std::size_t used = 0;
  reader_.feed(wire);
  while (const auto event = reader_.next()) {
    switch (event->kind) {
      case Kind::text: {
        std::string_view message = event->payload;
        if (message.ends_with("\r\n")) {
          message.remove_suffix(2);
        } else if (message.ends_with('\n')) {
          message.remove_suffix(1);
        }
        if (message.size() > max_frame_) {
          close_code_ = protocol::ws_close::message_too_big;
          deferred_ = std::make_error_code(std::errc::message_size);
          input_over_ = true;
          return used;
        }
        emit_message(message, out, used);
        break;
      }
      case Kind::ping:
        control_out_ += protocol::build_ws_pong(event->payload);
        flush_control();
        break;
      case Kind::pong:
        break;  // an answer to nothing we need: the protocol has its own heartbeat
      case Kind::close:
        close_code_ = event->code;  // echoed, as RFC 6455 §5.5.1 asks
        deferred_ = asio::error::make_error_code(asio::error::eof);
        input_over_ = true;
        return used;
      case Kind::error:
        spdlog::debug("websocket from {}: {} (close {})", stream_.remote_address(), event->payload,
                      event->code);
        close_code_ = event->code;
        deferred_ = std::make_error_code(event->code == protocol::ws_close::message_too_big
                                             ? std::errc::message_size
                                             : std::errc::protocol_error);
        input_over_ = true;
        return used;
    }
  }
  return used;
}

template <class Stream>
void WsTransport<Stream>::emit_message(std::string_view message, std::span<char> out,
                                       std::size_t& used) {
  char* line = nullptr;
  if (pending_in_.empty() && used + message.size() + 1 <= out.size()) {
    line = out.data() + used;
    used += message.size() + 1;
  } else {
    // The session's buffer is full: keep the rest for the next read_some().
    const std::size_t at = pending_in_.size();
    pending_in_.resize(at + message.size() + 1);
    line = pending_in_.data() + at;
  }
  std::memcpy(line, message.data(), message.size());
  std::replace(line, line + message.size(), '\n', ws_detail::kInnerLineEnd);
  line[message.size()] = '\n';
}

template <class Stream>
WriteStatus WsTransport<Stream>::write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                                       WriteProgress& progress) {
  std::array<iovec, 2 * ws_detail::kMaxMessagesPerWrite> buffers;
  std::array<std::array<unsigned char, ws_detail::kMaxWsHeader>, ws_detail::kMaxMessagesPerWrite>
      headers;
  while (true) {
    if (!mid_message_ && control_sent_ < control_out_.size()) {
      if (!flush_control()) return broken_ ? WriteStatus::failed : WriteStatus::would_block;
    }
    if (broken_) return WriteStatus::failed;
    if (cursor.frame >= frames.size()) return WriteStatus::done;
    std::size_t count = 0;
    std::size_t messages = 0;
    for (std::size_t i = cursor.frame;
         i < frames.size() && messages < ws_detail::kMaxMessagesPerWrite; ++i, ++messages) {
      const std::string& frame = *frames[i];
      const std::size_t body = ws_detail::body_size(frame);
      const std::size_t header = ws_detail::text_header(body, headers[messages].data());
      std::size_t skip = i == cursor.frame ? cursor.offset : 0;
      if (skip < header) {
        buffers[count++] = {headers[messages].data() + skip, header - skip};
        skip = 0;
      } else {
        skip -= header;
      }
      // iovec is not const-qualified; the kernel only reads these bytes.
      if (body > skip) buffers[count++] = {const_cast<char*>(frame.data() + skip), body - skip};
    }
    std::error_code ec;
    std::size_t left = stream_.writev(buffers.data(), count, ec);
    if (ec) {
      if (ec == asio::error::would_block || ec == asio::error::try_again)
        return WriteStatus::would_block;
      spdlog::debug("write to {} failed: {}", stream_.remote_address(), ec.message());
      return WriteStatus::failed;
    }
    progress.wire_bytes += left;
    while (left > 0) {
      const std::string& frame = *frames[cursor.frame];
      const std::size_t body = ws_detail::body_size(frame);
      const std::size_t rest = ws_detail::header_size(body) + body - cursor.offset;
      if (left < rest) {
        cursor.offset += left;
        break;
      }
      left -= rest;
      progress.frame_bytes += frame.size();  // the session counts whole frames, line end too
      ++cursor.frame;
      cursor.offset = 0;
    }
    mid_message_ = cursor.offset > 0;
  }
}

template <class Stream>
bool WsTransport<Stream>::flush_control() {
  if (broken_) return false;
  while (control_sent_ < control_out_.size()) {
    if (mid_message_) return false;  // control frames wait for the message being written
    // iovec is not const-qualified; the kernel only reads these bytes.
    const iovec buffer{control_out_.data() + control_sent_, control_out_.size() - control_sent_};
    std::error_code ec;
    const std::size_t n = stream_.writev(&buffer, 1, ec);
    if (ec) {
      if (ec != asio::error::would_block && ec != asio::error::try_again) broken_ = true;
      return false;
    }
    control_sent_ += n;
  }
  control_out_.clear();
  control_sent_ = 0;
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    stream_.shutdown_send();
  }
  return true;
}

template <class Stream>
void WsTransport<Stream>::shutdown_send() {
  // The session calls this once its output is out, so no message is half-written. If the
  // close frame does not fit now, it goes with the next read_some(); the session's linger
  // deadline bounds the wait.
  if (!close_queued_) {
    close_queued_ = true;
    control_out_ += protocol::build_ws_close(close_code_);
  }
  shutdown_pending_ = true;
  flush_control();
}

}  // namespace parley::server
