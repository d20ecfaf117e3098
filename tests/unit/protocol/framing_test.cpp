// LineSplitter: max_frame at its edges, CR handling, chunking and stopping.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/framing.hpp"

using namespace parley::protocol;

namespace {

struct Collected {
  std::vector<std::string> frames;
  SplitStatus status = SplitStatus::ok;
};

Collected feed_in_chunks(LineSplitter& splitter, const std::string& bytes, std::size_t chunk) {
  Collected out;
  for (std::size_t at = 0; at < bytes.size() && out.status == SplitStatus::ok; at += chunk) {
    out.status = splitter.feed(std::string_view(bytes).substr(at, chunk), [&](std::string_view f) {
      out.frames.emplace_back(f);
      return true;
    });
  }
  return out;
}

}  // namespace

TEST_CASE("frames split on LF, CR before LF dropped, empty lines skipped", "[framing]") {
  LineSplitter splitter(100);
  const auto got = feed_in_chunks(splitter, "a\r\nb\n\n\r\nc\rd\n", 1000);
  CHECK(got.status == SplitStatus::ok);
  CHECK(got.frames == std::vector<std::string>{"a", "b", "c\rd"});
  CHECK(splitter.buffered() == 0);
}

TEST_CASE("any chunking gives the same frames", "[framing]") {
  const std::string stream = "{\"op\":\"ping\"}\n\r\nsecond line\r\nthird\n";
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    CAPTURE(chunk);
    LineSplitter splitter(64);
    const auto got = feed_in_chunks(splitter, stream, chunk);
    CHECK(got.frames == std::vector<std::string>{"{\"op\":\"ping\"}", "second line", "third"});
  }
}

TEST_CASE("max_frame exactly is fine, one more byte is too large", "[framing]") {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    CAPTURE(chunk);
    LineSplitter ok(10);
    CHECK(feed_in_chunks(ok, std::string(10, 'x') + "\n", chunk).frames.size() == 1);
    LineSplitter ok_crlf(10);
    CHECK(feed_in_chunks(ok_crlf, std::string(10, 'x') + "\r\n", chunk).frames.size() == 1);
    LineSplitter over(10);
    CHECK(feed_in_chunks(over, std::string(11, 'x') + "\n", chunk).status ==
          SplitStatus::too_large);
  }
}

TEST_CASE("an unfinished line over max_frame is refused without its newline", "[framing]") {
  LineSplitter splitter(10);
  CHECK(feed_in_chunks(splitter, std::string(10, 'x'), 3).status == SplitStatus::ok);
  CHECK(splitter.feed("y", [](std::string_view) { return true; }) == SplitStatus::too_large);
  LineSplitter with_cr(10);
  // max_frame bytes plus a '\r' may still end with '\n'.
  CHECK(feed_in_chunks(with_cr, std::string(10, 'x') + "\r", 4).status == SplitStatus::ok);
  CHECK(with_cr.feed("\n", [](std::string_view) { return true; }) == SplitStatus::ok);
  LineSplitter cr_then_more(10);
  CHECK(feed_in_chunks(cr_then_more, std::string(10, 'x') + "\rz", 100).status ==
        SplitStatus::too_large);
}

TEST_CASE("the handler can stop the split", "[framing]") {
  LineSplitter splitter(100);
  int seen = 0;
  const auto status = splitter.feed("a\nb\nc\n", [&](std::string_view) { return ++seen < 2; });
  CHECK(status == SplitStatus::stopped);
  CHECK(seen == 2);
}

TEST_CASE("the unterminated tail is kept and handed out at the end", "[framing]") {
  LineSplitter splitter(100);
  const auto got = feed_in_chunks(splitter, "one\ntwo-part", 4);
  CHECK(got.frames == std::vector<std::string>{"one"});
  CHECK(splitter.buffered() == 8);
  CHECK(splitter.take_unterminated() == "two-part");
  CHECK(splitter.buffered() == 0);
  LineSplitter cr(100);
  cr.feed("x\r", [](std::string_view) { return true; });
  CHECK(cr.take_unterminated() == "x");
}

TEST_CASE("thousands of frames in one chunk", "[framing]") {
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += "frame" + std::to_string(i) + "\n";
  LineSplitter splitter(64);
  const auto got = feed_in_chunks(splitter, bytes, bytes.size());
  REQUIRE(got.frames.size() == 5000);
  CHECK(got.frames.back() == "frame4999");
}
