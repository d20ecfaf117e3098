#pragma once
// How frames look to a person: one readable line each.
#include <nlohmann/json.hpp>
#include <string>

namespace parley::client {

// Strings print as themselves, anything else as compact JSON.
std::string render_data(const nlohmann::json& data);
// "#topic <from> data" for a topic message, "<from> (to you) data" for a tell, "* alice
// joined #room" for presence, "! code: message" for errors; other frames as JSON.
std::string render_event(const nlohmann::json& frame);
// DATA from the command line: JSON when it parses as JSON, else the text as a string.
nlohmann::json parse_data(const std::string& text);

}  // namespace parley::client
