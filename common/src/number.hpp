#pragma once
// The number-then-unit shape that durations and sizes share.
#include <optional>
#include <string_view>
#include <utility>

namespace parley::common::detail {

// Splits "1.5 KiB" into 1.5 and "KiB" (spaces between allowed). Empty when the text does
// not start with a finite, non-negative decimal number.
std::optional<std::pair<double, std::string_view>> number_and_unit(std::string_view text);

}  // namespace parley::common::detail
