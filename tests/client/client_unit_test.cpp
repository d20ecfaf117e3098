// The client's testable parts: the script parser, the line editor, partial JSON matching,
// and how DATA and events are read and shown.
#include <catch2/catch.hpp>
#include <string>

#include "line_editor.hpp"
#include "render.hpp"
#include "script.hpp"

using namespace parley::client;
using json = nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("scripts parse into steps", "[client][script]") {
  const auto parsed = parse_script(R"(# a comment

connect alice as alice
connect raw
send alice {"op":"join","topic":"r","id":1}
send raw not json at all
expect alice {"op":"joined","id":1} within 500ms
wait alice {"op":"presence"}
silent raw 300ms
silent raw
sleep 50ms
drop raw
close alice
connect bob token s3cret
closed bob within 1s
)");
  INFO(parsed.error);
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.steps.size() == 13);
  CHECK(parsed.steps[0].kind == Step::Kind::connect);
  CHECK(parsed.steps[0].user == "alice");
  CHECK(parsed.steps[0].line == 3);
  CHECK_FALSE(parsed.steps[1].user);
  CHECK(parsed.steps[2].frame["topic"] == "r");
  CHECK(parsed.steps[3].raw == "not json at all");
  CHECK(parsed.steps[4].time == 500ms);
  CHECK(parsed.steps[5].time == 2000ms);
  CHECK(parsed.steps[6].time == 300ms);
  CHECK(parsed.steps[7].time == 200ms);
  CHECK(parsed.steps[8].kind == Step::Kind::sleep);
  CHECK(parsed.steps[11].token == "s3cret");
  CHECK(parsed.steps[12].time == 1000ms);
}

TEST_CASE("malformed scripts name the line", "[client][script]") {
  CHECK(parse_script("connect").error == "line 1: 'connect' needs a client name");
  CHECK(parse_script("\nfly a").error == "line 2: unknown command 'fly'");
  CHECK(parse_script("expect a not-json").error.rfind("line 1:", 0) == 0);
  CHECK(parse_script("expect a {} within soon").error.rfind("line 1:", 0) == 0);
  CHECK(parse_script("sleep forever").error.rfind("line 1:", 0) == 0);
  CHECK(parse_script("connect a as").error.rfind("line 1:", 0) == 0);
}

TEST_CASE("partial JSON matching", "[client][script]") {
  const json frame = {{"op", "msg"}, {"data", {{"a", 1}, {"b", {1, 2}}}}, {"seq", 3}};
  CHECK(json_matches(frame, {{"op", "msg"}}));
  CHECK(json_matches(frame, {{"data", {{"a", 1}}}}));
  CHECK(json_matches(frame, {{"data", {{"b", {1, 2}}}}}));
  CHECK_FALSE(json_matches(frame, {{"data", {{"b", {1}}}}}));  // arrays compare whole
  CHECK_FALSE(json_matches(frame, {{"seq", 4}}));
  CHECK_FALSE(json_matches(frame, {{"missing", nullptr}}));
}

TEST_CASE("durations in scripts", "[client][script]") {
  CHECK(parse_script_duration("250ms") == 250ms);
  CHECK(parse_script_duration("2s") == 2000ms);
  CHECK(parse_script_duration("3") == 3000ms);
  CHECK(parse_script_duration("1m") == 60000ms);
  CHECK_FALSE(parse_script_duration("ms"));
  CHECK_FALSE(parse_script_duration("5h"));
}

namespace {

LineEditor::Event type(LineEditor& editor, const std::string& bytes) {
  LineEditor::Event last = LineEditor::Event::none;
  for (char b : bytes) last = editor.feed(b);
  return last;
}

}  // namespace

TEST_CASE("the line editor edits, submits and recalls", "[client][editor]") {
  LineEditor e;
  type(e, "helo");
  type(e, "\x1b[D");  // left
  type(e, "l");
  CHECK(e.line() == "hello");
  CHECK(e.cursor() == 4);
  type(e, "\x01X\x05!");  // home, X, end, !
  CHECK(e.line() == "Xhello!");
  type(e, "\x7f");
  CHECK(e.line() == "Xhello");
  CHECK(type(e, "\r") == LineEditor::Event::submit);
  CHECK(e.take_line() == "Xhello");
  CHECK(e.line().empty());
  type(e, "second words");
  type(e, "\x17");  // Ctrl-W
  CHECK(e.line() == "second ");
  type(e, "\x15");  // Ctrl-U
  CHECK(e.line().empty());
  type(e, "draft");
  type(e, "\x1b[A");  // up: the previous line
  CHECK(e.line() == "Xhello");
  type(e, "\x1b[B");  // down: back to the draft
  CHECK(e.line() == "draft");
  CHECK(type(e, "\x03") == LineEditor::Event::interrupt);
}

TEST_CASE("the line editor keeps UTF-8 whole and knows Ctrl-D", "[client][editor]") {
  LineEditor e;
  type(e, "caf\xc3\xa9");
  type(e, "\x1b[D");
  CHECK(e.cursor() == 3);  // before the two-byte é
  type(e, "\x1b[3~");      // delete under the cursor
  CHECK(e.line() == "caf");
  type(e, "\x7f\x7f\x7f");
  CHECK(e.line().empty());
  CHECK(type(e, "\x04") == LineEditor::Event::end_of_input);
  CHECK(e.render("> ") == "\r\x1b[K> ");
  type(e, "ab\x1b[D");
  CHECK(e.render("# ") == "\r\x1b[K# ab\x1b[1D");
}

TEST_CASE("DATA is JSON when it parses and text otherwise and events read as lines",
          "[client][render]") {
  CHECK(parse_data("42") == 42);
  CHECK(parse_data(R"({"a":[1]})") == json{{"a", {1}}});
  CHECK(parse_data("hello world") == "hello world");
  CHECK(parse_data("") == "");
  CHECK(render_event({{"op", "msg"}, {"topic", "t"}, {"from", "al"}, {"data", "hi"}}) ==
        "#t <al> hi");
  CHECK(render_event({{"op", "msg"}, {"to", "me"}, {"from", "al"}, {"data", {1}}}) ==
        "<al> (to you) [1]");
  CHECK(render_event({{"op", "presence"}, {"topic", "r"}, {"name", "al"}, {"state", "join"}}) ==
        "* al joined #r");
  CHECK(render_event({{"op", "error"}, {"code", "bad_topic"}, {"message", "m"}}) ==
        "! bad_topic: m");
}
