#pragma once
// Pattern subscriptions in a token trie, so that a publish finds its subscribers without
// scanning every subscription. Queue groups live at the pattern they were made on.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peer.hpp"

namespace parley::server {

struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

class SubscriptionIndex {
 public:
  // Subscribers of one queue group on one pattern; `next` is the round-robin cursor.
  struct Group {
    std::vector<SessionId> members;
    std::size_t next = 0;
  };

  SubscriptionIndex();
  ~SubscriptionIndex();
  SubscriptionIndex(const SubscriptionIndex&) = delete;
  SubscriptionIndex& operator=(const SubscriptionIndex&) = delete;

  // Adds `session` under a valid pattern, plainly or in `group`. The caller ensures the
  // session is not already subscribed to this pattern (remove first to change group).
  void add(std::string_view pattern, SessionId session, const std::optional<std::string>& group);
  // Removes what add() made; empty trie nodes are freed so that churn cannot grow memory.
  void remove(std::string_view pattern, SessionId session, const std::optional<std::string>& group);

  // Visits every subscription whose pattern matches a valid concrete topic:
  // on_plain(SessionId) for plain ones, on_group(Group&) for each matching queue group.
  template <class OnPlain, class OnGroup>
  void match(std::string_view topic, OnPlain&& on_plain, OnGroup&& on_group);

  // Trie nodes in use, the root included: lets tests prove that removal frees memory.
  std::size_t node_count() const noexcept { return nodes_; }

 private:
  struct Subscribers {
    std::vector<SessionId> plain;
    std::map<std::string, Group, std::less<>> groups;
    bool empty() const noexcept { return plain.empty() && groups.empty(); }
  };
  struct Node {
    Node* parent = nullptr;
    std::string token;  // this node's key in its parent; "*" for a star child
    std::unordered_map<std::string, std::unique_ptr<Node>, TransparentStringHash, std::equal_to<>>
        children;
    std::unique_ptr<Node> star;
    std::unique_ptr<Subscribers> exact;  // patterns that end at this node
    std::unique_ptr<Subscribers> tail;   // patterns that end with '>' below this node
    bool empty() const noexcept { return children.empty() && !star && !exact && !tail; }
  };

  template <class OnPlain, class OnGroup>
  static void visit(Subscribers* subs, OnPlain& on_plain, OnGroup& on_group);
  template <class OnPlain, class OnGroup>
  void match_node(Node& node, std::string_view rest, bool skip_wildcards, OnPlain& on_plain,
                  OnGroup& on_group);
  Node* find_or_create(std::string_view pattern);
  void prune(Node* node);

  std::unique_ptr<Node> root_;
  std::size_t nodes_ = 1;
};

template <class OnPlain, class OnGroup>
void SubscriptionIndex::visit(Subscribers* subs, OnPlain& on_plain, OnGroup& on_group) {
  if (subs == nullptr) return;
  for (SessionId id : subs->plain) on_plain(id);
  for (auto& [name, group] : subs->groups) on_group(group);
}

template <class OnPlain, class OnGroup>
void SubscriptionIndex::match_node(Node& node, std::string_view rest, bool skip_wildcards,
                                   OnPlain& on_plain, OnGroup& on_group) {
  // `rest` holds at least one token here.
  const auto dot = rest.find('.');
  const std::string_view token = rest.substr(0, dot);
  const std::string_view after =
      dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  const bool last = dot == std::string_view::npos;
  if (!skip_wildcards) visit(node.tail.get(), on_plain, on_group);
  const auto step = [&](Node* child) {
    if (child == nullptr) return;
    if (last) {
      visit(child->exact.get(), on_plain, on_group);
    } else {
      match_node(*child, after, false, on_plain, on_group);
    }
  };
  if (auto it = node.children.find(token); it != node.children.end()) step(it->second.get());
  if (!skip_wildcards) step(node.star.get());
}

template <class OnPlain, class OnGroup>
void SubscriptionIndex::match(std::string_view topic, OnPlain&& on_plain, OnGroup&& on_group) {
  if (topic.empty()) return;
  // A wildcard in the first token never matches a server ('$') topic.
  match_node(*root_, topic, topic.front() == '$', on_plain, on_group);
}

}  // namespace parley::server
