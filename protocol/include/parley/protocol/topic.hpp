#pragma once
// Topic and pattern rules of PROTOCOL.md: validation is kept apart from matching.
#include <string_view>

namespace parley::protocol {

inline constexpr std::size_t kMaxTopicBytes = 255;

// A concrete topic: tokens of [A-Za-z0-9_-]+ joined by '.', the first may start with '$'.
bool is_valid_topic(std::string_view topic) noexcept;
// A subscription pattern: like a topic, but a token may be '*', and the last may be '>'.
bool is_valid_pattern(std::string_view pattern) noexcept;
// True when a valid pattern holds a wildcard token.
bool has_wildcard(std::string_view pattern) noexcept;
// Topics whose first token starts with '$' belong to the server.
bool is_system_topic(std::string_view topic) noexcept;
// Does a valid pattern match a valid concrete topic? A wildcard in the first token never
// matches a '$' topic.
bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept;

}  // namespace parley::protocol
