// LineSplitter fed arbitrary bytes in arbitrary chunkings: frames never hold a newline,
// never pass max_frame, and frames plus line ends give back the input (less CRs before
// newlines and empty lines) up to where the splitter stopped.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "parley/protocol/framing.hpp"

using parley::protocol::LineSplitter;
using parley::protocol::SplitStatus;

namespace {

// The frames a plain reading of the stream gives: split on '\n', drop one trailing '\r',
// skip empty lines.
std::vector<std::string> reference_frames(const std::string& stream, bool& complete_tail) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto newline = stream.find('\n', start);
    if (newline == std::string::npos) break;
    std::string line = stream.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
    start = newline + 1;
  }
  complete_tail = start == stream.size();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_frame = 1 + data[0] % 64;
  const std::size_t chunk = 1 + data[1] % 32;
  const std::string stream(reinterpret_cast<const char*>(data + 2), size - 2);

  LineSplitter splitter(max_frame);
  std::vector<std::string> frames;
  SplitStatus status = SplitStatus::ok;
  for (std::size_t at = 0; at < stream.size() && status == SplitStatus::ok; at += chunk) {
    status = splitter.feed(std::string_view(stream).substr(at, chunk), [&](std::string_view frame) {
      if (frame.find('\n') != std::string_view::npos || frame.size() > max_frame || frame.empty())
        std::abort();
      frames.emplace_back(frame);
      return true;
    });
  }
  bool complete_tail = false;
  const auto expected = reference_frames(stream, complete_tail);
  if (status == SplitStatus::ok) {
    // Every line fitted: exactly the reference frames.
    if (frames != expected) std::abort();
  } else {
    // Stopped at an oversize line: what came out is a prefix of the reference, and some
    // line (finished or not) really was too long.
    if (frames.size() > expected.size()) std::abort();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (frames[i] != expected[i]) std::abort();
    }
    bool oversize = false;
    std::size_t start = 0;
    while (start <= stream.size()) {
      auto newline = stream.find('\n', start);
      const bool finished = newline != std::string::npos;
      if (!finished) newline = stream.size();
      std::size_t length = newline - start;
      if (finished && length > 0 && stream[newline - 1] == '\r') --length;
      if (length > max_frame && (finished || length > max_frame + 1 || stream[newline - 1] != '\r'))
        oversize = true;
      if (!finished) break;
      start = newline + 1;
    }
    if (!oversize) std::abort();
  }
  return 0;
}
