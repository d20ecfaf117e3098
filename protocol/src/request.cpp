#include "parley/protocol/request.hpp"

#include <array>

namespace parley::protocol {
namespace {

constexpr std::array<std::string_view, 14> kOpNames{
    "hello", "sub",    "unsub",   "pub",   "join", "leave", "tell",
    "who",   "topics", "history", "stats", "ping", "pong",  "quit",
};

}  // namespace

std::string_view to_string(Op op) noexcept {
  return kOpNames[static_cast<std::size_t>(op)];
}

std::optional<Op> op_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return static_cast<Op>(i);
  }
  return std::nullopt;
}

}  // namespace parley::protocol
