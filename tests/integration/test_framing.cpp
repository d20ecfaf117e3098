// Line framing at its edges: max_frame exactly, CRLF, split and batched writes, EOF.
#include <catch2/catch.hpp>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

// A ping frame padded to exactly `size` bytes with an ignored field.
std::string ping_of_size(std::size_t size, const std::string& id) {
  const std::string head = R"({"op":"ping","id":")" + id + R"(","pad":")";
  const std::string tail = R"("})";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

}  // namespace

TEST_CASE("a frame of exactly max_frame bytes is accepted, with LF or CRLF", "[framing]") {
  ServerProcess server({{"--max-frame", "1024"}});
  LineClient c(server.port());
  c.send_raw(ping_of_size(1024, "lf") + "\n");
  c.expect({{"op", "pong"}, {"id", "lf"}});
  c.send_raw(ping_of_size(1024, "crlf") + "\r\n");
  c.expect({{"op", "pong"}, {"id", "crlf"}});
  // An unfinished line of max_frame bytes plus a '\r' may still end well.
  c.send_raw(ping_of_size(1024, "cr") + "\r");
  c.send_raw("\n");
  c.expect({{"op", "pong"}, {"id", "cr"}});  // no frame_too_large before it
}

TEST_CASE("one byte over max_frame is frame_too_large and closes", "[framing]") {
  ServerProcess server({{"--max-frame", "1024"}});
  SECTION("a complete line") {
    LineClient c(server.port());
    c.send_raw(ping_of_size(1025, "big") + "\n");
    const auto frames = c.read_until_closed();
    REQUIRE(!frames.empty());
    CHECK(matches(frames[0], {{"op", "error"}, {"code", "frame_too_large"}}));
    for (std::size_t i = 1; i < frames.size(); ++i) CHECK(frames[i]["op"] == "bye");
  }
  SECTION("an unfinished line is refused without waiting for its newline") {
    LineClient c(server.port());
    c.send_raw(std::string(1025, 'x'));
    const auto frames = c.read_until_closed();
    REQUIRE(!frames.empty());
    CHECK(matches(frames[0], {{"op", "error"}, {"code", "frame_too_large"}}));
  }
  SECTION("a line that never ends, sent in pieces") {
    LineClient c(server.port());
    for (int i = 0; i < 100 && !c.closed(); ++i) {
      try {
        c.send_raw(std::string(100, 'y'));
      } catch (const std::exception&) {
        break;  // the server closed on us: that is the point
      }
    }
    const auto frames = c.read_until_closed();
    REQUIRE(!frames.empty());
    CHECK(matches(frames[0], {{"op", "error"}, {"code", "frame_too_large"}}));
  }
}

TEST_CASE("a frame split into one-byte writes", "[framing]") {
  ServerProcess server;
  LineClient c(server.port());
  const std::string frame = R"({"op":"ping","id":"slow"})"
                            "\n";
  for (char ch : frame) c.send_raw(std::string(1, ch));
  c.expect({{"op", "pong"}, {"id", "slow"}});
}

TEST_CASE("thousands of frames in one write are answered in order", "[framing]") {
  ServerProcess server;
  LineClient c(server.port());
  std::string batch;
  for (int i = 0; i < 5000; ++i) batch += R"({"op":"ping","id":)" + std::to_string(i) + "}\n";
  c.send_raw(batch);
  for (int i = 0; i < 5000; ++i) c.expect({{"op", "pong"}, {"id", i}});
}

TEST_CASE("empty lines are ignored and CRLF is accepted", "[framing]") {
  ServerProcess server;
  LineClient c(server.port());
  c.send_raw("\n\r\n\n{\"op\":\"ping\",\"id\":1}\r\n\n");
  c.expect({{"op", "pong"}, {"id", 1}});
  c.expect_nothing();
}

TEST_CASE("frames sent before the client closes its side are all processed", "[framing]") {
  ServerProcess server;
  LineClient watcher(server.port());
  watcher.send({{"op", "sub"}, {"topic", "last"}, {"id", 1}});
  watcher.expect({{"op", "ok"}});
  LineClient c(server.port());
  c.send_raw(
      "{\"op\":\"pub\",\"topic\":\"last\",\"data\":1}\n{\"op\":\"ping\",\"id\":\"p1\"}\n{\"op\":"
      "\"ping\",\"id\":\"p2\"}");
  c.shutdown_write();
  const auto frames = c.read_until_closed();
  REQUIRE(frames.size() == 2);
  CHECK(matches(frames[0], {{"op", "pong"}, {"id", "p1"}}));
  CHECK(matches(frames[1], {{"op", "pong"}, {"id", "p2"}}));
  watcher.expect({{"op", "msg"}, {"data", 1}});
}
