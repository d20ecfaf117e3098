#include "password_prompt.hpp"

#include <unistd.h>

namespace parley::client {

std::optional<std::string> read_password(int fd) {
  std::string password;
  while (true) {
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return std::nullopt;
    switch (c) {
      case '\r':
      case '\n':
        return password;
      case 0x03:  // Ctrl-C
      case 0x04:  // Ctrl-D
        return std::nullopt;
      case 0x7f:  // Backspace
      case 0x08:
        // Whole UTF-8 characters: drop continuation bytes, then the lead byte.
        while (!password.empty() && (static_cast<unsigned char>(password.back()) & 0xC0U) == 0x80U)
          password.pop_back();
        if (!password.empty()) password.pop_back();
        break;
      case 0x15:  // Ctrl-U
        password.clear();
        break;
      default:
        password.push_back(c);
    }
  }
}

}  // namespace parley::client
