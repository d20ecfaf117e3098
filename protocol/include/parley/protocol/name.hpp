#pragma once
// Session name rules: 1-32 of [A-Za-z0-9_.-], unique case-insensitively, guest-* reserved.
#include <string>
#include <string_view>

namespace parley::protocol {

inline constexpr std::size_t kMaxNameLength = 32;
inline constexpr std::string_view kGuestPrefix = "guest-";

bool is_valid_name(std::string_view name) noexcept;
// Names starting with "guest-" in any case are the server's to give.
bool is_reserved_name(std::string_view name) noexcept;
// The case-folded key under which a name is unique.
std::string fold_name(std::string_view name);

}  // namespace parley::protocol
