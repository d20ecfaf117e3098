#pragma once
// Draws the prompt and the line being typed on a terminal of a given width: a line longer
// than the terminal wraps onto more rows, and every redraw replaces exactly the rows the
// last one used, so no copy of the prompt is left behind. No I/O: it returns the bytes.
#include <cstddef>
#include <string>
#include <string_view>

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
  std::string draw(std::string_view prompt, std::string_view line, std::size_t cursor);
  // Forget the drawing (after the screen was cleared by other means).
  void forget() noexcept { drawn_ = false; }

 private:
  std::size_t width_ = 80;
  std::size_t cursor_column_ = 0;  // columns from the start of the prompt to the cursor
  bool drawn_ = false;
};

// Columns a string takes, counting code points (wide characters are rare in chat).
std::size_t text_columns(std::string_view text);

}  // namespace parley::client
