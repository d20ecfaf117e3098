#include "bench_frame.hpp"

#include <algorithm>
#include <cstring>

namespace parley::client::bench::detail {

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

namespace {

constexpr bool ends_scalar(char c) {
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The first quote at or after `i`, or npos. Keys and most values end within a few bytes,
// where a plain loop beats a call; longer strings go to memchr.
std::size_t next_quote(std::string_view s, std::size_t i) {
  constexpr std::size_t kShort = 16;
  const std::size_t stop = std::min(s.size(), i + kShort);
  for (; i < stop; ++i) {
    if (s[i] == '"') return i;
  }
  if (i == s.size()) return std::string_view::npos;
  const void* found = std::memchr(s.data() + i, '"', s.size() - i);
  if (found == nullptr) return std::string_view::npos;
  return static_cast<std::size_t>(static_cast<const char*>(found) - s.data());
}

}  // namespace

std::size_t string_end(std::string_view s, std::size_t i) {
  std::size_t from = i;
  while (true) {
    const std::size_t quote = next_quote(s, from);
    if (quote == std::string_view::npos) return quote;
    // The quote ends the string unless an odd number of backslashes precede it.
    std::size_t backslashes = 0;
    while (quote - backslashes > i && s[quote - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return quote;
    from = quote + 1;
  }
}

std::size_t value_end(std::string_view s, std::size_t i) {
  if (s[i] != '{' && s[i] != '[') {
    while (i < s.size() && !ends_scalar(s[i])) ++i;
    return i;
  }
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      i = string_end(s, i + 1);
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
