#include "line_editor.hpp"

namespace parley::client {
namespace {

constexpr std::size_t kHistoryLines = 500;

bool is_continuation(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

bool is_space(char byte) {
  return byte == ' ';
}

}  // namespace

LineEditor::Event LineEditor::feed(char byte) {
  if (!sequence_.empty()) return escape(byte);
  switch (byte) {
    case '\r':
    case '\n':
      return Event::submit;
    case 3:  // Ctrl-C
      return Event::interrupt;
    case 4:  // Ctrl-D: end of input on an empty line, else delete under the cursor
      if (line_.empty()) return Event::end_of_input;
      erase_at();
      return Event::none;
    case 1:  // Ctrl-A
      cursor_ = 0;
      return Event::none;
    case 5:  // Ctrl-E
      cursor_ = line_.size();
      return Event::none;
    case 2:  // Ctrl-B
      left();
      return Event::none;
    case 6:  // Ctrl-F
      right();
      return Event::none;
    case 11:  // Ctrl-K
      line_.erase(cursor_);
      return Event::none;
    case 21:  // Ctrl-U
      line_.erase(0, cursor_);
      cursor_ = 0;
      return Event::none;
    case 23:  // Ctrl-W
      erase_word_before();
      return Event::none;
    case 12:  // Ctrl-L
      return Event::redraw_screen;
    case 9:  // Tab
      return Event::complete;
    case 8:
    case 127:
      erase_before();
      return Event::none;
    case 27:
      sequence_ = "\x1b";
      return Event::none;
    default:
      if (static_cast<unsigned char>(byte) >= 0x20) insert(byte);
      return Event::none;
  }
}

LineEditor::Event LineEditor::escape(char byte) {
  sequence_.push_back(byte);
  if (sequence_.size() == 2) {
    if (byte == '[' || byte == 'O') return Event::none;
    sequence_.clear();
    // Alt (Meta) sends ESC before the key: the word motions of readline and Emacs.
    if (byte == 'b' || byte == 'B') word_left();
    if (byte == 'f' || byte == 'F') word_right();
    if (byte == 'd' || byte == 'D') erase_word_after();
    if (byte == 127 || byte == 8) erase_word_before();
    return Event::none;
  }
  if ((byte >= '0' && byte <= '9') || byte == ';') {
    if (sequence_.size() > 6) sequence_.clear();
    return Event::none;
  }
  const std::string seq = sequence_;
  sequence_.clear();
  if (seq == "\x1b[A" || seq == "\x1bOA") recall(-1);
  if (seq == "\x1b[B" || seq == "\x1bOB") recall(+1);
  if (seq == "\x1b[C" || seq == "\x1bOC") right();
  if (seq == "\x1b[D" || seq == "\x1bOD") left();
  if (seq == "\x1b[H" || seq == "\x1bOH" || seq == "\x1b[1~" || seq == "\x1b[7~") cursor_ = 0;
  if (seq == "\x1b[F" || seq == "\x1bOF" || seq == "\x1b[4~" || seq == "\x1b[8~")
    cursor_ = line_.size();
  if (seq == "\x1b[3~") erase_at();
  if (seq == "\x1b[1;5D" || seq == "\x1b[1;3D") word_left();   // Ctrl/Alt-Left
  if (seq == "\x1b[1;5C" || seq == "\x1b[1;3C") word_right();  // Ctrl/Alt-Right
  return Event::none;
}

std::string LineEditor::take_line() {
  std::string line = std::move(line_);
  line_.clear();
  cursor_ = 0;
  draft_.clear();
  if (!line.empty() && (history_.empty() || history_.back() != line)) {
    history_.push_back(line);
    if (history_.size() > kHistoryLines) history_.pop_front();
  }
  recalled_ = history_.size();
  return line;
}

std::string_view LineEditor::word_at_cursor() const {
  std::size_t start = cursor_;
  while (start > 0 && !is_space(line_[start - 1])) --start;
  return std::string_view(line_).substr(start, cursor_ - start);
}

void LineEditor::replace_word(std::string_view word, bool finished) {
  const std::size_t start = cursor_ - word_at_cursor().size();
  std::string replacement(word);
  if (finished) replacement.push_back(' ');
  line_.replace(start, cursor_ - start, replacement);
  cursor_ = start + replacement.size();
}

void LineEditor::insert(char byte) {
  line_.insert(line_.begin() + static_cast<std::ptrdiff_t>(cursor_), byte);
  ++cursor_;
}

void LineEditor::left() {
  while (cursor_ > 0) {
    --cursor_;
    if (!is_continuation(line_[cursor_])) break;
  }
}

void LineEditor::right() {
  while (cursor_ < line_.size()) {
    ++cursor_;
    if (cursor_ == line_.size() || !is_continuation(line_[cursor_])) break;
  }
}

void LineEditor::erase_before() {
  const std::size_t end = cursor_;
  left();
  line_.erase(cursor_, end - cursor_);
}

void LineEditor::erase_at() {
  const std::size_t start = cursor_;
  right();
  line_.erase(start, cursor_ - start);
  cursor_ = start;
}

void LineEditor::erase_word_before() {
  const std::size_t end = cursor_;
  word_left();
  line_.erase(cursor_, end - cursor_);
}

void LineEditor::word_left() {
  while (cursor_ > 0 && is_space(line_[cursor_ - 1])) --cursor_;
  while (cursor_ > 0 && !is_space(line_[cursor_ - 1])) --cursor_;
}

void LineEditor::word_right() {
  while (cursor_ < line_.size() && is_space(line_[cursor_])) ++cursor_;
  while (cursor_ < line_.size() && !is_space(line_[cursor_])) ++cursor_;
}

void LineEditor::erase_word_after() {
  const std::size_t start = cursor_;
  word_right();
  line_.erase(start, cursor_ - start);
  cursor_ = start;
}

void LineEditor::recall(int direction) {
  if (history_.empty()) return;
  if (recalled_ == history_.size()) draft_ = line_;
  if (direction < 0 && recalled_ > 0) --recalled_;
  if (direction > 0 && recalled_ < history_.size()) ++recalled_;
  line_ = recalled_ == history_.size() ? draft_ : history_[recalled_];
  cursor_ = line_.size();
}

}  // namespace parley::client
