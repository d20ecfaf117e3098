#include "parley/protocol/name.hpp"

#include <algorithm>

namespace parley::protocol {
namespace {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_reserved_name(std::string_view name) noexcept {
  if (name.size() < kGuestPrefix.size()) return false;
  return std::equal(kGuestPrefix.begin(), kGuestPrefix.end(), name.begin(),
                    [](char a, char b) { return a == ascii_lower(b); });
}

std::string fold_name(std::string_view name) {
  std::string folded(name);
  std::transform(folded.begin(), folded.end(), folded.begin(), ascii_lower);
  return folded;
}

}  // namespace parley::protocol
