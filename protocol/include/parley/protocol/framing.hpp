#pragma once
// Splits a byte stream into newline-ended frames, enforcing max_frame on unfinished lines.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace parley::protocol {

// What a frame handler asks of the splitter after a frame.
enum class FrameAction {
  next,   // hand out the next frame
  pause,  // keep the rest for resume()
  stop,   // discard the rest
};

enum class SplitStatus {
  ok,         // every complete frame was handed out; a partial line may be buffered
  too_large,  // a frame (finished or not) passed max_frame: the connection must close
  stopped,    // the frame handler asked to stop; unprocessed bytes were discarded
  paused,     // the frame handler asked to pause: the unprocessed bytes are kept
};

// Frames are handed out without their line end ("\n" or "\r\n"); empty lines are skipped.
// Complete frames inside a fed chunk are handed out in place, without copying; only the
// unfinished tail is kept between calls, so an idle splitter owns no memory.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_frame) : max_frame_(max_frame) {}

  // on_frame(std::string_view) returns bool (false stops the split) or a FrameAction.
  // On `pause`, the bytes of `chunk` after that frame are copied and kept, and the result
  // is `paused`: the caller yields to others and calls resume() before feeding anything
  // new. This is how one connection's burst is handled in bounded slices.
  template <class OnFrame>
  SplitStatus feed(std::string_view chunk, OnFrame&& on_frame);
  // Goes on with the bytes a paused feed kept. They were copied once, when first kept: a
  // further pause only moves a cursor over them.
  template <class OnFrame>
  SplitStatus resume(OnFrame&& on_frame) {
    resuming_ = true;
    const SplitStatus status = feed(std::string_view(pending_).substr(pending_from_), on_frame);
    resuming_ = false;
    if (status != SplitStatus::paused) {
      pending_from_ = 0;
      pending_.clear();
      if (pending_.capacity() > kKeepCapacity) std::string().swap(pending_);
    }
    return status;
  }
  bool paused() const noexcept { return !pending_.empty(); }

  // At end of stream: the unterminated last line (without a trailing "\r"), then cleared.
  std::string take_unterminated();

  // Bytes held: the unfinished line and what a paused feed kept.
  std::size_t buffered() const noexcept { return partial_.size() + pending_.size(); }
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

  template <class OnFrame>
  static FrameAction call(OnFrame& on_frame, std::string_view line) {
    if constexpr (std::is_same_v<decltype(on_frame(line)), bool>) {
      return on_frame(line) ? FrameAction::next : FrameAction::stop;
    } else {
      return on_frame(line);
    }
  }

  static constexpr std::size_t kKeepCapacity = 256;
  std::size_t max_frame_;
  std::string partial_;
  std::string pending_;  // input a paused feed has not handed out yet, from pending_from_
  std::size_t pending_from_ = 0;
  bool resuming_ = false;  // feed() is reading from pending_ itself
};

template <class OnFrame>
SplitStatus LineSplitter::feed(std::string_view chunk, OnFrame&& on_frame) {
  // Acts on a handler's answer: a status to return, or none to go on.
  const auto after = [&](FrameAction action) -> std::optional<SplitStatus> {
    if (action == FrameAction::stop) return SplitStatus::stopped;
    if (action == FrameAction::pause && !chunk.empty()) {
      if (resuming_) {
        pending_from_ = pending_.size() - chunk.size();  // `chunk` is the tail of pending_
      } else {
        pending_.assign(chunk);
        pending_from_ = 0;
      }
      return SplitStatus::paused;
    }
    return std::nullopt;
  };
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
    const FrameAction action = line.empty() ? FrameAction::next : call(on_frame, line);
    release_partial();
    if (const auto status = after(action)) return *status;
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
    if (line.empty()) continue;
    if (const auto status = after(call(on_frame, line))) return *status;
  }
  return SplitStatus::ok;
}

}  // namespace parley::protocol
