#pragma once
// Draws the prompt and the line being typed on a terminal of a given width: a line longer
// than the terminal wraps onto more rows, and every redraw replaces exactly the rows the
// last one used, so no copy of the prompt is left behind. Wide characters (CJK, emoji) take
// two columns and move whole to the next row at the edge, as terminals draw them. No I/O:
// it returns the bytes.
#include <cstddef>
#include <string>
#include <string_view>

#include "text_width.hpp"

namespace parley::client {

class PromptView {
 public:
  // After a resize. Terminals that reflow wrapped lines (tmux, VTE, kitty, iTerm) move the
  // drawn rows with them, so the cursor's row is recomputed for the new width.
  void set_width(std::size_t columns);
  std::size_t width() const noexcept { return width_; }
  // Erases what draw() drew; the cursor ends at the start of its first row.
  std::string clear();
  // Erases the last drawing and draws `prompt` then `line`, the cursor at byte `cursor`.
  // A `status` line, when given, is drawn on its own row above the prompt, cut to fit one
  // row (so it never wraps).
  std::string draw(std::string_view prompt, std::string_view line, std::size_t cursor,
                   std::string_view status = {});
  // Forget the drawing (after the screen was cleared by other means).
  void forget() noexcept { drawn_ = false; }

 private:
  std::size_t width_ = 80;
  std::string before_cursor_;  // the prompt and the line up to the cursor, as last drawn
  std::string status_;         // the status row as last drawn (empty: none)
  bool drawn_ = false;
};

}  // namespace parley::client
