#include "subscription_index.hpp"

#include <algorithm>

namespace parley::server {
namespace {

void erase_id(std::vector<SessionId>& ids, SessionId id) {
  if (auto it = std::find(ids.begin(), ids.end(), id); it != ids.end()) ids.erase(it);
}

}  // namespace

SubscriptionIndex::SubscriptionIndex() : root_(std::make_unique<Node>()) {}
SubscriptionIndex::~SubscriptionIndex() = default;

SubscriptionIndex::Node* SubscriptionIndex::find_or_create(std::string_view pattern) {
  Node* node = root_.get();
  while (true) {
    const auto dot = pattern.find('.');
    const std::string_view token = pattern.substr(0, dot);
    if (token == ">") return node;  // '>' is always last; its subscribers sit in node->tail
    std::unique_ptr<Node>* slot = nullptr;
    if (token == "*") {
      slot = &node->star;
    } else if (auto it = node->children.find(token); it != node->children.end()) {
      slot = &it->second;
    } else {
      slot = &node->children.emplace(std::string(token), nullptr).first->second;
    }
    if (!*slot) {
      *slot = std::make_unique<Node>();
      (*slot)->parent = node;
      (*slot)->token = std::string(token);
      ++nodes_;
    }
    node = slot->get();
    if (dot == std::string_view::npos) return node;
    pattern.remove_prefix(dot + 1);
  }
}

void SubscriptionIndex::add(std::string_view pattern, SessionId session,
                            const std::optional<std::string>& group) {
  const bool tail = pattern == ">" || pattern.ends_with(".>");
  Node* node = find_or_create(pattern);
  auto& subs = tail ? node->tail : node->exact;
  if (!subs) subs = std::make_unique<Subscribers>();
  if (group) {
    auto it = subs->groups.find(*group);
    if (it == subs->groups.end()) it = subs->groups.emplace(*group, Group{}).first;
    it->second.members.push_back(session);
  } else {
    subs->plain.push_back(session);
  }
}

void SubscriptionIndex::remove(std::string_view pattern, SessionId session,
                               const std::optional<std::string>& group) {
  const bool tail = pattern == ">" || pattern.ends_with(".>");
  // Walk without creating: a pattern that was never added leaves the trie untouched.
  Node* node = root_.get();
  std::string_view rest = pattern;
  while (node != nullptr) {
    const auto dot = rest.find('.');
    const std::string_view token = rest.substr(0, dot);
    if (token == ">") break;
    if (token == "*") {
      node = node->star.get();
    } else {
      auto it = node->children.find(token);
      node = it == node->children.end() ? nullptr : it->second.get();
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (node == nullptr) return;
  auto& subs = tail ? node->tail : node->exact;
  if (!subs) return;
  if (group) {
    if (auto it = subs->groups.find(*group); it != subs->groups.end()) {
      Group& g = it->second;
      const auto pos = std::find(g.members.begin(), g.members.end(), session);
      if (pos != g.members.end()) {
        // Keep the cursor on the member that was due next.
        const auto index = static_cast<std::size_t>(pos - g.members.begin());
        g.members.erase(pos);
        if (index < g.next) --g.next;
        if (g.next >= g.members.size()) g.next = 0;
      }
      if (g.members.empty()) subs->groups.erase(it);
    }
  } else {
    erase_id(subs->plain, session);
  }
  if (subs->empty()) subs.reset();
  prune(node);
}

void SubscriptionIndex::prune(Node* node) {
  while (node != root_.get() && node->empty()) {
    Node* parent = node->parent;
    if (node->token == "*" && parent->star.get() == node) {
      parent->star.reset();
    } else {
      parent->children.erase(node->token);
    }
    --nodes_;
    node = parent;
  }
}

}  // namespace parley::server
