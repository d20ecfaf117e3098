// decode_request on arbitrary bytes: never throws, and agrees with nlohmann/json (an
// independent parser) on what is JSON, what is an object, and on the fields it slices.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "parley/protocol/decode.hpp"

using namespace parley::protocol;
using json = nlohmann::json;

namespace {

// Nesting depth counted by brackets outside strings (the frame's own object is 1).
int depth_of(const std::string& text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string frame(reinterpret_cast<const char*>(data), size);
  const Decoded decoded = decode_request(frame);

  // nlohmann stops reading at a NUL after a complete value (it accepts "{}\0"); RFC 8259
  // does not, and neither do we. Past a NUL the reference says nothing: crash-check only.
  if (frame.find('\0') != std::string::npos) return 0;
  const bool is_json = json::accept(frame);
  const bool bad_json = decoded.fault && decoded.fault->code == ErrorCode::bad_json;
  if (decoded.fault && (decoded.fault->stage == FaultStage::json) != bad_json) std::abort();
  if (!is_json) {
    if (!bad_json) std::abort();  // we accepted what a strict parser refuses
    return 0;
  }
  if (depth_of(frame) > 128) {
    if (!bad_json) std::abort();
    return 0;
  }
  const json parsed = json::parse(frame);
  if (!parsed.is_object()) {
    if (!bad_json) std::abort();
    return 0;
  }
  if (bad_json) std::abort();  // valid, shallow objects are never bad_json

  // The op as nlohmann sees it.
  const auto op = parsed.find("op");
  const bool op_is_string = op != parsed.end() && op->is_string();
  if (!op_is_string) {
    if (!decoded.fault || decoded.fault->code != ErrorCode::bad_request ||
        decoded.fault->stage != FaultStage::op)
      std::abort();
    return 0;
  }
  if (decoded.op.has_value() != op_from_string(op->get<std::string>()).has_value()) std::abort();

  // id: an integer or string is echoed with the same value; anything else never is.
  const auto id = parsed.find("id");
  if (decoded.id) {
    if (id == parsed.end() || !(id->is_number_integer() || id->is_string())) std::abort();
    if (json::parse(*decoded.id) != *id) std::abort();
  } else if (id != parsed.end() && (id->is_number_integer() || id->is_string())) {
    std::abort();
  }

  // A pub's data is the same value nlohmann sees.
  if (!decoded.fault && decoded.op == Op::pub) {
    const auto& pub = std::get<Pub>(decoded.request);
    if (json::parse(pub.data) != parsed.at("data")) std::abort();
    if (parsed.at("topic") != pub.topic) std::abort();
  }
  if (!decoded.fault && decoded.op == Op::hello) {
    const auto& hello = std::get<Hello>(decoded.request);
    if (hello.name && parsed.at("name") != *hello.name) std::abort();
  }
  return 0;
}
