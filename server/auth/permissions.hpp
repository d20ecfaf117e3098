#pragma once
// One account's rights (PROTOCOL.md "Permissions"), compiled once from its lists.
//
// - A missing allow list allows every topic, '$' topics included; a listed pattern
//   follows the matching rules, so `>` does not reach '$' topics: list `$sys.>` for them.
//   (Publishing to a '$' topic stays forbidden by the protocol whatever the account says;
//   that rule is the dispatcher's.) A missing deny list denies nothing.
// - A concrete topic is allowed when an allow pattern matches it and no deny pattern does.
// - A subscription pattern is allowed when it is contained in some allow pattern and in no
//   deny_subscribe pattern (such a subscription could never deliver anything); one that
//   merely overlaps a deny pattern is allowed, and delivery_denied() filters its messages.
// - Publish rights cover a pub's topic and its reply topic: ask allow_publish for each.
// Cost: delivery_denied() is a boolean test for accounts without deny_subscribe, else one
// trie walk; the per-request checks walk tries, except allow_subscribe_pattern, which
// tests containment against each listed pattern (once per `sub`, never per message).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pattern_set.hpp"

namespace parley::auth {

// The lists as an account states them (patterns already validated). nullopt: not given.
struct PermissionLists {
  std::optional<std::vector<std::string>> publish;
  std::optional<std::vector<std::string>> subscribe;
  std::optional<std::vector<std::string>> deny_publish;
  std::optional<std::vector<std::string>> deny_subscribe;
  bool tell = true;
};

class Permissions {
 public:
  // Everything allowed, nothing denied.
  Permissions() = default;
  explicit Permissions(const PermissionLists& lists);

  // `pub` to a topic, or a `reply` naming it (a valid concrete topic).
  bool allow_publish(std::string_view topic) const noexcept;
  // `join`, `who`, `history` of a topic, and whether `topics` may list it.
  bool allow_subscribe_topic(std::string_view topic) const noexcept;
  // `sub` to a valid pattern (a concrete topic is a pattern too).
  bool allow_subscribe_pattern(std::string_view pattern) const noexcept;
  // Must a `msg` on this topic be withheld from the session (deny_subscribe)?
  bool delivery_denied(std::string_view topic) const noexcept {
    return has_deny_subscribe_ && deny_subscribe_.matches(topic);
  }
  bool allow_tell() const noexcept { return tell_; }
  // Can delivery_denied() ever be true? False lets a session skip the check entirely.
  bool filters_delivery() const noexcept { return has_deny_subscribe_; }

 private:
  bool publish_all_ = true;
  bool subscribe_all_ = true;
  bool has_deny_subscribe_ = false;
  bool tell_ = true;
  PatternSet publish_;
  PatternSet subscribe_;
  PatternSet deny_publish_;
  PatternSet deny_subscribe_;
  std::vector<std::string> subscribe_patterns_;       // for containment
  std::vector<std::string> deny_subscribe_patterns_;  // for containment
};

}  // namespace parley::auth
