#include "parley/protocol/json_scan.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "parley/protocol/utf8.hpp"

namespace parley::protocol::json_scan {
namespace {

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when any byte of `word` is '"', '\\', a control character or not ASCII: the bytes
// the string scanner must stop at. Classic SWAR tests; no false negatives.
constexpr bool needs_attention(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  const std::uint64_t below_space = (word - ones * 0x20) & ~word & highs;
  return ((has_zero(word ^ (ones * '"')) | has_zero(word ^ (ones * '\\')) | below_space |
           (word & highs)) != 0);
}

class Scanner {
 public:
  Scanner(std::string_view text, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  Status run(Document& out) {
    skip_space();
    if (!value(out.root, &out.members)) return status_;
    skip_space();
    if (p_ != end_) return Status::syntax;
    return Status::ok;
  }

 private:
  bool fail(Status status) {
    status_ = status;
    return false;
  }

  void skip_space() {
    while (p_ != end_ && is_space(*p_)) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return fail(Status::syntax);
    }
    p_ += word.size();
    return true;
  }

  // Reads four hex digits after "\u".
  bool hex4(unsigned& code) {
    if (end_ - p_ < 4) return fail(Status::syntax);
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_digit(p_[i]);
      if (digit < 0) return fail(Status::syntax);
      code = code * 16 + static_cast<unsigned>(digit);
    }
    p_ += 4;
    return true;
  }

  // A UTF-8 sequence starting at a byte >= 0x80 (see utf8.hpp for what is well-formed).
  bool utf8_sequence() {
    const std::size_t length = utf8_sequence_length(p_, static_cast<std::size_t>(end_ - p_));
    if (length == 0) return fail(Status::bad_utf8);
    p_ += length;
    return true;
  }

  bool string(Value& out) {
    const char* start = p_;
    ++p_;  // the opening quote
    bool escaped = false;
    while (true) {
      // The common run of plain ASCII, eight bytes at a time while no byte needs a look.
      while (end_ - p_ >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p_, 8);
        if (needs_attention(word)) break;
        p_ += 8;
      }
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++p_;
      }
      if (p_ == end_) return fail(Status::syntax);
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        break;
      }
      if (c < 0x20) return fail(Status::syntax);
      if (c >= 0x80) {
        if (!utf8_sequence()) return false;
        continue;
      }
      escaped = true;  // a backslash
      if (++p_ == end_) return fail(Status::syntax);
      const char e = *p_++;
      if (e == 'u') {
        unsigned code = 0;
        if (!hex4(code)) return false;
        if (code >= 0xDC00 && code <= 0xDFFF)
          return fail(Status::bad_utf8);  // a lone low surrogate
        if (code >= 0xD800 && code <= 0xDBFF) {
          unsigned low = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail(Status::bad_utf8);
          p_ += 2;
          if (!hex4(low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return fail(Status::bad_utf8);
        }
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                 e != 'r' && e != 't') {
        return fail(Status::syntax);
      }
    }
    out = Value{Kind::string, std::string_view(start, static_cast<std::size_t>(p_ - start)),
                escaped, false};
    return true;
  }

  bool number(Value& out) {
    const char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ == end_) return fail(Status::syntax);
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    } else {
      return fail(Status::syntax);
    }
    bool integral = true;
    if (p_ != end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return fail(Status::syntax);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return fail(Status::syntax);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    // Any number RFC 8259's grammar allows is valid, whatever its magnitude or precision
    // (1e999999, -0, a thousand digits): it is passed on exactly as written.
    out = Value{Kind::number, std::string_view(start, static_cast<std::size_t>(p_ - start)), false,
                integral};
    return true;
  }

  // Scans one value. Containers are walked with an explicit stack, never by recursion, so
  // depth costs no native stack; `members` collects the root object's members.
  bool value(Value& out, std::vector<Member>* members) {
    if (p_ == end_) return fail(Status::syntax);
    if (*p_ != '{' && *p_ != '[') return scalar(out);

    // Open containers, '{' or '['. The protocol's depth fits the inline array; a caller
    // asking for more gets a heap stack rather than writes past the array.
    std::array<char, kInlineDepth> inline_stack{};
    std::vector<char> heap_stack;
    char* stack = inline_stack.data();
    if (max_depth_ > static_cast<int>(kInlineDepth)) {
      heap_stack.resize(static_cast<std::size_t>(max_depth_));
      stack = heap_stack.data();
    }
    int depth = 0;
    const char* start = p_;
    Member* pending = nullptr;  // the root member whose value is being scanned
    while (true) {
      // Here p_ is at the start of a value.
      if (p_ == end_) return fail(Status::syntax);
      const char* value_start = p_;
      if (*p_ == '{' || *p_ == '[') {
        if (depth >= max_depth_) return fail(Status::too_deep);
        stack[depth++] = *p_;
        const char close = *p_ == '{' ? '}' : ']';
        ++p_;
        skip_space();
        if (p_ != end_ && *p_ == close) {
          ++p_;
          --depth;
          if (depth == 1 && pending != nullptr) {
            pending->value =
                Value{close == '}' ? Kind::object : Kind::array,
                      std::string_view(value_start, static_cast<std::size_t>(p_ - value_start))};
          }
        } else if (stack[depth - 1] == '{') {
          if (!key(depth, members, pending)) return false;
          continue;
        } else {
          continue;  // the first element of an array
        }
      } else {
        Value scalar_value;
        if (!scalar(scalar_value)) return false;
        if (depth == 1 && pending != nullptr) pending->value = scalar_value;
      }
      // After a complete value: close containers or move to the next element.
      while (true) {
        if (depth == 0) {
          out = Value{*start == '{' ? Kind::object : Kind::array,
                      std::string_view(start, static_cast<std::size_t>(p_ - start))};
          return true;
        }
        skip_space();
        if (p_ == end_) return fail(Status::syntax);
        const char open = stack[depth - 1];
        if (*p_ == ',') {
          ++p_;
          skip_space();
          if (open == '{' && !key(depth, members, pending)) return false;
          break;  // the next value
        }
        if (*p_ != (open == '{' ? '}' : ']')) return fail(Status::syntax);
        ++p_;
        --depth;
        if (depth == 1 && pending != nullptr) {
          // A container member of the root just closed: find where it began.
          pending->value.text =
              std::string_view(pending->value.text.data(),
                               static_cast<std::size_t>(p_ - pending->value.text.data()));
        }
      }
    }
  }

  // Reads `"key" :` inside an object at `depth`; records root members.
  bool key(int depth, std::vector<Member>* members, Member*& pending) {
    if (p_ == end_ || *p_ != '"') return fail(Status::syntax);
    Value key_value;
    if (!string(key_value)) return false;
    skip_space();
    if (p_ == end_ || *p_ != ':') return fail(Status::syntax);
    ++p_;
    skip_space();
    if (depth == 1 && members != nullptr) {
      Member member;
      member.key = key_value.text.substr(1, key_value.text.size() - 2);
      member.key_escaped = key_value.escaped;
      // Containers fill in their text when they close; their start is known now.
      member.value.kind = p_ != end_ && *p_ == '{' ? Kind::object : Kind::array;
      member.value.text = std::string_view(p_, p_);  // empty, but anchored where the value starts
      members->push_back(member);
      pending = &members->back();
    }
    return true;
  }

  bool scalar(Value& out) {
    switch (*p_) {
      case '"':
        return string(out);
      case 't':
        out = Value{Kind::boolean, std::string_view(p_, 4)};
        return literal("true");
      case 'f':
        out = Value{Kind::boolean, std::string_view(p_, 5)};
        return literal("false");
      case 'n':
        out = Value{Kind::null, std::string_view(p_, 4)};
        return literal("null");
      default:
        return number(out);
    }
  }

  static constexpr std::size_t kInlineDepth = 128;
  const char* p_;
  const char* end_;
  int max_depth_;
  Status status_ = Status::syntax;
};

void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

unsigned read_hex4(const char* p) {
  unsigned code = 0;
  for (int i = 0; i < 4; ++i) code = code * 16 + static_cast<unsigned>(hex_digit(p[i]));
  return code;
}

// Resolves the escapes of a scanned string's content (quotes excluded).
std::string unescape(std::string_view raw, bool escaped) {
  if (!escaped) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out.push_back(raw[i]);
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        unsigned code = read_hex4(raw.data() + i + 1);
        i += 4;
        if (code >= 0xD800 && code <= 0xDBFF) {
          const unsigned low = read_hex4(raw.data() + i + 3);
          i += 6;
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, code);
        break;
      }
      default:  // '"', '\\', '/'
        out.push_back(e);
    }
  }
  return out;
}

}  // namespace

Status scan(std::string_view text, int max_depth, Document& out) {
  out.members.clear();
  return Scanner(text, max_depth).run(out);
}

std::string string_value(const Value& value) {
  return unescape(value.text.substr(1, value.text.size() - 2), value.escaped);
}

std::string key_value(const Member& member) {
  return unescape(member.key, member.key_escaped);
}

std::optional<Integer> integer_value(const Value& value) {
  if (value.kind != Kind::number || !value.integral) return std::nullopt;
  std::string_view digits = value.text;
  const bool negative = digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  std::uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  // nlohmann keeps negatives down to INT64_MIN as integers; beyond, they become floats.
  if (negative && magnitude > (std::uint64_t{1} << 63)) return std::nullopt;
  return Integer{negative && magnitude != 0, magnitude};
}

}  // namespace parley::protocol::json_scan
