#include "parley/protocol/websocket.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "parley/protocol/utf8.hpp"

namespace parley::protocol {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t kMaxControlPayload = 125;
// An idle reader keeps at most this much message capacity, and a frame header reserves
// at most this much before its bytes arrive.
constexpr std::size_t kKeepCapacity = 4096;
constexpr std::size_t kMaxReserve = 65536;

bool is_control(WsOpcode opcode) noexcept {
  return (static_cast<unsigned>(opcode) & 0x8U) != 0;
}

// Codes a peer may send in a close frame: RFC 6455 §7.4.1's, those IANA registered since
// (1012 to 1014), and the ranges for libraries and applications (§7.4.2). 1004, 1005,
// 1006 and 1015 are reserved or must never be sent.
bool valid_close_code(unsigned code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view text, std::size_t limit) noexcept {
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  return text.substr(0, cut);
}

std::string control_frame(WsOpcode opcode, std::string_view payload) {
  payload = payload.substr(0, kMaxControlPayload);
  std::string out;
  out.reserve(2 + payload.size());
  append_ws_header(out, opcode, payload.size());
  out.append(payload);
  return out;
}

}  // namespace

std::string websocket_accept(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + kGuid.size());
  input.append(client_key).append(kGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    throw std::runtime_error("websocket_accept: SHA-1 unavailable");
  }
  // Base64 of a 20-byte digest: 28 characters and EVP_EncodeBlock's terminating NUL.
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
  const int size = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(digest_size));
  return {reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(size)};
}

std::optional<WsEvent> WsReader::next() {
  if (release_pending_) {
    release_pending_ = false;
    release_message();
  }
  while (!stopped_) {
    if (phase_ == Phase::header) {
      if (!read_header()) return std::nullopt;
      if (auto refused = start_frame()) return refused;
    } else {
      if (remaining_ != 0) {
        if (input_.empty()) return std::nullopt;
        const auto size = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(input_.size())));
        char* data = nullptr;
        if (is_control(opcode_)) {
          data = control_.data() + control_size_;
          std::memcpy(data, input_.data(), size);
          control_size_ += size;
        } else {
          message_.append(input_.data(), size);
          data = message_.data() + message_.size() - size;
        }
        unmask(data, size);
        input_.remove_prefix(size);
        remaining_ -= size;
        offset_ += size;
      }
      if (remaining_ == 0) {
        phase_ = Phase::header;
        if (auto event = finish_frame()) return event;
      }
    }
  }
  return std::nullopt;
}

bool WsReader::read_header() noexcept {
  while (true) {
    std::size_t need = 2;
    if (header_size_ >= 2) {
      const unsigned length7 = header_[1] & 0x7FU;
      need += length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
      need += (header_[1] & 0x80U) != 0 ? 4 : 0;
    }
    if (header_size_ >= need) return true;
    if (input_.empty()) return false;
    const std::size_t take = std::min(need - header_size_, input_.size());
    std::memcpy(header_.data() + header_size_, input_.data(), take);
    header_size_ += take;
    input_.remove_prefix(take);
  }
}

std::optional<WsEvent> WsReader::start_frame() {
  const unsigned char b0 = header_[0];
  const unsigned char b1 = header_[1];
  header_size_ = 0;
  fin_ = (b0 & 0x80U) != 0;
  if ((b0 & 0x70U) != 0) return fail(ws_close::protocol_error, "reserved bits set");
  const unsigned op = b0 & 0x0FU;
  if (op > 0xA || (op > 0x2 && op < 0x8)) return fail(ws_close::protocol_error, "unknown opcode");
  opcode_ = static_cast<WsOpcode>(op);
  masked_ = (b1 & 0x80U) != 0;
  if (!from_server_ && !masked_) return fail(ws_close::protocol_error, "unmasked client frame");
  if (from_server_ && masked_) return fail(ws_close::protocol_error, "masked server frame");

  std::uint64_t length = b1 & 0x7FU;
  std::size_t at = 2;
  if (length == 126 || length == 127) {
    const std::size_t bytes = length == 126 ? 2 : 8;
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i) length = (length << 8) | header_[at + i];
    at += bytes;
    if ((length >> 63) != 0) {
      return fail(ws_close::protocol_error, "64-bit length with the top bit set");
    }
  }
  if (masked_) std::memcpy(mask_.data(), header_.data() + at, mask_.size());

  if (is_control(opcode_)) {
    if (!fin_) return fail(ws_close::protocol_error, "fragmented control frame");
    if (length > kMaxControlPayload) {
      return fail(ws_close::protocol_error, "control frame over 125 bytes");
    }
    control_size_ = 0;
  } else {
    if (opcode_ == WsOpcode::continuation) {
      if (!in_message_) return fail(ws_close::protocol_error, "continuation without a message");
    } else {
      if (in_message_) {
        return fail(ws_close::protocol_error, "new message before the last fragment");
      }
      if (opcode_ == WsOpcode::binary) return fail(ws_close::unsupported_data, "binary message");
    }
    if (length > max_message_ - message_.size()) {
      return fail(ws_close::message_too_big, "message too big");
    }
    message_.reserve(message_.size() + static_cast<std::size_t>(std::min<std::uint64_t>(
                                           length, static_cast<std::uint64_t>(kMaxReserve))));
  }
  remaining_ = length;
  offset_ = 0;
  phase_ = Phase::payload;
  return std::nullopt;
}

std::optional<WsEvent> WsReader::finish_frame() {
  const std::string_view control(control_.data(), control_size_);
  switch (opcode_) {
    case WsOpcode::ping:
      return WsEvent{WsEvent::Kind::ping, 0, control};
    case WsOpcode::pong:
      return WsEvent{WsEvent::Kind::pong, 0, control};
    case WsOpcode::close: {
      stopped_ = true;
      if (control.empty()) return WsEvent{WsEvent::Kind::close, ws_close::no_status, {}};
      if (control.size() == 1) return fail(ws_close::protocol_error, "close payload of one byte");
      const unsigned code = (static_cast<unsigned>(static_cast<unsigned char>(control[0])) << 8U) |
                            static_cast<unsigned char>(control[1]);
      if (!valid_close_code(code)) return fail(ws_close::protocol_error, "invalid close code");
      const std::string_view reason = control.substr(2);
      if (!valid_utf8(reason)) return fail(ws_close::invalid_payload, "close reason not UTF-8");
      return WsEvent{WsEvent::Kind::close, static_cast<std::uint16_t>(code), reason};
    }
    case WsOpcode::text:
    case WsOpcode::continuation:
      if (!fin_) {
        in_message_ = true;
        return std::nullopt;
      }
      in_message_ = false;
      if (!valid_utf8(message_)) return fail(ws_close::invalid_payload, "text not UTF-8");
      release_pending_ = true;
      return WsEvent{WsEvent::Kind::text, 0, message_};
    case WsOpcode::binary:
      break;  // refused by start_frame()
  }
  return std::nullopt;
}

std::optional<WsEvent> WsReader::fail(std::uint16_t code, std::string_view description) noexcept {
  stopped_ = true;
  release_pending_ = true;
  return WsEvent{WsEvent::Kind::error, code, description};
}

void WsReader::unmask(char* data, std::size_t size) const noexcept {
  if (!masked_) return;
  // The mask as it falls on the next eight payload bytes.
  std::array<unsigned char, 8> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = mask_[(offset_ + i) & 3U];
  std::uint64_t word_key = 0;
  std::memcpy(&word_key, key.data(), key.size());
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    word ^= word_key;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i)
    data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ key[i & 7U]);
}

void WsReader::release_message() noexcept {
  message_.clear();
  if (message_.capacity() > kKeepCapacity) std::string().swap(message_);
}

void append_ws_header(std::string& out, WsOpcode opcode, std::uint64_t payload_size, bool fin) {
  std::array<char, 10> header{};
  header[0] = static_cast<char>((fin ? 0x80U : 0U) | static_cast<unsigned>(opcode));
  std::size_t size = 2;
  if (payload_size < 126) {
    header[1] = static_cast<char>(payload_size);
  } else if (payload_size <= 0xFFFF) {
    header[1] = static_cast<char>(126);
    header[2] = static_cast<char>(payload_size >> 8U);
    header[3] = static_cast<char>(payload_size & 0xFFU);
    size = 4;
  } else {
    header[1] = static_cast<char>(127);
    for (std::size_t i = 0; i < 8; ++i) {
      header[2 + i] = static_cast<char>((payload_size >> (8 * (7 - i))) & 0xFFU);
    }
    size = 10;
  }
  out.append(header.data(), size);
}

std::string build_ws_close(std::uint16_t code, std::string_view reason) {
  if (code == ws_close::no_status) return control_frame(WsOpcode::close, {});
  reason = cut_utf8(reason, kMaxControlPayload - 2);
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8U));
  payload.push_back(static_cast<char>(code & 0xFFU));
  payload.append(reason);
  return control_frame(WsOpcode::close, payload);
}

std::string build_ws_pong(std::string_view payload) {
  return control_frame(WsOpcode::pong, payload);
}

std::string build_ws_ping(std::string_view payload) {
  return control_frame(WsOpcode::ping, payload);
}

void append_ws_masked_frame(std::string& out, WsOpcode opcode, std::string_view payload,
                            const std::array<unsigned char, 4>& mask) {
  const std::size_t header_at = out.size();
  append_ws_header(out, opcode, payload.size());
  out[header_at + 1] = static_cast<char>(static_cast<unsigned char>(out[header_at + 1]) | 0x80U);
  out.append(reinterpret_cast<const char*>(mask.data()), mask.size());
  const std::size_t at = out.size();
  out.append(payload);
  // Eight bytes at a time: the bench writes whole batches of frames through here.
  std::array<unsigned char, 8> key{};
  for (std::size_t k = 0; k < key.size(); ++k) key[k] = mask[k & 3U];
  std::uint64_t word_key = 0;
  std::memcpy(&word_key, key.data(), key.size());
  char* data = out.data() + at;
  std::size_t i = 0;
  for (; i + 8 <= payload.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    word ^= word_key;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < payload.size(); ++i)
    data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ mask[i & 3U]);
}

std::string build_ws_text(std::string_view payload) {
  std::string out;
  out.reserve(10 + payload.size());
  append_ws_header(out, WsOpcode::text, payload.size());
  out.append(payload);
  return out;
}

}  // namespace parley::protocol
