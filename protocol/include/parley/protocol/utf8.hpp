#pragma once
// UTF-8 well-formedness per RFC 3629 (no overlong forms, no surrogates, nothing past
// U+10FFFF): the one validator the JSON scanner and the WebSocket reader share.
#include <cstddef>
#include <string_view>

namespace parley::protocol {

// The length (2 to 4) of the well-formed sequence that starts at `p`, whose lead byte is
// not ASCII, reading at most `available` bytes; 0 when it is not well-formed.
std::size_t utf8_sequence_length(const char* p, std::size_t available) noexcept;

// True when all of `text` is well-formed UTF-8.
bool valid_utf8(std::string_view text) noexcept;

}  // namespace parley::protocol
