#pragma once
// Per-topic state: the publish counter, room members and retained history, under one
// memory budget that evicts the least recently used topics first.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peer.hpp"
#include "subscription_index.hpp"

namespace parley::server {

struct Retained {
  std::uint64_t seq;
  SharedFrame frame;  // the live msg line, '\n' included
  std::string_view line() const noexcept { return {frame->data(), frame->size() - 1}; }
};

struct Topic {
  std::string name;
  std::uint64_t seq = 0;           // last seq given out; 0 before the first publish
  std::vector<SessionId> members;  // joined sessions, in join order
  std::deque<Retained> history;    // oldest first
  std::size_t history_bytes = 0;
  std::list<Topic*>::iterator lru;  // position in TopicStore's recency list
  bool listed() const noexcept { return !members.empty() || !history.empty(); }
};

class TopicStore {
 public:
  // `per_topic`: messages kept per topic (0 keeps none). `budget_bytes`: all history plus
  // per-topic bookkeeping together; past it, least recently used topics lose their history,
  // and those without members are forgotten (their seq restarts; `since` then reports
  // recovered:false, as the protocol asks when history was lost).
  TopicStore(std::size_t per_topic, std::size_t budget_bytes);
  ~TopicStore();
  TopicStore(const TopicStore&) = delete;
  TopicStore& operator=(const TopicStore&) = delete;

  Topic* find(std::string_view name);
  const Topic* find(std::string_view name) const;
  // Finds or creates `name` and marks it most recently used.
  Topic& touch(std::string_view name);
  // Retains a published frame under `topic` (already given its seq), then trims history and
  // the whole store to their limits, never evicting `topic` itself.
  void retain(Topic& topic, SharedFrame frame);
  // Forgets `topic` if it has neither members nor history and the store is over budget;
  // otherwise keeps its counter. Call after the last member left.
  void release(Topic& topic);

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [name, topic] : topics_) visit(*topic);
  }
  std::size_t size() const noexcept { return topics_.size(); }
  std::size_t listed_count() const noexcept;
  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t per_topic() const noexcept { return per_topic_; }

 private:
  static std::size_t overhead(const Topic& topic) noexcept;
  void drop_oldest(Topic& topic);
  void erase(Topic& topic);
  void enforce_budget(Topic* keep);

  std::size_t per_topic_;
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Topic>, TransparentStringHash, std::equal_to<>>
      topics_;
  std::list<Topic*> recency_;  // most recently used first
};

}  // namespace parley::server
