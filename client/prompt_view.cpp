#include "prompt_view.hpp"

namespace parley::client {

std::size_t text_columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) == 0x80 ? 0 : 1;
  return n;
}

void PromptView::set_width(std::size_t columns) {
  width_ = columns == 0 ? 80 : columns;
}

std::string PromptView::clear() {
  if (!drawn_) return "\r\x1b[K";
  drawn_ = false;
  const std::size_t row = cursor_column_ / width_;
  std::string out;
  if (row > 0) out += "\x1b[" + std::to_string(row) + "A";
  return out + "\r\x1b[J";
}

std::string PromptView::draw(std::string_view prompt, std::string_view line, std::size_t cursor) {
  std::string out = clear();
  const std::size_t total = text_columns(prompt) + text_columns(line);
  cursor_column_ = text_columns(prompt) + text_columns(line.substr(0, cursor));
  out.append(prompt).append(line);
  // A line that fills its last row exactly leaves the cursor in the margin; step onto the
  // next row so that where the cursor is never depends on the terminal.
  if (total > 0 && total % width_ == 0) out += "\r\n";
  const std::size_t end_row = total / width_;
  const std::size_t row = cursor_column_ / width_;
  const std::size_t column = cursor_column_ % width_;
  if (end_row > row) out += "\x1b[" + std::to_string(end_row - row) + "A";
  out += "\r";
  if (column > 0) out += "\x1b[" + std::to_string(column) + "C";
  drawn_ = true;
  return out;
}

}  // namespace parley::client
