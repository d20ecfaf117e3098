#pragma once
// Scenario scripts (docs/scripts.md): a parser into steps, kept apart from the runner so
// that it is unit-tested alone.
#include <asio.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "session.hpp"

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
  std::string error;  // "line N: reason" when the script is malformed
};

ParsedScript parse_script(const std::string& source);

// "250ms", "2s", "1m"; empty when malformed.
std::optional<std::chrono::milliseconds> parse_script_duration(const std::string& text);

// True when every field of `partial` is in `actual` with a matching value: objects
// recursively, arrays element by element with the same length, scalars equal.
bool json_matches(const nlohmann::json& actual, const nlohmann::json& partial);

// Runs each file in turn against the server; prints a line per failure; the exit code.
asio::awaitable<int> run_scripts(CommonOptions options, std::vector<std::string> files,
                                 bool verbose);

}  // namespace parley::client
