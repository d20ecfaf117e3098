#pragma once
// How frames look to a person, in one place for chat, sub and history: one line per
// event (continuation lines indented), other people's text made terminal-safe.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace parley::client {

struct RenderStyle {
  bool colour = false;  // ANSI colours for names, mentions and notices
  bool times = true;    // a local time stamp in front of messages that carry `ts`
  bool seconds = true;  // HH:MM:SS rather than HH:MM
  std::string me;       // our own name: mentions of it by others are highlighted
};

// DATA as text: strings as themselves, anything else as compact JSON; always safe.
std::string render_data(const nlohmann::json& data);
// "12:34:56 #topic <from> data" for a room message, "#topic * from waves" for a /me
// action ({"me":"waves"}), "<from> (to you) data" for a tell, "* alice joined #room" for
// presence, "! code: message" for an error, bye_words() for a bye; other
// frames as JSON. Unknown or hostile text never reaches the terminal raw.
std::string render_event(const nlohmann::json& frame, const RenderStyle& style);
// Why the server said `bye`, in words a person understands ("* you signed in elsewhere;
// this session was replaced"); unknown reasons are shown as they came, made safe.
std::string bye_words(const std::string& reason);
// A name in its stable colour (when colour is on), made safe.
std::string render_name(const std::string& name, bool colour);
// "HH:MM:SS" (or "HH:MM") in local time for milliseconds since the Unix epoch.
std::string render_time(std::int64_t ms, bool seconds);
// The text of a /me action, when `data` is one ({"me": TEXT}).
const std::string* action_text(const nlohmann::json& data);
// DATA from the command line: JSON when it parses as JSON, else the text as a string.
nlohmann::json parse_data(const std::string& text);

}  // namespace parley::client
