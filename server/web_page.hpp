#pragma once
// The web chat page served at GET /: one self-contained HTML document compiled into the
// binary, so that no file is read from disk.
#include <string_view>

namespace parley::server {

std::string_view web_page();

}  // namespace parley::server
