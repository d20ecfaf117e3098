// Frame builders: every reply and event parses as one JSON object with the fields
// PROTOCOL.md names, and strings are escaped as JSON requires.
#include <algorithm>
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
  const json w = parsed(build_welcome("\"h\"", "alice", 3, Limits{65536, 1000, 30}, "n1"));
  CHECK(w == json{{"op", "welcome"},
                  {"id", "h"},
                  {"name", "alice"},
                  {"session", 3},
                  {"server", "parley/0.1.0"},
                  {"protocol", 1},
                  {"limits", {{"max_frame", 65536}, {"max_subs", 1000}, {"ping_interval_s", 30}}},
                  {"node", "n1"}});
  CHECK(parsed(build_welcome(std::nullopt, "a", 1, Limits{1, 1, 0.25},
                             "n"))["limits"]["ping_interval_s"] == 0.25);
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
  json j = parsed(build_joined("1", "r", members, {history, "e-1"}, std::nullopt));
  CHECK(j["members"] == json{"Amy", "bob"});
  CHECK(j["history"][0]["seq"] == 1);
  CHECK_FALSE(j.contains("recovered"));
  CHECK_FALSE(j.contains("more"));
  CHECK(j["epoch"] == "e-1");
  CHECK(parsed(build_joined("1", "r", members, {history, "e", true}, true))["more"] == true);
  CHECK(parsed(build_joined(std::nullopt, "r", {}, {{}, "e"}, false))["recovered"] == false);
  CHECK(parsed(build_who("2", "r", members)) ==
        json{{"op", "who"}, {"id", 2}, {"topic", "r"}, {"members", members}});
  const json h = parsed(build_history(std::nullopt, "r", {history, "b-2", true}));
  CHECK(h["messages"].size() == 1);
  CHECK(h["epoch"] == "b-2");
  CHECK(h["more"] == true);
  const std::vector<TopicSummary> topics{{"a", 2, 0}, {"b", 0, 9}};
  CHECK(parsed(build_topics("3", topics, true))["more"] == true);
  CHECK(parsed(build_topics("3", topics, false))["topics"] ==
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

namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::vector<std::string> keys_of(const json& object) {
  std::vector<std::string> keys;
  for (const auto& item : object.items()) keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

TEST_CASE("every builder has exactly the protocol's fields", "[frames]") {
  using Keys = std::vector<std::string>;
  const std::vector<std::string> members{"a"};
  const std::vector<std::string_view> none;
  const std::vector<TopicSummary> topics{{"t", 1, 2}};
  const std::vector<std::pair<std::string, Keys>> frames{
      {build_msg("t", "f", "1", 1, 2, std::nullopt), {"data", "from", "op", "seq", "topic", "ts"}},
      {build_msg("t", "f", "1", 1, 2, "r"), {"data", "from", "op", "reply", "seq", "topic", "ts"}},
      {build_tell_msg("to", "f", "1", 2), {"data", "from", "op", "to", "ts"}},
      {build_welcome("1", "n", 1, Limits{1, 2, 3}, "x"),
       {"id", "limits", "name", "node", "op", "protocol", "server", "session"}},
      {build_welcome(std::nullopt, "n", 1, Limits{1, 2, 3}, "x"),
       {"limits", "name", "node", "op", "protocol", "server", "session"}},
      {build_ok("1"), {"id", "op"}},
      {build_error("1", ErrorCode::forbidden, "m"), {"code", "id", "message", "op"}},
      {build_error(std::nullopt, ErrorCode::forbidden, "m"), {"code", "message", "op"}},
      {build_presence("t", "n", true), {"name", "op", "state", "topic"}},
      {build_joined("1", "t", members, {none, "e"}, std::nullopt),
       {"epoch", "history", "id", "members", "op", "topic"}},
      {build_joined(std::nullopt, "t", members, {none, "e", true}, true),
       {"epoch", "history", "members", "more", "op", "recovered", "topic"}},
      {build_who(std::nullopt, "t", members), {"members", "op", "topic"}},
      {build_topics(std::nullopt, topics, false), {"op", "topics"}},
      {build_topics(std::nullopt, topics, true), {"more", "op", "topics"}},
      {build_history("1", "t", {none, "e"}), {"epoch", "id", "messages", "op", "topic"}},
      {build_history("1", "t", {none, "e", true}),
       {"epoch", "id", "messages", "more", "op", "topic"}},
      {build_stats(std::nullopt, StatsReport{}),
       {"bytes_in", "bytes_out", "connections", "msgs_in", "msgs_out", "op", "slow_consumers",
        "subscriptions", "topics", "uptime_s"}},
      {build_ping(), {"op"}},
      {build_pong(std::nullopt), {"op"}},
      {build_bye(std::nullopt, "quit"), {"op", "reason"}},
      {build_bye("1", "quit"), {"id", "op", "reason"}},
  };
  for (const auto& [frame, keys] : frames) {
    CAPTURE(frame);
    CHECK(keys_of(parsed(frame)) == keys);
  }
  CHECK(keys_of(parsed(build_welcome(std::nullopt, "n", 1, Limits{1, 2, 3}, "x"))["limits"]) ==
        Keys{"max_frame", "max_subs", "ping_interval_s"});
  CHECK(keys_of(parsed(build_topics(std::nullopt, topics, false))["topics"][0]) ==
        Keys{"members", "seq", "topic"});
}

TEST_CASE("presence, and empty lists", "[frames]") {
  CHECK(parsed(build_presence("room.1", "Amy", true)) ==
        json{{"op", "presence"}, {"topic", "room.1"}, {"name", "Amy"}, {"state", "join"}});
  CHECK(parsed(build_presence("room.1", "Amy", false))["state"] == "leave");
  CHECK(parsed(build_joined("\"j\"", "r", {}, {{}, "e"}, true)) == json{{"op", "joined"},
                                                                        {"id", "j"},
                                                                        {"topic", "r"},
                                                                        {"epoch", "e"},
                                                                        {"members", json::array()},
                                                                        {"history", json::array()},
                                                                        {"recovered", true}});
  CHECK(parsed(build_topics(std::nullopt, {}, false)) ==
        json{{"op", "topics"}, {"topics", json::array()}});
  CHECK(parsed(build_history("4", "r", {{}, "e"})) == json{{"op", "history"},
                                                           {"id", 4},
                                                           {"topic", "r"},
                                                           {"epoch", "e"},
                                                           {"messages", json::array()}});
  CHECK(parsed(build_who(std::nullopt, "r", {}))["members"] == json::array());
}

TEST_CASE("ids and data are copied as given", "[frames]") {
  // The id is the request's JSON text; escapes in it travel unchanged.
  CHECK(build_ok(R"("a\u00e9\"")") == "{\"op\":\"ok\",\"id\":\"a\\u00e9\\\"\"}\n");
  CHECK(parsed(build_ok("-42"))["id"] == -42);
  CHECK(parsed(build_ok("18446744073709551615"))["id"] == 18446744073709551615ULL);
  const std::string data = R"({ "k" : [1, 2.50, "\u00e9"] })";
  const std::string msg = build_msg("t", "f", data, 1, 2, std::nullopt);
  CHECK(msg.find(data) != std::string::npos);
  CHECK(parsed(msg)["data"] == json::parse(data));
  CHECK(parsed(build_tell_msg("b", "a", "null", 1))["data"].is_null());
  // Extreme numbers print in full.
  const json big = parsed(build_msg("t", "f", "0", 18446744073709551615ULL, -1, std::nullopt));
  CHECK(big["seq"] == 18446744073709551615ULL);
  CHECK(big["ts"] == -1);
  StatsReport s;
  s.bytes_out = 18446744073709551615ULL;
  CHECK(parsed(build_stats("1", s))["bytes_out"] == 18446744073709551615ULL);
}

TEST_CASE("string escaping, byte by byte", "[frames][escape]") {
  CHECK(json_string("") == R"("")");
  CHECK(json_string("\"") == R"("\"")");
  CHECK(json_string("\\") == R"("\\")");
  CHECK(json_string("\n\r\t") == R"("\n\r\t")");
  CHECK(json_string("\b\f") == R"("\u0008\u000c")");
  CHECK(json_string(std::string_view("\0", 1)) == R"("\u0000")");
  CHECK(json_string("\x1f") == R"("\u001f")");
  // Printable ASCII other than the quote and backslash, DEL and '/' pass as they are.
  CHECK(json_string(" /~\x7f") == "\" /~\x7f\"");
  // UTF-8 passes through byte for byte.
  const std::string utf8 = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
  CHECK(json_string(utf8) == "\"" + utf8 + "\"");
  // Every control character comes out escaped and reads back as itself.
  for (int c = 0; c < 0x20; ++c) {
    CAPTURE(c);
    const std::string one(1, static_cast<char>(c));
    const std::string out = json_string(one);
    CHECK(out.size() >= 4);
    for (char o : out) CHECK(static_cast<unsigned char>(o) >= 0x20);
    CHECK(json::parse(out) == one);
  }
  // Appending adds to what is there.
  std::string out = "x";
  append_json_string(out, "y");
  CHECK(out == R"(x"y")");
}

TEST_CASE("strings with newlines keep the frame on one line", "[frames][escape]") {
  const std::string nasty = "line1\nline2\r\n\"quoted\"\\ \x01 \xe2\x9c\x93";
  for (const std::string& frame :
       {build_error(std::nullopt, ErrorCode::bad_request, nasty),
        build_presence(nasty, nasty, true), build_msg(nasty, nasty, "1", 1, 1, nasty),
        build_tell_msg(nasty, nasty, "1", 1), build_bye(std::nullopt, nasty),
        build_welcome(std::nullopt, nasty, 1, Limits{1, 1, 1}, nasty),
        build_who(std::nullopt, nasty, std::vector<std::string>{nasty}),
        build_topics(std::nullopt, std::vector<TopicSummary>{{nasty, 0, 0}}, false)}) {
    CAPTURE(frame);
    const json j = parsed(frame);  // one line, one object
    CHECK(j.dump().find(json(nasty).dump()) != std::string::npos);
  }
}
