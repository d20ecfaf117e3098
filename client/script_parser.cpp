#include <cctype>
#include <charconv>
#include <sstream>

#include "script_parser.hpp"

#include "parley/common/duration.hpp"

namespace parley::client {
namespace {

constexpr std::chrono::milliseconds kDefaultExpect{2000};
constexpr std::chrono::milliseconds kDefaultSilent{200};

std::string trim(const std::string& text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

// Splits off the first word.
std::string take_word(std::string& rest) {
  rest = trim(rest);
  const auto space = rest.find_first_of(" \t");
  std::string word = rest.substr(0, space);
  rest = space == std::string::npos ? "" : trim(rest.substr(space));
  return word;
}

// Removes a trailing "within DURATION" and returns the duration, if there is one.
std::optional<std::chrono::milliseconds> take_within(std::string& rest, bool& malformed) {
  const std::string padded = " " + rest;  // "within 1s" may also stand alone
  const auto at = padded.rfind(" within ");
  if (at == std::string::npos) return std::nullopt;
  const auto duration = parse_script_duration(trim(padded.substr(at + 8)));
  if (!duration) {
    malformed = true;
    return std::nullopt;
  }
  rest = trim(padded.substr(0, at));
  return duration;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_script_duration(const std::string& text) {
  return common::parse_duration(text);  // the same grammar as every flag
}

ParsedScript parse_script(const std::string& source, const std::string& run) {
  ParsedScript out;
  std::istringstream lines(source);
  std::string text;
  std::size_t number = 0;
  const auto fail = [&](const std::string& why) {
    out.error = "line " + std::to_string(number) + ": " + why;
    out.steps.clear();
    return out;
  };
  while (std::getline(lines, text)) {
    ++number;
    for (auto at = text.find("${run}"); at != std::string::npos; at = text.find("${run}", at))
      text.replace(at, 6, run);
    std::string rest = trim(text);
    if (rest.starts_with("# server:")) out.server_flags = trim(rest.substr(9));
    if (rest.empty() || rest[0] == '#') continue;
    Step step;
    step.line = number;
    step.text = rest;
    const std::string command = take_word(rest);
    if (command == "sleep") {
      const auto d = parse_script_duration(rest);
      if (!d) return fail("sleep takes a duration (100ms, 2s)");
      step.kind = Step::Kind::sleep;
      step.time = *d;
      out.steps.push_back(std::move(step));
      continue;
    }
    step.client = take_word(rest);
    if (step.client.empty()) return fail("'" + command + "' needs a client name");
    bool malformed = false;
    if (command == "connect") {
      step.kind = Step::Kind::connect;
      while (!rest.empty()) {
        const std::string key = take_word(rest);
        const std::string value = take_word(rest);
        if (value.empty() || (key != "as" && key != "token"))
          return fail("connect NAME [as USER] [token TOKEN]");
        (key == "as" ? step.user : step.token) = value;
      }
    } else if (command == "send") {
      step.kind = Step::Kind::send;
      if (rest.empty()) return fail("send NAME JSON");
      step.frame = nlohmann::json::parse(rest, nullptr, false);
      step.raw = rest;  // sent exactly as written, valid JSON or not
    } else if (command == "expect" || command == "wait") {
      step.kind = command == "expect" ? Step::Kind::expect : Step::Kind::wait;
      step.time = take_within(rest, malformed).value_or(kDefaultExpect);
      if (malformed) return fail("within takes a duration (500ms, 2s)");
      step.frame = nlohmann::json::parse(rest, nullptr, false);
      if (step.frame.is_discarded() || !step.frame.is_object())
        return fail(command + " NAME {partial JSON object}");
    } else if (command == "silent") {
      step.kind = Step::Kind::silent;
      step.time = rest.empty()
                      ? kDefaultSilent
                      : parse_script_duration(rest).value_or(std::chrono::milliseconds(-1));
      if (step.time.count() < 0) return fail("silent NAME [DURATION]");
    } else if (command == "close" || command == "drop") {
      step.kind = command == "close" ? Step::Kind::close : Step::Kind::drop;
      if (!rest.empty()) return fail(command + " NAME");
    } else if (command == "closed") {
      step.kind = Step::Kind::closed;
      step.time = take_within(rest, malformed).value_or(kDefaultExpect);
      if (malformed || !rest.empty()) return fail("closed NAME [within DURATION]");
    } else {
      return fail("unknown command '" + command + "'");
    }
    out.steps.push_back(std::move(step));
  }
  return out;
}

}  // namespace parley::client
