// LineSplitter fed arbitrary bytes in arbitrary chunkings. Input layout: max_frame, the
// frame after which the handler stops (0 never), a count of chunk sizes and the sizes
// (used in turn), then the stream. Checked against a plain reading of the stream: frames
// never hold a newline, never pass max_frame, and frames joined by newlines give back the
// stream less CRs before newlines and empty lines, up to where the split ended, which must
// be the first oversize line, the requested stop, or the end (with the right tail kept).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/framing.hpp"

using parley::protocol::LineSplitter;
using parley::protocol::SplitStatus;

namespace {

[[noreturn]] void fail() {
  std::abort();
}

struct Reference {
  std::vector<std::string> frames;  // non-empty lines, one trailing CR dropped
  std::size_t first_oversize = 0;   // index in `frames` where an oversize line stands
  bool oversize = false;            // some line (finished or not) passes max_frame
  std::string tail;                 // the unterminated last line, one trailing CR dropped
};

Reference read_plainly(std::string_view stream, std::size_t max_frame) {
  Reference ref;
  while (true) {
    const auto newline = stream.find('\n');
    const bool finished = newline != std::string_view::npos;
    std::string_view line = stream.substr(0, newline);
    // An unfinished line may still lose one CR to a newline that has not come yet.
    const std::size_t allowed = finished ? max_frame : max_frame + (line.ends_with('\r') ? 1 : 0);
    if (finished && line.ends_with('\r')) line.remove_suffix(1);
    if (!ref.oversize && line.size() > allowed) {
      ref.oversize = true;
      ref.first_oversize = ref.frames.size();
    }
    if (!finished) {
      if (line.ends_with('\r')) line.remove_suffix(1);
      ref.tail = line;
      return ref;
    }
    if (!line.empty()) ref.frames.emplace_back(line);
    stream.remove_prefix(newline + 1);
  }
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  std::string_view rest() const {
    return at_ < size_ ? std::string_view(reinterpret_cast<const char*>(data_) + at_, size_ - at_)
                       : std::string_view();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const std::size_t max_frame = in.next() % 65;  // 0 included: every frame is too large
  const std::size_t stop_after = in.next() % 8;
  std::vector<std::size_t> chunk_sizes(1 + in.next() % 8);
  for (auto& chunk : chunk_sizes) chunk = 1 + in.next() % 80;
  const std::string_view stream = in.rest();

  LineSplitter splitter(max_frame);
  std::vector<std::string> frames;
  SplitStatus status = SplitStatus::ok;
  std::size_t at = 0;
  for (std::size_t turn = 0; at < stream.size() && status == SplitStatus::ok; ++turn) {
    const std::size_t chunk = chunk_sizes[turn % chunk_sizes.size()];
    status = splitter.feed(stream.substr(at, chunk), [&](std::string_view frame) {
      if (frame.empty() || frame.size() > max_frame || frame.find('\n') != std::string_view::npos)
        fail();
      frames.emplace_back(frame);
      return frames.size() != stop_after;
    });
    at += chunk;
    // Between calls the splitter holds at most one unfinished line (and its CR).
    if (status == SplitStatus::ok && splitter.buffered() > max_frame + 1) fail();
  }

  const Reference ref = read_plainly(stream, max_frame);
  // Whatever ended the split, what came out is the reference's frames, in order.
  if (frames.size() > ref.frames.size()) fail();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i] != ref.frames[i]) fail();
  }
  const std::size_t limit = ref.oversize ? ref.first_oversize : ref.frames.size();
  switch (status) {
    case SplitStatus::paused:  // this target never asks to pause
      fail();
      break;
    case SplitStatus::stopped:
      if (frames.size() != stop_after || stop_after > limit) fail();
      if (splitter.buffered() != 0) fail();  // the rest of the chunk is dropped
      break;
    case SplitStatus::too_large:
      // Refused at the first oversize line, not before and not after it.
      if (!ref.oversize || frames.size() != ref.first_oversize) fail();
      if (stop_after != 0 && stop_after <= ref.first_oversize) fail();
      break;
    case SplitStatus::ok:
      if (ref.oversize || frames.size() != ref.frames.size()) fail();
      if (stop_after != 0 && stop_after <= ref.frames.size()) fail();
      if (splitter.take_unterminated() != ref.tail || splitter.buffered() != 0) fail();
      break;
  }
  return 0;
}
