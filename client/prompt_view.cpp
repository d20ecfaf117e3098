#include "prompt_view.hpp"

namespace parley::client {
namespace {

// Where the cursor is after `text`, with a full row's pending wrap taken as the start of
// the next row (where the next character will go).
TextEnd cursor_after(std::string_view text, std::size_t width) {
  TextEnd end = text_end(text, width);
  if (end.column == width && end.column > 0) {
    ++end.row;
    end.column = 0;
  }
  return end;
}

// The longest prefix of `text` (whole characters) that takes fewer than `width` columns.
std::string_view fit_row(std::string_view text, std::size_t width) {
  std::size_t cut = text.size();
  while (cut > 0 && text_columns(text.substr(0, cut)) >= width) {
    --cut;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  }
  return text.substr(0, cut);
}

}  // namespace

void PromptView::set_width(std::size_t columns) {
  width_ = columns == 0 ? 80 : columns;
}

std::string PromptView::clear() {
  if (!drawn_) return "\r\x1b[K";
  drawn_ = false;
  // Laid out again at today's width: the terminal has reflowed the rows after a resize.
  // The status row was cut to the old width; a narrower terminal has reflowed it too.
  const std::size_t status_rows = status_.empty() ? 0 : text_end(status_, width_).row + 1;
  const std::size_t row = cursor_after(before_cursor_, width_).row + status_rows;
  std::string out;
  if (row > 0) out += "\x1b[" + std::to_string(row) + "A";
  return out + "\r\x1b[J";
}

std::string PromptView::draw(std::string_view prompt, std::string_view line, std::size_t cursor,
                             std::string_view status) {
  std::string out = clear();
  status_ = fit_row(status, width_);
  if (!status_.empty()) {
    // Reverse video, as a status bar; cut so that it never wraps.
    out.append("\x1b[7m").append(status_).append("\x1b[0m\r\n");
  }
  std::string all(prompt);
  all.append(line);
  before_cursor_.assign(all, 0, prompt.size() + cursor);
  out += all;
  const TextEnd drawn = text_end(all, width_);
  // A line that fills its last row exactly leaves the cursor in the margin; step onto the
  // next row so that where the cursor is never depends on the terminal.
  if (drawn.column == width_) out += "\r\n";
  const std::size_t end_row = cursor_after(all, width_).row;
  const TextEnd at = cursor_after(before_cursor_, width_);
  if (end_row > at.row) out += "\x1b[" + std::to_string(end_row - at.row) + "A";
  out += "\r";
  if (at.column > 0) out += "\x1b[" + std::to_string(at.column) + "C";
  drawn_ = true;
  return out;
}

}  // namespace parley::client
