#pragma once
// Typed client requests. Every string field here has passed its type check; topics,
// patterns and names have passed their syntax checks as well (see decode.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace parley::protocol {

struct Hello {
  std::optional<std::string> name;
  std::optional<std::string> token;
  std::optional<std::string> password;  // for accounts; ignored while only a token exists
  bool echo = true;                     // `protocol`, when given, was 1
};
struct Sub {
  std::string pattern;
  std::optional<std::string> group;
};
struct Unsub {
  std::string pattern;
};
struct Pub {
  std::string topic;
  std::string data;  // the data value as compact JSON text
  std::optional<std::string> reply;
};
struct Join {
  std::string topic;
  int history = 0;  // already capped at kMaxHistoryLimit
  std::optional<std::uint64_t> since;
  std::optional<std::string> epoch;  // the epoch the client last saw, with `since`
};
struct Leave {
  std::string topic;
};
struct Tell {
  std::string to;
  std::string data;  // compact JSON text
};
struct Who {
  std::string topic;
};
struct Topics {
  std::optional<std::string> pattern;
  int limit = 1000;                  // 1..kMaxTopicsLimit
  std::optional<std::string> after;  // a topic: list those after it in byte order
};
struct History {
  std::string topic;
  int limit = 50;
  std::optional<std::uint64_t> before;
  std::optional<std::uint64_t> after;  // never together with `before`
};
struct Stats {};
struct Ping {};
struct Pong {};
struct Quit {};

using Request = std::variant<Hello, Sub, Unsub, Pub, Join, Leave, Tell, Who, Topics, History, Stats,
                             Ping, Pong, Quit>;

// The op names, in the variant's order.
enum class Op {
  hello,
  sub,
  unsub,
  pub,
  join,
  leave,
  tell,
  who,
  topics,
  history,
  stats,
  ping,
  pong,
  quit
};

std::string_view to_string(Op op) noexcept;
std::optional<Op> op_from_string(std::string_view name) noexcept;

}  // namespace parley::protocol
