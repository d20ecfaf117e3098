#include "line_editor.hpp"

namespace parley::client {
namespace {

constexpr std::size_t kHistoryLines = 500;

bool is_continuation(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

// Columns a string takes, counting code points (wide characters are rare in chat).
std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += is_continuation(c) ? 0 : 1;
  return n;
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
    if (byte != '[' && byte != 'O') sequence_.clear();  // a lone escape: ignored
    return Event::none;
  }
  if (byte >= '0' && byte <= '9') {
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

std::string LineEditor::render(std::string_view prompt) const {
  std::string out = "\r\x1b[K";
  out.append(prompt).append(line_);
  const std::size_t back = columns(std::string_view(line_).substr(cursor_));
  if (back > 0) out += "\x1b[" + std::to_string(back) + "D";
  return out;
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
  std::size_t start = cursor_;
  while (start > 0 && line_[start - 1] == ' ') --start;
  while (start > 0 && line_[start - 1] != ' ') --start;
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
