#pragma once
// Checks of what a user typed (topics, patterns, names, counts), made before anything is
// sent, so that an error quotes the value and states the rule instead of naming a field.
#include <optional>
#include <string>
#include <string_view>

namespace parley::client {

// A room as the chat shows it ("#random") or as the protocol spells it ("random").
std::string strip_room_mark(std::string_view room);
// Empty when fine, else one line: "'a..b' is not a valid topic: ...rule...".
std::optional<std::string> topic_problem(std::string_view topic);
std::optional<std::string> pattern_problem(std::string_view pattern);
// `someone_else`: a name to reach (guest-N allowed), not one to take.
std::optional<std::string> name_problem(std::string_view name, bool someone_else = false);
// A whole number from `low` to `high` written in decimal; empty when it is not.
std::optional<long> parse_count(std::string_view text, long low, long high);

}  // namespace parley::client
