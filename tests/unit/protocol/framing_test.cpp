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

TEST_CASE("the max_frame edge in one-byte chunks, with and without CR", "[framing]") {
  const std::string exact(10, 'x');
  for (const std::string& ending : {std::string("\n"), std::string("\r\n")}) {
    CAPTURE(ending.size());
    LineSplitter fits(10);
    const auto got = feed_in_chunks(fits, exact + ending + "y" + ending, 1);
    CHECK(got.status == SplitStatus::ok);
    CHECK(got.frames == std::vector<std::string>{exact, "y"});
    LineSplitter over(10);
    const auto refused = feed_in_chunks(over, "a" + ending + exact + "x" + ending, 1);
    CHECK(refused.status == SplitStatus::too_large);
    CHECK(refused.frames == std::vector<std::string>{"a"});
  }
  // Only one CR is the line end's: a second one is frame content and counts.
  LineSplitter two_crs(10);
  CHECK(feed_in_chunks(two_crs, std::string(9, 'x') + "\r\r\n", 1).frames ==
        std::vector<std::string>{std::string(9, 'x') + "\r"});
  LineSplitter two_crs_over(10);
  CHECK(feed_in_chunks(two_crs_over, exact + "\r\r\n", 1).status == SplitStatus::too_large);
}

TEST_CASE("an unfinished line over max_frame is refused at once, whatever the chunking",
          "[framing]") {
  // In one chunk with no newline at all, as a continuation of a buffered line, and after
  // complete frames in the same chunk (which are handed out first).
  LineSplitter alone(10);
  CHECK(alone.feed(std::string(11, 'x'), [](std::string_view) { return true; }) ==
        SplitStatus::too_large);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{4}, std::size_t{11}}) {
    CAPTURE(chunk);
    LineSplitter split(10);
    const auto got = feed_in_chunks(split, "ok\n" + std::string(11, 'x'), chunk);
    CHECK(got.status == SplitStatus::too_large);
    CHECK(got.frames == std::vector<std::string>{"ok"});
  }
  // The line is refused at its 11th byte: the splitter never holds more than it must.
  LineSplitter bounded(10);
  std::size_t fed = 0;
  SplitStatus status = SplitStatus::ok;
  while (status == SplitStatus::ok && fed < 1000) {
    status = bounded.feed("x", [](std::string_view) { return true; });
    ++fed;
  }
  CHECK(status == SplitStatus::too_large);
  CHECK(fed == 11);
  // max_frame bytes and a CR wait for a newline; a byte after the CR does not.
  LineSplitter waits(10);
  CHECK(feed_in_chunks(waits, std::string(10, 'x') + "\r", 1).status == SplitStatus::ok);
  CHECK(waits.feed("\r", [](std::string_view) { return true; }) == SplitStatus::too_large);
}

TEST_CASE("stopping discards the rest of the chunk and the buffered line", "[framing]") {
  // Stop on a frame completed from the buffered line (the first path through feed).
  LineSplitter from_partial(100);
  std::vector<std::string> seen;
  const auto collect_until = [&](std::string_view stop_at) {
    return [&seen, stop_at](std::string_view f) {
      seen.emplace_back(f);
      return f != stop_at;
    };
  };
  CHECK(from_partial.feed("ab", collect_until("ab")) == SplitStatus::ok);
  CHECK(from_partial.feed("\ncd\nef", collect_until("ab")) == SplitStatus::stopped);
  CHECK(seen == std::vector<std::string>{"ab"});
  CHECK(from_partial.buffered() == 0);
  CHECK(from_partial.take_unterminated().empty());
  // Stop in the middle of a chunk: the frames after and the unfinished tail are dropped.
  seen.clear();
  LineSplitter mid(100);
  CHECK(mid.feed("a\nb\nc\ntail", collect_until("b")) == SplitStatus::stopped);
  CHECK(seen == std::vector<std::string>{"a", "b"});
  CHECK(mid.buffered() == 0);
  // The splitter can go on with fresh input after a stop.
  seen.clear();
  CHECK(mid.feed("d\n", collect_until("")) == SplitStatus::ok);
  CHECK(seen == std::vector<std::string>{"d"});
  // Empty lines never reach the handler, so they cannot stop the split.
  LineSplitter empties(100);
  int calls = 0;
  const auto stop_at_once = [&](std::string_view) {
    ++calls;
    return false;
  };
  CHECK(empties.feed("\n\r\n\n", stop_at_once) == SplitStatus::ok);
  CHECK(calls == 0);
}

TEST_CASE("take_unterminated edges", "[framing]") {
  LineSplitter splitter(100);
  CHECK(splitter.take_unterminated().empty());
  CHECK(splitter.feed("done\n", [](std::string_view) { return true; }) == SplitStatus::ok);
  CHECK(splitter.take_unterminated().empty());
  CHECK(splitter.feed("\r", [](std::string_view) { return true; }) == SplitStatus::ok);
  CHECK(splitter.take_unterminated().empty());  // a lone CR is an empty line
  CHECK(splitter.feed("a\rb\r\r", [](std::string_view) { return true; }) == SplitStatus::ok);
  CHECK(splitter.take_unterminated() == "a\rb\r");  // only the last CR goes
  CHECK(splitter.buffered() == 0);
  CHECK(splitter.max_frame() == 100);
}

TEST_CASE("many frames in one chunk are handed out in place, in order", "[framing]") {
  std::string bytes;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    expected.push_back(
        std::string(static_cast<std::size_t>(i % 17 + 1), static_cast<char>('a' + i % 26)));
    bytes += expected.back() + (i % 3 == 0 ? "\r\n" : "\n") + (i % 5 == 0 ? "\n\r\n" : "");
  }
  LineSplitter splitter(17);
  std::vector<std::string> got;
  bool in_place = true;
  const auto status = splitter.feed(bytes, [&](std::string_view f) {
    in_place =
        in_place && f.data() >= bytes.data() && f.data() + f.size() <= bytes.data() + bytes.size();
    got.emplace_back(f);
    return true;
  });
  CHECK(status == SplitStatus::ok);
  CHECK(in_place);
  CHECK(got == expected);
  CHECK(splitter.buffered() == 0);
}
