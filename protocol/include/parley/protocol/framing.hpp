#pragma once
// Splits a byte stream into newline-ended frames, enforcing max_frame on unfinished lines.
#include <cstddef>
#include <string>
#include <string_view>

namespace parley::protocol {

enum class SplitStatus {
  ok,         // every complete frame was handed out; a partial line may be buffered
  too_large,  // a frame (finished or not) passed max_frame: the connection must close
  stopped,    // the frame handler asked to stop; unprocessed bytes were discarded
};

// Frames are handed out without their line end ("\n" or "\r\n"); empty lines are skipped.
// Complete frames inside a fed chunk are handed out in place, without copying; only the
// unfinished tail is kept between calls, so an idle splitter owns no memory.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_frame) : max_frame_(max_frame) {}

  // on_frame(std::string_view) -> bool: false stops the split.
  template <class OnFrame>
  SplitStatus feed(std::string_view chunk, OnFrame&& on_frame);

  // At end of stream: the unterminated last line (without a trailing "\r"), then cleared.
  std::string take_unterminated();

  std::size_t buffered() const noexcept { return partial_.size(); }
  std::size_t max_frame() const noexcept { return max_frame_; }

 private:
  static std::string_view strip_cr(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }
  // An unfinished line may end in a "\r" that a following "\n" will drop.
  bool unfinished_too_long(std::string_view tail) const noexcept {
    if (tail.size() <= max_frame_) return false;
    return tail.size() > max_frame_ + 1 || tail.back() != '\r';
  }
  void release_partial() {
    partial_.clear();
    if (partial_.capacity() > kKeepCapacity) std::string().swap(partial_);
  }

  static constexpr std::size_t kKeepCapacity = 256;
  std::size_t max_frame_;
  std::string partial_;
};

template <class OnFrame>
SplitStatus LineSplitter::feed(std::string_view chunk, OnFrame&& on_frame) {
  if (!partial_.empty()) {
    const auto newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(chunk);
      return unfinished_too_long(partial_) ? SplitStatus::too_large : SplitStatus::ok;
    }
    partial_.append(chunk.substr(0, newline));
    chunk.remove_prefix(newline + 1);
    const auto line = strip_cr(partial_);
    if (line.size() > max_frame_) return SplitStatus::too_large;
    const bool go_on = line.empty() || on_frame(line);
    release_partial();
    if (!go_on) return SplitStatus::stopped;
  }
  while (!chunk.empty()) {
    const auto newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      if (unfinished_too_long(chunk)) return SplitStatus::too_large;
      partial_.assign(chunk);
      return SplitStatus::ok;
    }
    const auto line = strip_cr(chunk.substr(0, newline));
    chunk.remove_prefix(newline + 1);
    if (line.size() > max_frame_) return SplitStatus::too_large;
    if (!line.empty() && !on_frame(line)) return SplitStatus::stopped;
  }
  return SplitStatus::ok;
}

}  // namespace parley::protocol
