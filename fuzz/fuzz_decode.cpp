// decode_request on arbitrary bytes. It never throws; a fault's code belongs to its stage;
// it agrees with nlohmann/json (an independent parser) on what is JSON, what is an object,
// the op, the id and the fields it reads; and a request it accepts satisfies the rules of
// PROTOCOL.md and survives being encoded again and decoded a second time unchanged.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <variant>

#include "parley/protocol/decode.hpp"
#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"
#include "parley/protocol/version.hpp"

using namespace parley::protocol;
using json = nlohmann::json;

namespace {

[[noreturn]] void fail() {
  std::abort();
}

void require(bool condition) {
  if (!condition) fail();
}

// The stage each code decode may report belongs to; anything else it must never report.
bool code_fits_stage(ErrorCode code, FaultStage stage) {
  switch (code) {
    case ErrorCode::bad_json:
      return stage == FaultStage::json;
    case ErrorCode::bad_request:
      return stage == FaultStage::op || stage == FaultStage::fields;
    case ErrorCode::unknown_op:
      return stage == FaultStage::op;
    case ErrorCode::bad_name:
    case ErrorCode::bad_topic:
      return stage == FaultStage::names;
    case ErrorCode::forbidden:
      return stage == FaultStage::permissions;
    default:
      return false;
  }
}

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

// nlohmann refuses numbers past double's range ("number overflow", 1e999999), which are
// valid JSON and which the library passes on as written (PROTOCOL.md: any JSON value). So
// that the reference judges syntax only, every number token outside strings whose value
// overflows a double is replaced by 0.0 before nlohmann sees the text. Only complete tokens
// of the RFC 8259 number grammar are replaced, so no invalid text is made valid: a token
// that is not a valid number stays as it is, for nlohmann to refuse.
bool is_json_number(std::string_view t) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t from = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > from;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

std::string without_huge_numbers(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && (c < '0' || c > '9')) {
      out.push_back(c);
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && std::strchr("0123456789+-.eE", text[end]) != nullptr &&
           text[end] != '\0') {
      ++end;
    }
    const std::string token = text.substr(i, end - i);
    const bool huge = is_json_number(token) && std::isinf(std::strtod(token.c_str(), nullptr));
    out.append(huge ? "0.0" : token);  // still a float, as the huge number is to nlohmann
    i = end;
  }
  return out;
}

template <class T>
void put(json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

// The request as a canonical frame, written with nlohmann rather than the library.
json encode(Op op, const Request& request) {
  json out = {{"op", std::string(to_string(op))}};
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, Hello>) {
          put(out, "name", r.name);
          put(out, "token", r.token);
          out["echo"] = r.echo;
          out["protocol"] = kProtocolVersion;
        } else if constexpr (std::is_same_v<T, Sub>) {
          out["topic"] = r.pattern;
          put(out, "group", r.group);
        } else if constexpr (std::is_same_v<T, Unsub>) {
          out["topic"] = r.pattern;
        } else if constexpr (std::is_same_v<T, Pub>) {
          out["topic"] = r.topic;
          out["data"] = json::parse(without_huge_numbers(r.data));
          put(out, "reply", r.reply);
        } else if constexpr (std::is_same_v<T, Join>) {
          out["topic"] = r.topic;
          out["history"] = r.history;
          put(out, "since", r.since);
        } else if constexpr (std::is_same_v<T, Leave> || std::is_same_v<T, Who>) {
          out["topic"] = r.topic;
        } else if constexpr (std::is_same_v<T, Tell>) {
          out["to"] = r.to;
          out["data"] = json::parse(without_huge_numbers(r.data));
        } else if constexpr (std::is_same_v<T, Topics>) {
          put(out, "pattern", r.pattern);
        } else if constexpr (std::is_same_v<T, History>) {
          out["topic"] = r.topic;
          out["limit"] = r.limit;
          put(out, "before", r.before);
        }
      },
      request);
  return out;
}

// What PROTOCOL.md promises of an accepted request.
void check_rules(const Request& request) {
  std::visit(
      [](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, Hello>) {
          if (r.name) require(is_valid_name(*r.name) && !is_reserved_name(*r.name));
        } else if constexpr (std::is_same_v<T, Sub>) {
          require(is_valid_pattern(r.pattern));
          if (r.group) require(!r.group->empty());
        } else if constexpr (std::is_same_v<T, Unsub>) {
          require(is_valid_pattern(r.pattern));
        } else if constexpr (std::is_same_v<T, Pub>) {
          require(is_valid_topic(r.topic) && !is_system_topic(r.topic));
          if (r.reply) require(is_valid_topic(*r.reply) && !is_system_topic(*r.reply));
          require(json::accept(without_huge_numbers(r.data)));
        } else if constexpr (std::is_same_v<T, Join>) {
          require(is_valid_topic(r.topic) && !is_system_topic(r.topic));
          require(r.history >= 0 && r.history <= kMaxHistoryLimit);
        } else if constexpr (std::is_same_v<T, Leave> || std::is_same_v<T, Who>) {
          require(is_valid_topic(r.topic));
        } else if constexpr (std::is_same_v<T, Tell>) {
          require(json::accept(without_huge_numbers(r.data)));
        } else if constexpr (std::is_same_v<T, Topics>) {
          if (r.pattern) require(is_valid_pattern(*r.pattern));
        } else if constexpr (std::is_same_v<T, History>) {
          require(is_valid_topic(r.topic));
          require(r.limit >= 1 && r.limit <= kMaxHistoryLimit);
        }
      },
      request);
}

void check(const std::string& frame) {
  const Decoded decoded = decode_request(frame);

  // Faults on their own: code and stage agree, the op is known past the op stage, and a
  // pong never faults.
  if (decoded.fault) {
    require(code_fits_stage(decoded.fault->code, decoded.fault->stage));
    require(!decoded.fault->message.empty());
    const bool before_op =
        decoded.fault->stage == FaultStage::json || decoded.fault->stage == FaultStage::op;
    require(decoded.op.has_value() != before_op);
    if (decoded.fault->stage == FaultStage::json) require(!decoded.id);
  } else {
    require(decoded.op.has_value());
    require(decoded.request.index() == static_cast<std::size_t>(*decoded.op));
    check_rules(decoded.request);
  }
  if (decoded.op == Op::pong) require(!decoded.fault);

  // Accepted requests: encoded again, they decode to the same request and id.
  if (!decoded.fault) {
    json again = encode(*decoded.op, decoded.request);
    if (decoded.id) again["id"] = json::parse(*decoded.id);
    const Decoded second = decode_request(again.dump());
    require(!second.fault && second.op == decoded.op);
    require(encode(*second.op, second.request) == encode(*decoded.op, decoded.request));
    require(second.id.has_value() == decoded.id.has_value());
    if (decoded.id) require(json::parse(*second.id) == json::parse(*decoded.id));
  }

  // nlohmann stops reading at a NUL after a complete value (it accepts "{}\0") and skips a
  // byte order mark; RFC 8259 allows neither, and we refuse both. Past them the reference
  // says nothing.
  if (frame.find('\0') != std::string::npos || frame.starts_with("\xef\xbb\xbf")) return;
  const std::string reference = without_huge_numbers(frame);
  const bool is_json = json::accept(reference);
  const bool bad_json = decoded.fault && decoded.fault->code == ErrorCode::bad_json;
  if (!is_json || depth_of(frame) > kMaxJsonDepth) {
    require(bad_json);  // never accept what a strict parser refuses or what is too deep
    return;
  }
  const json parsed = json::parse(reference);
  require(bad_json == !parsed.is_object());
  if (bad_json) return;

  // The op as nlohmann sees it.
  const auto op = parsed.find("op");
  if (op == parsed.end() || !op->is_string()) {
    require(decoded.fault && decoded.fault->code == ErrorCode::bad_request &&
            decoded.fault->stage == FaultStage::op);
    return;
  }
  const auto op_name = op_from_string(op->get<std::string>());
  require(decoded.op == op_name);
  if (!op_name) require(decoded.fault && decoded.fault->code == ErrorCode::unknown_op);

  // id: an integer or string is echoed with the same value; anything else never is, and is
  // a bad_request unless an op fault comes first or the frame is a pong.
  const auto id = parsed.find("id");
  const bool id_ok = id != parsed.end() && (id->is_number_integer() || id->is_string());
  require(decoded.id.has_value() == id_ok);
  if (id_ok) require(json::parse(*decoded.id) == *id);
  const bool id_bad = id != parsed.end() && !id_ok && !id->is_null();
  if (id_bad && op_name && op_name != Op::pong) {
    require(decoded.fault && decoded.fault->code == ErrorCode::bad_request &&
            decoded.fault->stage == FaultStage::fields);
  }

  // The fields read agree with nlohmann's reading of the frame.
  if (decoded.fault) return;
  const auto same = [&](const char* key, const auto& value) {
    require(parsed.contains(key) && parsed.at(key) == value);
  };
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, Hello>) {
          if (r.name) same("name", *r.name);
          if (r.token) same("token", *r.token);
          if (!r.echo) same("echo", false);
        } else if constexpr (std::is_same_v<T, Sub>) {
          same("topic", r.pattern);
          if (r.group) same("group", *r.group);
        } else if constexpr (std::is_same_v<T, Pub>) {
          same("topic", r.topic);
          same("data", json::parse(without_huge_numbers(r.data)));
          if (r.reply) same("reply", *r.reply);
        } else if constexpr (std::is_same_v<T, Tell>) {
          same("to", r.to);
          same("data", json::parse(without_huge_numbers(r.data)));
        } else if constexpr (std::is_same_v<T, Join>) {
          same("topic", r.topic);
          if (r.since) same("since", *r.since);
        } else if constexpr (std::is_same_v<T, History>) {
          same("topic", r.topic);
          if (r.before) same("before", *r.before);
        }
      },
      decoded.request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string frame(reinterpret_cast<const char*>(data), size);
  try {
    check(frame);
  } catch (...) {
    // decode_request promises never to throw, and the checks above only parse JSON that
    // decode already accepted: an exception here is a finding either way.
    fail();
  }
  return 0;
}
