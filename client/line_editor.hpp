#pragma once
// A small line editor for the chat prompt: fed raw terminal bytes, it keeps the half-typed
// line, the cursor and the history, and says what the bytes meant. No I/O, so it is
// unit-tested alone.
#include <deque>
#include <string>
#include <string_view>

namespace parley::client {

class LineEditor {
 public:
  enum class Event { none, submit, end_of_input, interrupt, redraw_screen, complete };

  // Feeds one byte; after `submit`, take_line() returns the line.
  Event feed(char byte);
  std::string take_line();

  const std::string& line() const noexcept { return line_; }
  std::size_t cursor() const noexcept { return cursor_; }
  // The word being typed at the cursor (after `complete`), and its replacement: the
  // word becomes `word`, with a space after it when `finished`.
  std::string_view word_at_cursor() const;
  void replace_word(std::string_view word, bool finished);

 private:
  Event escape(char byte);
  void insert(char byte);
  void erase_before();
  void erase_at();
  void erase_word_before();
  void erase_word_after();
  void word_left();
  void word_right();
  void left();
  void right();
  void recall(int direction);

  std::string line_;
  std::size_t cursor_ = 0;  // byte offset, always on a UTF-8 boundary
  std::deque<std::string> history_;
  std::size_t recalled_ = 0;  // index into history_; == size() means the line being typed
  std::string draft_;         // the line being typed while history is browsed
  std::string sequence_;      // an escape sequence in progress
};

}  // namespace parley::client
