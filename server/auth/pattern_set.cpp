#include "pattern_set.hpp"

namespace parley::auth {
namespace {

// The first token of `text` and what follows its dot (empty and `last` when none).
struct Split {
  std::string_view token;
  std::string_view rest;
  bool last;
};

Split split_first(std::string_view text) noexcept {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return {text, {}, true};
  return {text.substr(0, dot), text.substr(dot + 1), false};
}

bool is_dollar(std::string_view token) noexcept {
  return !token.empty() && token.front() == '$';
}

}  // namespace

bool contained(std::string_view sub, std::string_view super) noexcept {
  bool first = true;
  while (true) {
    const auto s = split_first(sub);
    const auto q = split_first(super);
    if (q.token == ">") {
      // `super` takes one or more tokens here: `sub` has at least one, since it is
      // not exhausted; at the first token, it must not be able to match a '$' topic.
      return !(first && is_dollar(s.token));
    }
    if (s.token == ">") return false;  // only '>' covers '>'
    if (q.token == "*") {
      if (first && is_dollar(s.token)) return false;
    } else if (s.token != q.token) {
      return false;  // a literal covers only itself ('*' included)
    }
    if (s.last || q.last) return s.last && q.last;
    sub = s.rest;
    super = q.rest;
    first = false;
  }
}

void PatternSet::add(std::string_view pattern) {
  std::uint32_t node = 0;
  empty_ = false;
  while (true) {
    const auto s = split_first(pattern);
    if (s.token == ">") {
      nodes_[node].tail = true;
      return;
    }
    std::uint32_t next = 0;
    if (s.token == "*") {
      next = nodes_[node].star;
    } else if (const auto it = nodes_[node].literal.find(s.token);
               it != nodes_[node].literal.end()) {
      next = it->second;
    }
    if (next == 0) {
      next = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
      if (s.token == "*") {
        nodes_[node].star = next;
      } else {
        nodes_[node].literal.emplace(std::string(s.token), next);
      }
    }
    node = next;
    if (s.last) {
      nodes_[node].end = true;
      return;
    }
    pattern = s.rest;
  }
}

// Each trie node is reached by at most one path for a given topic, so the work is
// bounded by the number of nodes; the recursion depth by the topic's tokens (at most 128).
bool PatternSet::match_from(std::uint32_t node, std::string_view rest, bool first) const noexcept {
  const auto t = split_first(rest);
  const Node& n = nodes_[node];
  const bool wild_ok = !(first && is_dollar(t.token));
  if (wild_ok && n.tail) return true;
  if (const auto it = n.literal.find(t.token); it != n.literal.end()) {
    const Node& child = nodes_[it->second];
    if (t.last ? child.end : match_from(it->second, t.rest, false)) return true;
  }
  if (wild_ok && n.star != 0) {
    const Node& child = nodes_[n.star];
    if (t.last ? child.end : match_from(n.star, t.rest, false)) return true;
  }
  return false;
}

bool PatternSet::matches(std::string_view topic) const noexcept {
  return !empty_ && match_from(0, topic, true);
}

}  // namespace parley::auth
