#include "parley/common/duration.hpp"

#include <cmath>

#include "number.hpp"

namespace parley::common {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto parsed = detail::number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto [value, unit] = *parsed;
  double ms = 0;
  if (unit == "ms") {
    ms = value;
  } else if (unit.empty() || unit == "s") {
    ms = value * 1e3;
  } else if (unit == "m" || unit == "min") {
    ms = value * 60e3;
  } else if (unit == "h") {
    ms = value * 3600e3;
  } else {
    return std::nullopt;
  }
  if (ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::llround(ms)));
}

}  // namespace parley::common
