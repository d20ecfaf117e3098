// WsReader fed arbitrary bytes in arbitrary chunkings, against a reference reader written
// plainly below: whole-buffer, one frame at a time, unmasking byte by byte, decoding UTF-8
// code point by code point. Input layout: a max_message selector, a count of chunk sizes
// and the sizes (used in turn), then the stream. The events must be the same (errors by
// code), and the reader must never hold more than an unfinished frame and message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/websocket.hpp"

using parley::protocol::WsEvent;
using parley::protocol::WsReader;

namespace {

[[noreturn]] void fail() {
  std::abort();
}

struct Event {
  WsEvent::Kind kind;
  std::uint16_t code;
  std::string payload;  // empty for errors
  bool operator==(const Event&) const = default;
};

// UTF-8 by decoding: each sequence's code point must need that many bytes, not be a
// surrogate, and not pass U+10FFFF.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      n = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      n = 2;
      cp = b & 0x1FU;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3;
      cp = b & 0x0FU;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4;
      cp = b & 0x07U;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3FU);
    }
    const std::uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

bool reference_close_code(unsigned code) {
  if (code < 1000 || code >= 5000) return false;
  if (code >= 3000) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014:
      return true;
    default:
      return false;
  }
}

std::vector<Event> reference(std::string_view s, std::size_t max_message) {
  std::vector<Event> out;
  const auto error = [&](std::uint16_t code) {
    out.push_back({WsEvent::Kind::error, code, ""});
    return out;
  };
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  std::string message;
  bool open = false;
  std::size_t p = 0;
  while (true) {
    if (s.size() - p < 2) return out;
    const unsigned b0 = at(p);
    const unsigned b1 = at(p + 1);
    std::size_t header = 2;
    std::uint64_t length = b1 & 0x7FU;
    if (length == 126) {
      if (s.size() - p < 4) return out;
      length = (std::uint64_t{at(p + 2)} << 8) | at(p + 3);
      header = 4;
    } else if (length == 127) {
      if (s.size() - p < 10) return out;
      length = 0;
      for (std::size_t k = 0; k < 8; ++k) length = (length << 8) | at(p + 2 + k);
      header = 10;
    }
    const bool masked = (b1 & 0x80U) != 0;
    unsigned char key[4] = {0, 0, 0, 0};
    if (masked) {
      if (s.size() - p < header + 4) return out;
      for (std::size_t k = 0; k < 4; ++k) key[k] = at(p + header + k);
      header += 4;
    }
    const bool fin = (b0 & 0x80U) != 0;
    const unsigned op = b0 & 0x0FU;
    const bool control = op >= 8;
    if ((b0 & 0x70U) != 0) return error(1002);
    if (!(op <= 2 || (op >= 8 && op <= 10))) return error(1002);
    if (!masked) return error(1002);
    if (length >= (std::uint64_t{1} << 63)) return error(1002);
    if (control) {
      if (!fin || length > 125) return error(1002);
    } else {
      if (op == 0 && !open) return error(1002);
      if (op != 0 && open) return error(1002);
      if (op == 2) return error(1003);
      if (message.size() + length > max_message) return error(1009);
    }
    if (s.size() - p - header < length) return out;
    std::string payload;
    for (std::size_t k = 0; k < length; ++k) {
      payload.push_back(static_cast<char>(at(p + header + k) ^ key[k % 4]));
    }
    p += header + static_cast<std::size_t>(length);
    if (op == 9) {
      out.push_back({WsEvent::Kind::ping, 0, payload});
    } else if (op == 10) {
      out.push_back({WsEvent::Kind::pong, 0, payload});
    } else if (op == 8) {
      if (payload.empty()) {
        out.push_back({WsEvent::Kind::close, 1005, ""});
        return out;
      }
      if (payload.size() == 1) return error(1002);
      const unsigned code = (static_cast<unsigned>(static_cast<unsigned char>(payload[0])) << 8) |
                            static_cast<unsigned char>(payload[1]);
      if (!reference_close_code(code)) return error(1002);
      if (!reference_utf8(payload.substr(2))) return error(1007);
      out.push_back({WsEvent::Kind::close, static_cast<std::uint16_t>(code), payload.substr(2)});
      return out;
    } else {
      message += payload;
      open = !fin;
      if (fin) {
        if (!reference_utf8(message)) return error(1007);
        out.push_back({WsEvent::Kind::text, 0, message});
        message.clear();
      }
    }
  }
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  std::string_view rest() const {
    return at_ < size_ ? std::string_view(reinterpret_cast<const char*>(data_) + at_, size_ - at_)
                       : std::string_view();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::uint8_t selector = in.next();
  // Small limits probe 1009 at every edge; the large one lets long messages through.
  const std::size_t max_message = selector < 200 ? selector : std::size_t{1} << 20;
  std::vector<std::size_t> chunk_sizes(1 + in.next() % 8);
  for (auto& chunk : chunk_sizes) chunk = 1 + in.next() % 64;
  const std::string_view stream = in.rest();

  WsReader reader(max_message);
  std::vector<Event> events;
  std::size_t at = 0;
  for (std::size_t turn = 0; at < stream.size(); ++turn) {
    const std::size_t chunk = chunk_sizes[turn % chunk_sizes.size()];
    reader.feed(stream.substr(at, chunk));
    at += chunk;
    while (const auto e = reader.next()) {
      if (e->kind == WsEvent::Kind::error) {
        if (!reader.stopped()) fail();
        events.push_back({e->kind, e->code, ""});
      } else {
        events.emplace_back(Event{e->kind, e->code, std::string(e->payload)});
      }
    }
    // An unfinished header, message and control frame, nothing more.
    if (reader.buffered() > 14 + max_message + 125) fail();
  }
  if (events != reference(stream, max_message)) fail();
  return 0;
}
