#pragma once
// The chat's password prompt: asked once, before the chat starts, when the server refused
// the sign-in and no password was given. The terminal is already in raw mode (no echo),
// so typed characters are never shown.
#include <optional>
#include <string>

namespace parley::client {

// Reads one line of a password from `fd` in raw mode: Enter ends it, Backspace deletes,
// Ctrl-U clears; Ctrl-C, Ctrl-D or the end of input give nothing (the user gave up).
// Blocking: it runs before the chat's event loop has anything else to do.
std::optional<std::string> read_password(int fd);

}  // namespace parley::client
