#include "parley/protocol/decode.hpp"

#include "parley/protocol/frames.hpp"

#include <charconv>

#include "parley/protocol/json_scan.hpp"
#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"
#include "parley/protocol/version.hpp"

namespace parley::protocol {
namespace {

using json_scan::Kind;
using json_scan::Member;
using json_scan::Value;

// Thrown inside one frame's decoding only; caught in decode_request.
struct FieldFault {
  FaultStage stage;
  ErrorCode code;
  std::string message;
};

[[noreturn]] void fail(FaultStage stage, ErrorCode code, std::string message) {
  throw FieldFault{stage, code, std::move(message)};
}

[[noreturn]] void bad_field(std::string_view field, std::string_view expected) {
  fail(FaultStage::fields, ErrorCode::bad_request,
       std::string("field '").append(field).append("' must be ").append(expected));
}

// Reads fields of one request object from its scanned members. As with JSON objects in
// general, a repeated key takes its last value. Optional fields treat null as absent.
class Fields {
 public:
  explicit Fields(const std::vector<Member>& members) : members_(members) {}

  // The member's value, null included; nullptr when the key is absent.
  const Value* find_any(std::string_view key) const {
    for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
      if (it->key_escaped ? json_scan::key_value(*it) == key : it->key == key) return &it->value;
    }
    return nullptr;
  }

  const Value* find(std::string_view key) const {
    const Value* value = find_any(key);
    return value == nullptr || value->kind == Kind::null ? nullptr : value;
  }

  std::optional<std::string> optional_string(std::string_view key) const {
    const Value* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (value->kind != Kind::string) bad_field(key, "a string");
    return json_scan::string_value(*value);
  }

  std::string required_string(std::string_view key) const {
    auto value = optional_string(key);
    if (!value) bad_field(key, "a string");
    return std::move(*value);
  }

  std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, std::string_view expected) const {
    const Value* value = find(key);
    if (value == nullptr) return std::nullopt;
    const auto integer = json_scan::integer_value(*value);
    if (!integer) bad_field(key, expected);
    if (integer->negative) {
      if (min >= 0 || integer->magnitude > static_cast<std::uint64_t>(-(min + 1)) + 1)
        bad_field(key, expected);
      return -static_cast<std::int64_t>(integer->magnitude - 1) - 1;
    }
    if (integer->magnitude > static_cast<std::uint64_t>(max) ||
        static_cast<std::int64_t>(integer->magnitude) < min) {
      bad_field(key, expected);
    }
    return static_cast<std::int64_t>(integer->magnitude);
  }

  std::optional<std::uint64_t> optional_seq(std::string_view key) const {
    const Value* value = find(key);
    if (value == nullptr) return std::nullopt;
    const auto integer = json_scan::integer_value(*value);
    if (!integer || (integer->negative && integer->magnitude != 0))
      bad_field(key, "a non-negative integer");
    return integer->magnitude;
  }

  // A non-negative integer of any size, capped at `cap`: asking for more than the server
  // keeps is not an error, whatever the number's magnitude.
  int optional_capped_count(std::string_view key, int cap) const {
    const Value* value = find(key);
    if (value == nullptr) return 0;
    const bool integral = value->kind == Kind::number && value->integral;
    // Empty for integers past 64 bits, whose sign is then read from the text.
    const auto integer = integral ? json_scan::integer_value(*value) : std::nullopt;
    if (!integral || (integer ? integer->negative : value->text.front() == '-'))
      bad_field(key, "a non-negative integer");
    if (!integer || integer->magnitude > static_cast<std::uint64_t>(cap)) return cap;
    return static_cast<int>(integer->magnitude);
  }

  std::string required_data(std::string_view key) const {
    const Value* value = find_any(key);
    if (value == nullptr) bad_field(key, "present (any JSON value)");
    return std::string(value->text);
  }

 private:
  const std::vector<Member>& members_;
};

void check_topic(std::string_view field, const std::string& topic) {
  if (!is_valid_topic(topic)) {
    const char* why = is_valid_pattern(topic) ? "' takes a concrete topic, not a pattern"
                                              : "' is not a valid topic";
    fail(FaultStage::names, ErrorCode::bad_topic, std::string("'").append(field).append(why));
  }
}

void check_pattern(std::string_view field, const std::string& pattern) {
  if (!is_valid_pattern(pattern)) {
    fail(FaultStage::names, ErrorCode::bad_topic,
         std::string("'").append(field).append("' is not a valid pattern"));
  }
}

void check_not_system(std::string_view field, const std::string& topic) {
  if (is_system_topic(topic)) {
    fail(FaultStage::permissions, ErrorCode::forbidden,
         std::string("'").append(field).append("' names a server topic ($...)"));
  }
}

// Each decoder fills `out` as far as it gets, so the server can still read a hello's
// token when a later field is at fault.
void decode_hello(const Fields& f, Request& out) {
  Hello& hello = out.emplace<Hello>();
  const Value* token = f.find("token");
  if (token != nullptr && token->kind == Kind::string)
    hello.token = json_scan::string_value(*token);
  if (token != nullptr && token->kind != Kind::string) bad_field("token", "a string");
  hello.name = f.optional_string("name");
  hello.password = f.optional_string("password");
  if (const Value* echo = f.find("echo")) {
    if (echo->kind != Kind::boolean) bad_field("echo", "a boolean");
    hello.echo = echo->text == "true";
  }
  if (const Value* version = f.find("protocol")) {
    const auto integer = json_scan::integer_value(*version);
    if (!integer || integer->negative ||
        integer->magnitude != static_cast<std::uint64_t>(kProtocolVersion)) {
      bad_field("protocol", "1");
    }
  }
  if (hello.name && (!is_valid_name(*hello.name) || is_reserved_name(*hello.name))) {
    fail(FaultStage::names, ErrorCode::bad_name,
         is_valid_name(*hello.name) ? "names starting with 'guest-' are reserved"
                                    : "a name is 1-32 characters of A-Z a-z 0-9 _ . -");
  }
}

void decode_sub(const Fields& f, Request& out) {
  Sub sub;
  sub.pattern = f.required_string("topic");
  sub.group = f.optional_string("group");
  if (sub.group && (sub.group->empty() || sub.group->size() > kMaxTopicBytes)) {
    bad_field("group", "a string of 1-255 bytes");
  }
  check_pattern("topic", sub.pattern);
  out = std::move(sub);
}

void decode_pub(const Fields& f, Request& out) {
  Pub pub;
  pub.topic = f.required_string("topic");
  pub.data = f.required_data("data");
  pub.reply = f.optional_string("reply");
  check_topic("topic", pub.topic);
  if (pub.reply) check_topic("reply", *pub.reply);
  check_not_system("topic", pub.topic);
  if (pub.reply) check_not_system("reply", *pub.reply);
  out = std::move(pub);
}

void decode_join(const Fields& f, Request& out) {
  Join join;
  join.topic = f.required_string("topic");
  join.history = f.optional_capped_count("history", kMaxHistoryLimit);
  join.since = f.optional_seq("since");
  join.epoch = f.optional_string("epoch");
  check_topic("topic", join.topic);
  check_not_system("topic", join.topic);
  out = std::move(join);
}

void decode_history(const Fields& f, Request& out) {
  History history;
  history.topic = f.required_string("topic");
  history.limit =
      static_cast<int>(f.optional_integer("limit", 1, kMaxHistoryLimit, "an integer from 1 to 1000")
                           .value_or(kDefaultHistoryLimit));
  history.before = f.optional_seq("before");
  history.after = f.optional_seq("after");
  if (history.before && history.after) {
    fail(FaultStage::fields, ErrorCode::bad_request,
         "fields 'before' and 'after' cannot be given together");
  }
  check_topic("topic", history.topic);
  out = std::move(history);
}

void decode_topics(const Fields& f, Request& out) {
  Topics topics;
  topics.pattern = f.optional_string("pattern");
  topics.limit =
      static_cast<int>(f.optional_integer("limit", 1, kMaxTopicsLimit, "an integer from 1 to 1000")
                           .value_or(kMaxTopicsLimit));
  topics.after = f.optional_string("after");
  if (topics.pattern) check_pattern("pattern", *topics.pattern);
  if (topics.after) check_topic("after", *topics.after);
  out = std::move(topics);
}

void decode_fields(Op op, const Fields& f, Request& out) {
  switch (op) {
    case Op::hello:
      return decode_hello(f, out);
    case Op::sub:
      return decode_sub(f, out);
    case Op::unsub: {
      Unsub unsub{f.required_string("topic")};
      check_pattern("topic", unsub.pattern);
      out = std::move(unsub);
      return;
    }
    case Op::pub:
      return decode_pub(f, out);
    case Op::join:
      return decode_join(f, out);
    case Op::leave: {
      Leave leave{f.required_string("topic")};
      check_topic("topic", leave.topic);
      out = std::move(leave);
      return;
    }
    case Op::tell: {
      Tell tell;
      tell.to = f.required_string("to");
      tell.data = f.required_data("data");
      out = std::move(tell);
      return;
    }
    case Op::who: {
      Who who{f.required_string("topic")};
      check_topic("topic", who.topic);
      out = std::move(who);
      return;
    }
    case Op::topics:
      return decode_topics(f, out);
    case Op::history:
      return decode_history(f, out);
    case Op::stats:
      out = Stats{};
      return;
    case Op::ping:
      out = Ping{};
      return;
    case Op::pong:
      out = Pong{};
      return;
    case Op::quit:
      out = Quit{};
      return;
  }
}

Decoded with_fault(Decoded decoded, FaultStage stage, ErrorCode code, std::string message) {
  decoded.fault = Fault{stage, code, std::move(message)};
  return decoded;
}

}  // namespace

Decoded decode_request(std::string_view frame) {
  Decoded decoded;
  // One document per thread keeps the member vector's capacity from frame to frame.
  thread_local json_scan::Document document;
  switch (json_scan::scan(frame, kMaxJsonDepth, document)) {
    case json_scan::Status::ok:
      break;
    case json_scan::Status::too_deep:
      return with_fault(std::move(decoded), FaultStage::json, ErrorCode::bad_json,
                        "JSON nested deeper than 128 levels");
    case json_scan::Status::bad_utf8:
      return with_fault(std::move(decoded), FaultStage::json, ErrorCode::bad_json,
                        "not valid UTF-8");
    case json_scan::Status::syntax:
      return with_fault(std::move(decoded), FaultStage::json, ErrorCode::bad_json,
                        "not valid JSON");
  }
  if (document.root.kind != Kind::object) {
    return with_fault(std::move(decoded), FaultStage::json, ErrorCode::bad_json,
                      "a frame must be a JSON object");
  }
  const Fields fields(document.members);

  bool id_is_bad = false;
  if (const Value* id = fields.find("id")) {
    if (id->kind == Kind::string) {
      decoded.id = std::string(id->text);
    } else if (const auto integer = json_scan::integer_value(*id)) {
      // Re-printed so that "-0" and the like echo in one canonical form.
      std::string text = integer->negative ? "-" : "";
      char digits[24];
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, integer->magnitude);
      (void)ec;
      decoded.id = text.append(digits, end);
    } else {
      id_is_bad = true;
    }
  }

  const Value* op = fields.find_any("op");
  if (op == nullptr || op->kind != Kind::string) {
    return with_fault(std::move(decoded), FaultStage::op, ErrorCode::bad_request,
                      "field 'op' must be a string");
  }
  const std::string op_name = json_scan::string_value(*op);
  decoded.op = op_from_string(op_name);
  if (!decoded.op) {
    std::string message = "unknown op ";
    append_json_string(message, op_name);
    return with_fault(std::move(decoded), FaultStage::op, ErrorCode::unknown_op,
                      std::move(message));
  }
  if (*decoded.op == Op::pong) {
    decoded.request = Pong{};
    return decoded;  // never answered, whatever it holds
  }

  std::optional<Fault> fault;
  try {
    decode_fields(*decoded.op, fields, decoded.request);
  } catch (FieldFault& f) {
    fault = Fault{f.stage, f.code, std::move(f.message)};
  }
  // The id is a field like the others: its fault outranks names and permissions.
  if (id_is_bad && (!fault || fault->stage != FaultStage::fields)) {
    fault = Fault{FaultStage::fields, ErrorCode::bad_request,
                  "field 'id' must be an integer or a string"};
  }
  decoded.fault = std::move(fault);
  return decoded;
}

}  // namespace parley::protocol
