#include "parley/protocol/framing.hpp"

namespace parley::protocol {

std::string LineSplitter::take_unterminated() {
  std::string last = std::move(partial_);
  partial_ = std::string();
  if (!last.empty() && last.back() == '\r') last.pop_back();
  return last;
}

}  // namespace parley::protocol
