// Hostile and malformed input: every fault gets its error code, the connection stays
// usable where the protocol says so, and nobody else notices.
#include <catch2/catch.hpp>
#include <random>

#include "line_client.hpp"
#include "server_process.hpp"

using namespace parley::test;

namespace {

json error_for(LineClient& c, std::string_view raw_frame) {
  c.send_raw(std::string(raw_frame) + "\n");
  return c.expect({{"op", "error"}});
}

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

TEST_CASE("malformed JSON is bad_json and the connection stays open", "[errors]") {
  ServerProcess server;
  LineClient c(server.port());
  for (const std::string_view frame :
       {"{", "not json", "{\"op\":\"ping\",}", "[1,2]", "42", "\"op\"", "null", "true",
        "{\"op\":\"ping\"} trailing", "   "}) {
    CAPTURE(frame);
    const json e = error_for(c, frame);
    CHECK(e["code"] == "bad_json");
    CHECK(e["message"].is_string());
    CHECK_FALSE(e.contains("id"));
  }
  c.expect_nothing();
}

TEST_CASE("invalid UTF-8 is bad_json", "[errors]") {
  ServerProcess server;
  LineClient c(server.port());
  CHECK(error_for(c, "{\"op\":\"pub\",\"topic\":\"t\",\"data\":\"\xff\xfe\"}")["code"] ==
        "bad_json");
  CHECK(error_for(c, "{\"op\":\"pub\",\"topic\":\"t\",\"data\":\"\xc3\"}")["code"] == "bad_json");
  CHECK(error_for(c, "{\"op\":\"pub\",\"topic\":\"t\",\"data\":\"\xed\xa0\x80\"}")["code"] ==
        "bad_json");
  c.expect_nothing();
}

TEST_CASE("nesting: 128 levels are fine, 129 are bad_json", "[errors]") {
  ServerProcess server;
  LineClient c(server.port());
  // The frame's own object is level 1, so data may nest 127 deep.
  c.send_raw("{\"op\":\"pub\",\"topic\":\"deep\",\"data\":" + nested(127) + ",\"id\":1}\n");
  c.expect({{"op", "ok"}, {"id", 1}});
  c.send_raw("{\"op\":\"pub\",\"topic\":\"deep\",\"data\":" + nested(128) + ",\"id\":2}\n");
  c.expect({{"op", "error"}, {"code", "bad_json"}});
  c.send_raw(nested(30000) + "\n");  // far deeper than any parser stack should go
  c.expect({{"op", "error"}, {"code", "bad_json"}});
  c.expect_nothing();
}

TEST_CASE("op and id faults", "[errors]") {
  ServerProcess server;
  LineClient c(server.port());
  c.send({{"id", 1}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 1}});
  c.send({{"op", 7}, {"id", "x"}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", "x"}});
  c.send({{"op", "teleport"}, {"id", 2}});
  c.expect({{"op", "error"}, {"code", "unknown_op"}, {"id", 2}});
  c.send({{"op", "ping"}, {"id", 1.5}});
  json e = c.expect({{"op", "error"}, {"code", "bad_request"}});
  CHECK_FALSE(e.contains("id"));
  c.send({{"op", "ping"}, {"id", json::array({1})}});
  e = c.expect({{"op", "error"}, {"code", "bad_request"}});
  CHECK_FALSE(e.contains("id"));
  c.send({{"op", "ping"}, {"id", nullptr}});  // null means absent
  e = c.expect({{"op", "pong"}});
  CHECK_FALSE(e.contains("id"));
  c.send({{"op", "ping"}, {"id", -5}, {"extra", "ignored"}});
  c.expect({{"op", "pong"}, {"id", -5}});
  c.send({{"op", "pong"}, {"id", {{"weird", true}}}, {"junk", 1}});  // never answered
  c.expect_nothing();
}

TEST_CASE("field faults come before topic faults, topic faults before permissions", "[errors]") {
  ServerProcess server;
  LineClient c(server.port());
  c.send({{"op", "pub"}, {"topic", "a..b"}, {"id", 1}});  // data missing and topic bad
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 1}});
  c.send({{"op", "pub"}, {"topic", 5}, {"data", 1}, {"id", 2}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 2}});
  c.send({{"op", "pub"}, {"topic", "$x"}, {"reply", "a..b"}, {"data", 1}, {"id", 3}});
  c.expect({{"op", "error"}, {"code", "bad_topic"}, {"id", 3}});
  c.send({{"op", "sub"}, {"topic", "ok"}, {"group", 5}, {"id", 4}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 4}});
  c.send({{"op", "history"}, {"topic", "t"}, {"before", -1}, {"id", 5}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 5}});
  c.send({{"op", "join"}, {"topic", "t"}, {"since", "3"}, {"id", 6}});
  c.expect({{"op", "error"}, {"code", "bad_request"}, {"id", 6}});
}

TEST_CASE("binary garbage is answered and breaks nothing for others", "[errors]") {
  ServerProcess server;
  LineClient bystander(server.port());
  bystander.hello("bystander");
  bystander.send({{"op", "sub"}, {"topic", "news"}, {"id", 1}});
  bystander.expect({{"op", "ok"}});
  LineClient noisy(server.port());
  std::mt19937 random(12345);
  std::string garbage;
  for (int i = 0; i < 200000; ++i) garbage.push_back(static_cast<char>(random() % 256));
  // Keep lines short of max_frame so that it stays a stream of bad frames.
  for (std::size_t i = 1000; i < garbage.size(); i += 1000) garbage[i] = '\n';
  garbage.push_back('\n');
  noisy.send_raw(garbage);
  noisy.send({{"op", "ping"}, {"id", "after"}});
  while (true) {
    const json f = noisy.recv();
    if (f["op"] == "pong") break;
    CHECK(f["op"] == "error");
  }
  LineClient pub(server.port());
  pub.send({{"op", "pub"}, {"topic", "news"}, {"data", "still here"}});
  bystander.expect({{"op", "msg"}, {"data", "still here"}});
}
