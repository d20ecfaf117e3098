#include "render.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "safe_text.hpp"

namespace parley::client {

using json = nlohmann::json;

namespace {

constexpr const char* kReset = "\x1b[0m";
constexpr const char* kMention = "\x1b[1;33m";  // bold yellow: someone said our name
constexpr const char* kDim = "\x1b[2m";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// True when `text` names `me` as a word (case-insensitive): "hi Alice!" mentions alice,
// "malice" does not.
bool mentions(const std::string& text, const std::string& me) {
  if (me.empty()) return false;
  const std::string haystack = lower(text);
  const std::string needle = lower(me);
  const auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  };
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    const bool starts = at == 0 || !is_word(haystack[at - 1]);
    const std::size_t end = at + needle.size();
    const bool ends = end == haystack.size() || !is_word(haystack[end]);
    if (starts && ends) return true;
  }
  return false;
}

std::string time_prefix(const json& frame, const RenderStyle& style) {
  if (!style.times || !frame.contains("ts") || !frame["ts"].is_number()) return "";
  const std::string stamp = render_time(frame["ts"].get<std::int64_t>(), style.seconds);
  return style.colour ? kDim + stamp + kReset + " " : stamp + " ";
}

std::string field(const json& frame, const char* key) {
  const auto it = frame.find(key);
  return it != frame.end() && it->is_string() ? safe_text(it->get<std::string>(), "\\n") : "";
}

std::string render_message(const json& frame, const RenderStyle& style) {
  const std::string from =
      frame.value("from", json()).is_string() ? frame["from"].get<std::string>() : "";
  const json data = frame.value("data", json());
  std::string text;
  const std::string* action = action_text(data);
  const std::string raw_text = action ? *action : data.is_string() ? data.get<std::string>() : "";
  text = action ? safe_text(*action) : render_data(data);
  if (style.colour && from != style.me && mentions(raw_text, style.me))
    text = kMention + text + kReset;
  std::string line = time_prefix(frame, style);
  if (frame.contains("topic")) {
    line += "#" + field(frame, "topic") + " ";
  }
  const std::string name = render_name(from, style.colour);
  if (action) return line + "* " + name + " " + text;
  if (!frame.contains("topic")) return line + "<" + name + "> (to you) " + text;
  return line + "<" + name + "> " + text;
}

}  // namespace

std::string render_data(const json& data) {
  if (data.is_string()) return safe_text(data.get<std::string>());
  return safe_text(data.dump(-1, ' ', false, json::error_handler_t::replace));
}

const std::string* action_text(const json& data) {
  if (!data.is_object() || data.size() != 1) return nullptr;
  const auto it = data.find("me");
  return it != data.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

std::string render_name(const std::string& name, bool colour) {
  std::string safe = safe_text(name, "\\n");
  if (!colour) return safe;
  static constexpr int kColours[] = {31, 32, 33, 34, 35, 36};
  std::size_t hash = 0;
  for (char c : name) hash = hash * 31 + static_cast<unsigned char>(c);
  return "\x1b[" + std::to_string(kColours[hash % 6]) + "m" + safe + kReset;
}

std::string render_time(std::int64_t ms, bool seconds) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  char buffer[16];
  const std::size_t n =
      std::strftime(buffer, sizeof buffer, seconds ? "%H:%M:%S" : "%H:%M", &local);
  return std::string(buffer, n);
}

std::string render_event(const json& frame, const RenderStyle& style) {
  const std::string op =
      frame.value("op", json()).is_string() ? frame["op"].get<std::string>() : "";
  if (op == "msg") return render_message(frame, style);
  if (op == "presence") {
    const bool joined = frame.value("state", json()) == "join";
    return "* " +
           render_name(
               frame.value("name", json()).is_string() ? frame["name"].get<std::string>() : "",
               style.colour) +
           (joined ? " joined #" : " left #") + field(frame, "topic");
  }
  if (op == "error") return "! " + field(frame, "code") + ": " + field(frame, "message");
  if (op == "bye") return bye_words(field(frame, "reason"));
  return safe_text(frame.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string bye_words(const std::string& reason) {
  if (reason == "replaced") return "* you signed in elsewhere; this session was replaced";
  if (reason == "auth_revoked") {
    return "* the server no longer accepts this sign-in (the account was removed or its "
           "password changed); sign in again with the new password";
  }
  if (reason == "shutdown") return "* the server is shutting down";
  if (reason == "timeout") return "* the server heard nothing from this client for too long";
  if (reason == "slow_consumer")
    return "* the server closed the connection: messages came faster than this client read them";
  if (reason == "auth_timeout") return "* the server closed the connection: no sign-in in time";
  if (reason == "quit") return "* signed off";
  return "* the server said bye (" + safe_text(reason, "\\n") + ")";
}

json parse_data(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

}  // namespace parley::client
