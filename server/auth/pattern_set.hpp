#pragma once
// A set of subscription patterns compiled into a token trie, and pattern containment.
// Both follow PROTOCOL.md's matching rules, including the '$' rule: a wildcard ('*' or
// '>') in the first token never matches a topic whose first token starts with '$'.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace parley::auth {

// Is every topic that `sub` matches also matched by `super`? Both must be valid patterns
// (protocol::is_valid_pattern); a concrete topic is a pattern matching only itself.
// Because of the '$' rule, a first-token wildcard of `super` covers neither a '$' literal
// nor anything that could match one, so `$sys.x` is contained in `$sys.*` and `$sys.>`
// but not in `>` or `*.x`; a first-token wildcard of `sub` matches no '$' topic either,
// so `*.x` is contained in `*.x` and `>` but never in a '$' pattern.
bool contained(std::string_view sub, std::string_view super) noexcept;

// Does any pattern of the set match a concrete topic? The cost is bounded by the trie's
// nodes along the topic's tokens, never by a scan of the patterns.
class PatternSet {
 public:
  PatternSet() = default;
  // Adds a valid pattern (protocol::is_valid_pattern: checked by the caller).
  void add(std::string_view pattern);
  // `topic` must be a valid concrete topic.
  bool matches(std::string_view topic) const noexcept;
  bool empty() const noexcept { return empty_; }

 private:
  struct Node {
    std::map<std::string, std::uint32_t, std::less<>> literal;
    std::uint32_t star = 0;  // 0: none (the root is never a child)
    bool end = false;        // a pattern ends here
    bool tail = false;       // a pattern continues here with '>'
  };
  bool match_from(std::uint32_t node, std::string_view rest, bool first) const noexcept;

  std::vector<Node> nodes_{Node{}};  // nodes_[0] is the root
  bool empty_ = true;
};

}  // namespace parley::auth
