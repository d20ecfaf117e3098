#pragma once
#include <string_view>

#include "parley/protocol/build_version.hpp"

namespace parley::protocol {

inline constexpr int kProtocolVersion = 1;
inline constexpr int kMaxJsonDepth = 128;
inline constexpr int kMaxHistoryLimit = 1000;
inline constexpr int kDefaultHistoryLimit = 50;
inline constexpr std::size_t kDefaultMaxFrame = 65536;
inline constexpr unsigned short kDefaultPort = 7878;

}  // namespace parley::protocol
