// The client's testable parts: the script parser, the line editor, partial JSON matching,
// and how DATA and events are read and shown.
#include <catch2/catch.hpp>
#include <string>

#include <cstdlib>
#include <ctime>

#include "client_session.hpp"
#include "completion.hpp"
#include "input_checks.hpp"
#include "line_editor.hpp"
#include "prompt_view.hpp"
#include "render.hpp"
#include "resume.hpp"
#include "safe_text.hpp"
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
  CHECK(parse_script_duration("1.5s") == 1500ms);  // the grammar every flag uses
  CHECK_FALSE(parse_script_duration("ms"));
  CHECK_FALSE(parse_script_duration("5 days"));
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
}

TEST_CASE("word motions, Ctrl-L and Tab", "[client][editor]") {
  const std::string alt = "\x1b";  // Alt (Meta) sends ESC before the key
  LineEditor e;
  type(e, "one two three");
  type(e, alt + "b");
  CHECK(e.cursor() == 8);
  type(e, alt + "b" + alt + "b");
  CHECK(e.cursor() == 0);
  type(e, alt + "f");
  CHECK(e.cursor() == 3);
  type(e, alt + "d");  // the next word goes
  CHECK(e.line() == "one three");
  type(e, "\x1b[1;5C");  // Ctrl-Right
  CHECK(e.cursor() == e.line().size());
  CHECK(type(e, "\x0c") == LineEditor::Event::redraw_screen);
  type(e, " al");
  CHECK(type(e, "\t") == LineEditor::Event::complete);
  CHECK(e.word_at_cursor() == "al");
  e.replace_word("alice", true);
  CHECK(e.line() == "one three alice ");
}

TEST_CASE("completion: one match completes, several share a prefix", "[client][editor]") {
  CHECK(complete_word("/jo", {"/join", "/quit"}).word == "/join");
  CHECK(complete_word("/jo", {"/join", "/quit"}).finished);
  const auto several = complete_word("a", {"alice", "alina", "bob", "alice"});
  CHECK(several.word == "ali");
  CHECK_FALSE(several.finished);
  CHECK(several.choices == std::vector<std::string>{"alice", "alina"});
  CHECK(complete_word("z", {"alice"}).word == "z");
  CHECK(complete_word("#GEN", {"#general"}).word == "#general");
}

TEST_CASE("the prompt wraps at the terminal's width and redraws in place", "[client][editor]") {
  PromptView view;
  view.set_width(10);
  // Short: one row, the cursor moved back to its place.
  CHECK(view.draw("> ", "ab", 1) == "\r\x1b[K> ab\r\x1b[3C");
  // 2 + 15 = 17 columns: two rows; the redraw goes up the row the cursor is on first.
  const std::string line(15, 'x');
  CHECK(view.draw("> ", line, 15) == "\r\x1b[J> " + line + "\r\x1b[7C");
  CHECK(view.clear() == "\x1b[1A\r\x1b[J");
  // Exactly two rows full: the cursor steps onto a third row, never left in the margin.
  const std::string full(18, 'y');
  CHECK(view.draw("> ", full, 0) == "\r\x1b[K> " + full + "\r\n\x1b[2A\r\x1b[2C");
  CHECK(view.clear() == "\r\x1b[J");
  // After a resize the rows are counted at the new width (the terminal reflowed them).
  view.draw("> ", full, 18);
  view.set_width(5);
  CHECK(view.clear() == "\x1b[4A\r\x1b[J");
}

TEST_CASE("DATA is JSON when it parses and text otherwise and events read as lines",
          "[client][render]") {
  CHECK(parse_data("42") == 42);
  CHECK(parse_data(R"({"a":[1]})") == json{{"a", {1}}});
  CHECK(parse_data("hello world") == "hello world");
  CHECK(parse_data("") == "");
  const RenderStyle plain{false, false, true, ""};
  CHECK(render_event({{"op", "msg"}, {"topic", "t"}, {"from", "al"}, {"data", "hi"}}, plain) ==
        "#t <al> hi");
  CHECK(render_event({{"op", "msg"}, {"to", "me"}, {"from", "al"}, {"data", {1}}}, plain) ==
        "<al> (to you) [1]");
  CHECK(render_event({{"op", "presence"}, {"topic", "r"}, {"name", "al"}, {"state", "join"}},
                     plain) == "* al joined #r");
  CHECK(render_event({{"op", "error"}, {"code", "bad_topic"}, {"message", "m"}}, plain) ==
        "! bad_topic: m");
  CHECK(render_event({{"op", "msg"}, {"topic", "t"}, {"from", "al"}, {"data", {{"me", "waves"}}}},
                     plain) == "#t * al waves");
}

TEST_CASE("time stamps in local time, seconds optional", "[client][render]") {
  setenv("TZ", "UTC", 1);
  tzset();
  const json frame = {
      {"op", "msg"}, {"topic", "t"}, {"from", "al"}, {"data", "hi"}, {"ts", 1795497059330}};
  CHECK(render_event(frame, RenderStyle{false, true, true, ""}) == "05:10:59 #t <al> hi");
  CHECK(render_event(frame, RenderStyle{false, true, false, ""}) == "05:10 #t <al> hi");
}

TEST_CASE("hostile text cannot drive the terminal or forge lines", "[client][render]") {
  CHECK(safe_text("plain caf\xc3\xa9 \\ ok") == "plain caf\xc3\xa9 \\ ok");
  CHECK(safe_text("\x1b]0;owned\x07\x1b[2J") == "\\x1b]0;owned\\x07\\x1b[2J");
  CHECK(safe_text("a\x7f\xc2\x9b"
                  "b") == "a\\x7f\\x9bb");                      // DEL and C1 CSI
  CHECK(safe_text("evil\xe2\x80\xaetxt") == "evil\\u202etxt");  // right-to-left override
  CHECK(safe_text("\xff\xc3") == "\\xff\\xc3");                 // not UTF-8
  CHECK(safe_text("hi\n#lobby alice: pw", "\n    ") == "hi\n    #lobby alice: pw");
  CHECK(safe_text("a\r\nb\rc", "\n  ") == "a\n  b\\x0dc");
  const RenderStyle plain{false, false, true, ""};
  CHECK(render_event({{"op", "msg"},
                      {"topic", "lobby"},
                      {"from", "mallory"},
                      {"data", "hi\n#lobby <alice> the password is now x"}},
                     plain) == "#lobby <mallory> hi\n    #lobby <alice> the password is now x");
  CHECK(render_event({{"op", "msg"}, {"topic", "t"}, {"from", "m\x1b[31m"}, {"data", 1}}, plain) ==
        "#t <m\\x1b[31m> 1");
}

TEST_CASE("mentions of our name by others are highlighted", "[client][render]") {
  const RenderStyle style{true, false, true, "alice"};
  const json to_alice = {{"op", "msg"}, {"topic", "t"}, {"from", "bob"}, {"data", "hi Alice!"}};
  CHECK(render_event(to_alice, style).find("\x1b[1;33mhi Alice!") != std::string::npos);
  const json not_alice = {{"op", "msg"}, {"topic", "t"}, {"from", "bob"}, {"data", "malice"}};
  CHECK(render_event(not_alice, style).find("\x1b[1;33m") == std::string::npos);
}

TEST_CASE("input is checked before sending, quoting the value and the rule", "[client][input]") {
  CHECK(topic_problem("a..b").value_or("").starts_with("'a..b' is not a valid topic: use tokens"));
  CHECK(topic_problem("chat.*").value_or("").find("is a pattern") != std::string::npos);
  CHECK_FALSE(topic_problem("chat.general"));
  CHECK(strip_room_mark("#random") == "random");
  CHECK(strip_room_mark("random") == "random");
  CHECK_FALSE(pattern_problem("chat.>"));
  CHECK(pattern_problem("a.>.b"));
  CHECK(name_problem("guest-1"));
  CHECK_FALSE(name_problem("guest-1", true));
  CHECK(name_problem("a b").value_or("").starts_with("'a b' is not a valid name"));
  CHECK(parse_count("20", 1, 1000) == 20);
  for (const char* bad : {"abc", "0", "-1", "1001", "", "2x"})
    CHECK_FALSE(parse_count(bad, 1, 1000));
}

TEST_CASE("JSON DATA is sent verbatim, keys in the user's order", "[client][render]") {
  CHECK(with_raw_data({{"op", "pub"}}, R"({"z":1,"a":2.50})") ==
        R"({"op":"pub","data":{"z":1,"a":2.50}})");
  CHECK(with_raw_data({{"op", "pub"}}, "{\n  \"b\": 1\n}") ==
        "{\"op\":\"pub\",\"data\":{   \"b\": 1 }}");
}

TEST_CASE("resuming: messages are lost only when they are", "[client][resume]") {
  using E = std::optional<std::string>;
  // The server kept everything: nothing to say.
  CHECK_FALSE(resume_gap(5, E{"a"}, E{"a"}, true, 6).lost);
  // Same run, the oldest kept is past where we stopped: 6..9 are gone.
  const auto evicted = resume_gap(5, E{"a"}, E{"a"}, false, 10);
  CHECK_FALSE(evicted.fresh_run);
  CHECK(evicted.lost == std::pair<std::uint64_t, std::uint64_t>{6, 9});
  // A new epoch (a restart) with nothing published since: silent, numbering afresh.
  const auto restarted = resume_gap(5, E{"a"}, E{"b"}, false, 0);
  CHECK(restarted.fresh_run);
  CHECK_FALSE(restarted.lost);
  // A new epoch whose replay starts at 1: nothing lost, even with seq below `since`.
  CHECK_FALSE(resume_gap(5, E{"a"}, E{"b"}, false, 1).lost);
  // A new epoch whose first messages were evicted: those are lost.
  CHECK(resume_gap(5, E{"a"}, E{"b"}, false, 40).lost ==
        std::pair<std::uint64_t, std::uint64_t>{1, 39});
  // A new epoch even with a replay that would look continuous: the seqs are not ours.
  CHECK(resume_gap(5, E{"a"}, E{"b"}, false, 6).fresh_run);
  // Today's server, no epochs: a restart shows as an empty replay or one from seq 1.
  CHECK(resume_gap(5, E{}, E{}, false, 0).fresh_run);
  CHECK_FALSE(resume_gap(5, E{}, E{}, false, 0).lost);
  CHECK_FALSE(resume_gap(5, E{}, E{}, false, 1).lost);
  // ...and eviction as a replay that starts past where we stopped.
  CHECK(resume_gap(5, E{}, E{}, false, 200).lost ==
        std::pair<std::uint64_t, std::uint64_t>{6, 199});
}

TEST_CASE("auth refusals say what to do", "[client][render]") {
  CHECK(describe_error({{"code", "auth_failed"}, {"message", "wrong token"}})
            .starts_with("auth_failed: wrong token (a server with a shared token: --token TOKEN or "
                         "PARLEY_TOKEN=TOKEN; "));
  CHECK(describe_error({{"code", "not_authenticated"}, {"message", "m"}}).find("--token") !=
        std::string::npos);
  CHECK(describe_error({{"code", "bad_topic"}, {"message", "m"}}) == "bad_topic: m");
}
