#pragma once
// Sets up spdlog for the server: text for people, or one JSON object per line for
// log collectors.
#include <string_view>

namespace parley::server {

// level: trace..off; format: "text" or "json". Logs go to stderr.
void setup_logging(std::string_view level, std::string_view format);

}  // namespace parley::server
