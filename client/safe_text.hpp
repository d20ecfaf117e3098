#pragma once
// Text from other people made safe for a terminal: nothing they send may move the cursor,
// recolour, retitle, ring, reverse the text or forge a line of its own.
#include <string>
#include <string_view>

namespace parley::client {

// Control characters (C0 but newline, DEL, C1), bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) and bytes that are not UTF-8 are
// written visibly as escapes ("\x1b", "\u202e", "\xff"); a backslash stays as it is.
// A newline ("\n" or "\r\n") becomes a newline followed by `continuation`, so that every
// line after the first is visibly indented and cannot pass for a line of its own.
std::string safe_text(std::string_view text, std::string_view continuation = "\n    ");

}  // namespace parley::client
