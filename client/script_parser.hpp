#pragma once
// Scenario scripts (docs/scripts.md): the steps a script file holds, parsed without any
// I/O so that the parser is unit-tested alone; script.hpp runs them.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace parley::client {

struct Step {
  enum class Kind { connect, send, expect, wait, silent, sleep, close, drop, closed };
  Kind kind;
  std::string client;                // every kind but sleep
  std::optional<std::string> user;   // connect ... as USER
  std::optional<std::string> token;  // connect ... token T
  nlohmann::json frame;              // send, expect, wait
  std::string raw;                   // send: the text sent when it is not JSON (raw ...)
  std::chrono::milliseconds time{0};
  std::size_t line = 0;  // where it stands in the file
  std::string text;      // the line itself, for messages
};

struct ParsedScript {
  std::vector<Step> steps;
  std::string error;         // "line N: reason" when the script is malformed
  std::string server_flags;  // from "# server: FLAGS": what the script needs of the server
};

// `run` replaces every "${run}" in the script: a token unique to this run, so that names
// and topics of one run never meet those of another (or of people using the server).
ParsedScript parse_script(const std::string& source, const std::string& run = "run");

// "250ms", "2s", "1m"; empty when malformed.
std::optional<std::chrono::milliseconds> parse_script_duration(const std::string& text);

// True when every field of `partial` is in `actual` with a matching value: objects
// recursively, arrays element by element with the same length, scalars equal.
bool json_matches(const nlohmann::json& actual, const nlohmann::json& partial);

}  // namespace parley::client
