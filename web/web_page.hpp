#pragma once
// The web chat page served at GET /: web/index.html, embedded at build time
// (cmake/embed_web_page.cmake). No I/O: the bytes are in the binary.
#include <string_view>

namespace parley::server {

// The page's exact bytes (UTF-8 HTML), valid for the life of the program.
std::string_view web_page();

}  // namespace parley::server
