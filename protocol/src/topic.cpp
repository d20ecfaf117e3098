#include "parley/protocol/topic.hpp"

#include <algorithm>

namespace parley::protocol {
namespace {

constexpr bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A literal token; the first token of a topic may carry a leading '$'.
bool is_literal_token(std::string_view token, bool first) noexcept {
  if (first && !token.empty() && token.front() == '$') token.remove_prefix(1);
  return !token.empty() && std::all_of(token.begin(), token.end(), is_token_char);
}

// Calls visit(token, index, is_last) for each '.'-separated token; stops when it returns false.
template <class Visit>
bool for_each_token(std::string_view text, Visit&& visit) noexcept {
  std::size_t index = 0;
  while (true) {
    const auto dot = text.find('.');
    const bool last = dot == std::string_view::npos;
    if (!visit(text.substr(0, dot), index, last)) return false;
    if (last) return true;
    text.remove_prefix(dot + 1);
    ++index;
  }
}

bool within_length(std::string_view text) noexcept {
  return !text.empty() && text.size() <= kMaxTopicBytes;
}

}  // namespace

bool is_valid_topic(std::string_view topic) noexcept {
  return within_length(topic) &&
         for_each_token(topic, [](std::string_view token, std::size_t i, bool) {
           return is_literal_token(token, i == 0);
         });
}

bool is_valid_pattern(std::string_view pattern) noexcept {
  return within_length(pattern) &&
         for_each_token(pattern, [](std::string_view token, std::size_t i, bool last) {
           if (token == "*") return true;
           if (token == ">") return last;
           return is_literal_token(token, i == 0);
         });
}

bool has_wildcard(std::string_view pattern) noexcept {
  bool found = false;
  for_each_token(pattern, [&](std::string_view token, std::size_t, bool) {
    found = token == "*" || token == ">";
    return !found;
  });
  return found;
}

bool is_system_topic(std::string_view topic) noexcept {
  return !topic.empty() && topic.front() == '$';
}

bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept {
  if (is_system_topic(topic) && !pattern.empty() &&
      (pattern.front() == '*' || pattern.front() == '>')) {
    return false;
  }
  while (true) {
    const auto pdot = pattern.find('.');
    const auto ptoken = pattern.substr(0, pdot);
    if (ptoken == ">") return !topic.empty();
    const auto tdot = topic.find('.');
    const auto ttoken = topic.substr(0, tdot);
    if (ptoken != "*" && ptoken != ttoken) return false;
    const bool pattern_done = pdot == std::string_view::npos;
    const bool topic_done = tdot == std::string_view::npos;
    if (pattern_done || topic_done) return pattern_done && topic_done;
    pattern.remove_prefix(pdot + 1);
    topic.remove_prefix(tdot + 1);
  }
}

}  // namespace parley::protocol
