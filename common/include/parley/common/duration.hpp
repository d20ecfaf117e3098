#pragma once
// Durations as people write them in flags, environment variables and scripts.
#include <chrono>
#include <optional>
#include <string_view>

namespace parley::common {

// "250ms", "1.5s", "30s", "2m" (or "2min"), "1h"; a plain number is seconds. Rounds to
// the millisecond; empty on a malformed, negative or absurd (over ~30 years) value.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The grammar in words, for error messages.
inline constexpr std::string_view kDurationRule =
    "a number with an optional unit ms, s, m or h (250ms, 1.5s, 2m); plain numbers are seconds";

}  // namespace parley::common
