// Frame builders: every reply and event parses as one JSON object with the fields
// PROTOCOL.md names, and strings are escaped as JSON requires.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parley/protocol/frames.hpp"

using namespace parley::protocol;
using json = nlohmann::json;

namespace {

json parsed(const std::string& frame) {
  REQUIRE(!frame.empty());
  REQUIRE(frame.back() == '\n');
  REQUIRE(frame.find('\n') == frame.size() - 1);
  return json::parse(frame);
}

}  // namespace

TEST_CASE("msg and tell frames", "[frames]") {
  const json m =
      parsed(build_msg("a.b", "alice", R"({"x":[1,2]})", 7, 1795491629178, std::nullopt));
  CHECK(m == json{{"op", "msg"},
                  {"topic", "a.b"},
                  {"from", "alice"},
                  {"data", {{"x", {1, 2}}}},
                  {"seq", 7},
                  {"ts", 1795491629178}});
  CHECK(parsed(build_msg("t", "a", "null", 1, 0, "in.box"))["reply"] == "in.box");
  const json t = parsed(build_tell_msg("Bob", "alice", "\"hi\"", 5));
  CHECK(t == json{{"op", "msg"}, {"to", "Bob"}, {"from", "alice"}, {"data", "hi"}, {"ts", 5}});
}

TEST_CASE("welcome, ok, error, bye, ping, pong", "[frames]") {
  const json w = parsed(build_welcome("\"h\"", "alice", 3, Limits{65536, 1000, 30}));
  CHECK(w == json{{"op", "welcome"},
                  {"id", "h"},
                  {"name", "alice"},
                  {"session", 3},
                  {"server", "parley/0.1.0"},
                  {"protocol", 1},
                  {"limits", {{"max_frame", 65536}, {"max_subs", 1000}, {"ping_interval_s", 30}}}});
  CHECK(parsed(build_welcome(std::nullopt, "a", 1,
                             Limits{1, 1, 0.25}))["limits"]["ping_interval_s"] == 0.25);
  CHECK(parsed(build_ok("12")) == json{{"op", "ok"}, {"id", 12}});
  CHECK(parsed(build_ok(std::nullopt)) == json{{"op", "ok"}});
  CHECK(parsed(build_error("1", ErrorCode::bad_topic, "m")) ==
        json{{"op", "error"}, {"id", 1}, {"code", "bad_topic"}, {"message", "m"}});
  CHECK_FALSE(parsed(build_error(std::nullopt, ErrorCode::bad_json, "m")).contains("id"));
  CHECK(parsed(build_bye("\"q\"", "quit")) == json{{"op", "bye"}, {"id", "q"}, {"reason", "quit"}});
  CHECK(parsed(build_ping()) == json{{"op", "ping"}});
  CHECK(parsed(build_pong("9")) == json{{"op", "pong"}, {"id", 9}});
}

TEST_CASE("room replies", "[frames]") {
  const std::vector<std::string> members{"Amy", "bob"};
  const std::string m1 = build_msg("r", "bob", "1", 1, 10, std::nullopt);
  const std::vector<std::string_view> history{std::string_view(m1).substr(0, m1.size() - 1)};
  json j = parsed(build_joined("1", "r", members, history, std::nullopt));
  CHECK(j["members"] == json{"Amy", "bob"});
  CHECK(j["history"][0]["seq"] == 1);
  CHECK_FALSE(j.contains("recovered"));
  CHECK(parsed(build_joined(std::nullopt, "r", {}, {}, false))["recovered"] == false);
  CHECK(parsed(build_who("2", "r", members)) ==
        json{{"op", "who"}, {"id", 2}, {"topic", "r"}, {"members", members}});
  CHECK(parsed(build_history(std::nullopt, "r", history))["messages"].size() == 1);
  const std::vector<TopicSummary> topics{{"a", 2, 0}, {"b", 0, 9}};
  CHECK(parsed(build_topics("3", topics))["topics"] ==
        json::array({{{"topic", "a"}, {"members", 2}, {"seq", 0}},
                     {{"topic", "b"}, {"members", 0}, {"seq", 9}}}));
  StatsReport s;
  s.connections = 4;
  s.slow_consumers = 1;
  const json st = parsed(build_stats(std::nullopt, s));
  for (const char* key : {"uptime_s", "connections", "topics", "subscriptions", "msgs_in",
                          "msgs_out", "bytes_in", "bytes_out", "slow_consumers"}) {
    CHECK(st.contains(key));
  }
  CHECK(st["connections"] == 4);
}

TEST_CASE("strings are escaped", "[frames]") {
  const std::string nasty = std::string("q\"b\\n\nr\rt\tc\x01\x1f ") + "\xc3\xa9";
  const json e = parsed(build_error(std::nullopt, ErrorCode::bad_request, nasty));
  CHECK(e["message"] == nasty);
  std::string out;
  append_json_string(out, "a\"b");
  CHECK(out == R"("a\"b")");
}
