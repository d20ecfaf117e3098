#include "input_checks.hpp"

#include <charconv>

#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"
#include "safe_text.hpp"

namespace parley::client {
namespace {

constexpr std::string_view kTopicRule =
    "use tokens of letters, digits, '_' and '-' joined by single dots, 1 to 255 bytes "
    "(like chat.general)";

std::string quoted(std::string_view value) {
  return "'" + safe_text(value, "\\n") + "'";
}

}  // namespace

std::string strip_room_mark(std::string_view room) {
  if (room.starts_with('#')) room.remove_prefix(1);
  return std::string(room);
}

std::optional<std::string> topic_problem(std::string_view topic) {
  if (protocol::is_valid_pattern(topic) && protocol::has_wildcard(topic))
    return quoted(topic) + " is a pattern; this needs one topic, without '*' or '>'";
  if (!protocol::is_valid_topic(topic))
    return quoted(topic) + " is not a valid topic: " + std::string(kTopicRule);
  return std::nullopt;
}

std::optional<std::string> pattern_problem(std::string_view pattern) {
  if (!protocol::is_valid_pattern(pattern)) {
    return quoted(pattern) + " is not a valid pattern: " + std::string(kTopicRule) +
           "; '*' stands for one token, '>' as the last token for the rest";
  }
  return std::nullopt;
}

std::optional<std::string> name_problem(std::string_view name, bool someone_else) {
  if (!someone_else && protocol::is_reserved_name(name))
    return quoted(name) + " is not allowed: names starting with 'guest-' are the server's to give";
  if (!protocol::is_valid_name(name))
    return quoted(name) + " is not a valid name: use 1 to 32 letters, digits, '_', '.' or '-'";
  return std::nullopt;
}

std::optional<long> parse_count(std::string_view text, long low, long high) {
  long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < low ||
      value > high) {
    return std::nullopt;
  }
  return value;
}

}  // namespace parley::client
