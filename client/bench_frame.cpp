#include "bench_frame.hpp"

#include <cstring>

namespace parley::client::bench::detail {

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

std::size_t string_end(std::string_view s, std::size_t i, bool& escaped) {
  while (i < s.size()) {
    const void* found = std::memchr(s.data() + i, '"', s.size() - i);
    if (found == nullptr) return std::string_view::npos;
    const auto quote = static_cast<std::size_t>(static_cast<const char*>(found) - s.data());
    // The quote ends the string unless an odd number of backslashes precede it.
    std::size_t backslashes = 0;
    while (quote - backslashes > i && s[quote - backslashes - 1] == '\\') ++backslashes;
    if (std::memchr(s.data() + i, '\\', quote - i) != nullptr) escaped = true;
    if (backslashes % 2 == 0) return quote;
    i = quote + 1;
  }
  return std::string_view::npos;
}

std::size_t value_end(std::string_view s, std::size_t i) {
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && std::strchr(",}] \t\r\n", s[i]) == nullptr) ++i;
    return i;
  }
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      bool ignored = false;
      i = string_end(s, i + 1, ignored);
      if (i == std::string_view::npos) return i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace parley::client::bench::detail
