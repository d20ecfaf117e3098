#include "render.hpp"

namespace parley::client {

using json = nlohmann::json;

std::string render_data(const json& data) {
  if (data.is_string()) return data.get<std::string>();
  return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string render_event(const json& frame) {
  const std::string op = frame.value("op", "");
  if (op == "msg" && frame.contains("topic")) {
    return "#" + frame.value("topic", "") + " <" + frame.value("from", "") + "> " +
           render_data(frame.value("data", json()));
  }
  if (op == "msg")
    return "<" + frame.value("from", "") + "> (to you) " + render_data(frame.value("data", json()));
  if (op == "presence") {
    const bool joined = frame.value("state", "") == "join";
    return "* " + frame.value("name", "") + (joined ? " joined #" : " left #") +
           frame.value("topic", "");
  }
  if (op == "error") return "! " + frame.value("code", "") + ": " + frame.value("message", "");
  if (op == "bye") return "* the server said bye (" + frame.value("reason", "") + ")";
  return frame.dump();
}

json parse_data(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

}  // namespace parley::client
