#pragma once
// How many terminal columns text takes, by the rules terminals follow (wcwidth's): East
// Asian wide and fullwidth characters and emoji take two, combining marks and zero-width
// characters none, everything else one. And where text ends up when it wraps, where a
// wide character that does not fit in a row's last column moves whole to the next row.
#include <cstddef>
#include <string_view>

namespace parley::client {

// Columns of one code point (0, 1 or 2); control characters count 1 (they are never drawn
// raw: the editor and the renderer escape them).
int char_columns(char32_t code_point);

// Columns of UTF-8 text (bytes that are not UTF-8 count one each).
std::size_t text_columns(std::string_view text);

// The cursor after printing `text` from the start of a row, `width` columns wide. `column`
// may equal `width`: the row is full and the next character starts a new one.
struct TextEnd {
  std::size_t row = 0;
  std::size_t column = 0;
};
TextEnd text_end(std::string_view text, std::size_t width);

}  // namespace parley::client
