#pragma once
// A validating JSON scanner that builds no tree: it checks one frame against RFC 8259
// (UTF-8 included, nesting bounded) and slices the members of its top-level object, so
// that a request's fields are read, and its `data` passed on, without re-serialising.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::protocol::json_scan {

enum class Kind { object, array, string, number, boolean, null };

struct Value {
  Kind kind = Kind::null;
  std::string_view text;  // the value's exact bytes; strings include their quotes
  bool escaped = false;   // strings only: the text holds a backslash escape
  bool integral = false;  // numbers only: no fraction and no exponent
};

struct Member {
  std::string_view key;  // raw key between the quotes
  bool key_escaped = false;
  Value value;
};

enum class Status { ok, syntax, too_deep, bad_utf8 };

struct Document {
  Value root;
  std::vector<Member> members;  // the root object's members in order (empty otherwise)
};

// Scans exactly one JSON value surrounded by optional whitespace. `max_depth` counts
// the outermost container as level 1.
Status scan(std::string_view text, int max_depth, Document& out);

// The string a (valid, scanned) string value holds, escapes resolved.
std::string string_value(const Value& value);
// The key of a member, escapes resolved.
std::string key_value(const Member& member);

// An integral number value as int64 or uint64, when it fits either (as nlohmann reads
// integers); empty for anything else.
struct Integer {
  bool negative;
  std::uint64_t magnitude;
};
std::optional<Integer> integer_value(const Value& value);

}  // namespace parley::protocol::json_scan
