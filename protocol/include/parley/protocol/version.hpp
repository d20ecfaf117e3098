#pragma once
#include <cstddef>
#include <string_view>

#include "parley/protocol/build_version.hpp"

namespace parley::protocol {

inline constexpr int kProtocolVersion = 1;
inline constexpr int kMaxJsonDepth = 128;
inline constexpr int kMaxHistoryLimit = 1000;
inline constexpr int kDefaultHistoryLimit = 50;
inline constexpr int kMaxTopicsLimit = 1000;  // `topics` limit: 1..1000, the default too
inline constexpr std::size_t kMinReplyMessageBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t kDefaultMaxFrame = 65536;
inline constexpr unsigned short kDefaultPort = 7878;

}  // namespace parley::protocol
