#pragma once
// Reads the top-level members of a frame from the server without building it, so that the
// load generator's subscribers keep up with the server: strings are skipped to their
// closing quote, nested values to their closing bracket. It checks the frame's shape (one
// object of "key": value members), not every byte of it: the server's own scanner and the
// protocol tests hold the frames to RFC 8259.
#include <string_view>

namespace parley::client::bench {

struct FrameMember {
  std::string_view key;    // between the quotes, escapes left as they are
  std::string_view value;  // the raw value; a string's without its quotes
  bool is_string = false;
};

// Calls visit(member) for each top-level member in order; false when the line is not one
// JSON object of members.
template <class Visit>
bool for_each_member(std::string_view line, Visit&& visit);

namespace detail {
std::size_t skip_space(std::string_view s, std::size_t i);
// The index of the quote closing a string whose contents start at `i`, or npos.
std::size_t string_end(std::string_view s, std::size_t i);
// One past the end of a number, literal, object or array starting at `i`, or npos.
std::size_t value_end(std::string_view s, std::size_t i);
}  // namespace detail

template <class Visit>
bool for_each_member(std::string_view line, Visit&& visit) {
  using detail::skip_space;
  constexpr auto npos = std::string_view::npos;
  std::size_t i = skip_space(line, 0);
  if (i == line.size() || line[i] != '{') return false;
  i = skip_space(line, i + 1);
  if (i < line.size() && line[i] == '}') return skip_space(line, i + 1) == line.size();
  while (true) {
    if (i == line.size() || line[i] != '"') return false;
    FrameMember member;
    const std::size_t key_end = detail::string_end(line, i + 1);
    if (key_end == npos) return false;
    member.key = line.substr(i + 1, key_end - i - 1);
    i = skip_space(line, key_end + 1);
    if (i == line.size() || line[i] != ':') return false;
    i = skip_space(line, i + 1);
    if (i == line.size()) return false;
    if (line[i] == '"') {
      const std::size_t end = detail::string_end(line, i + 1);
      if (end == npos) return false;
      member.value = line.substr(i + 1, end - i - 1);
      member.is_string = true;
      i = end + 1;
    } else {
      const std::size_t end = detail::value_end(line, i);
      if (end == npos || end == i) return false;
      member.value = line.substr(i, end - i);
      i = end;
    }
    visit(member);
    i = skip_space(line, i);
    if (i == line.size()) return false;
    if (line[i] == '}') return skip_space(line, i + 1) == line.size();
    if (line[i] != ',') return false;
    i = skip_space(line, i + 1);
  }
}

}  // namespace parley::client::bench
