#pragma once
// Byte sizes as people write them in flags and environment variables.
#include <cstddef>
#include <optional>
#include <string_view>

namespace parley::common {

// "65536", "64KiB", "8MiB", "1GiB" (powers of 1024) or "64KB", "8MB", "1GB" (of 1000);
// "B" is allowed. Empty on a malformed value, a fraction of a byte or over 1 PB.
std::optional<std::size_t> parse_size(std::string_view text);

inline constexpr std::string_view kSizeRule =
    "a whole number of bytes with an optional unit B, KiB, MiB, GiB, KB, MB or GB (64KiB)";

}  // namespace parley::common
