#include "parley/common/size.hpp"

#include <cmath>

#include "number.hpp"

namespace parley::common {

std::optional<std::size_t> parse_size(std::string_view text) {
  const auto parsed = detail::number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto [value, unit] = *parsed;
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},     {"B", 1},    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
      {"KB", 1e3}, {"kB", 1e3}, {"MB", 1e6},     {"GB", 1e9}};
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      const double bytes = value * u.factor;
      if (bytes > 1e15 || bytes != std::floor(bytes)) return std::nullopt;
      return static_cast<std::size_t>(bytes);
    }
  }
  return std::nullopt;
}

}  // namespace parley::common
