#pragma once
// Per-topic state: the publish counter and its epoch generation, room members and retained
// history, under one memory budget. Guarantees:
// - bytes() counts every topic at its cost on the heap: the record, its name, its hash
//   node and bucket, its recency-list node, its ordered-index node, its member list, its
//   history ring's slots and every retained frame (see TopicStore::cost). It stays within
//   the budget, except that the topic being written always keeps its newest message.
// - Over the budget, idle topics (no members, no retained history) are forgotten first,
//   least recently used first; only then do the least recently used topics lose their
//   history, and those without members are forgotten as well. A topic with members is never
//   forgotten. With `per_topic` 0 every topic without members is idle: its record (and so
//   its seq) is kept only while the budget allows, and goes before anything else.
// - forgotten_count() grows by one whenever a topic that had given out a seq is forgotten,
//   so a topic's `generation` (that count when its record was made) differs from that of
//   every earlier run of seqs under the same name: the hub builds epochs from it.
// - Listed topics (members or history) whose name does not start with '$' are kept in byte
//   order (listed_index()), so a range of them costs O(log n + entries visited).
// - Seqs in one topic's history are consecutive (every publish is retained, eviction takes
//   the oldest), so the message with a given seq is found by its offset from the oldest.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "peer.hpp"

namespace parley::server {

struct Retained {
  std::uint64_t seq = 0;
  SharedFrame frame;  // the live msg line, '\n' included
  std::string_view line() const noexcept { return {frame->data(), frame->size() - 1}; }
};

// A topic's retained messages, oldest first, in a ring that allocates nothing while empty
// (an empty std::deque allocates over 500 bytes) and grows by doubling up to its cap.
class RetainedRing {
 public:
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return slots_.size(); }
  // 0 is the oldest.
  const Retained& operator[](std::size_t i) const noexcept {
    return slots_[(head_ + i) % slots_.size()];
  }
  const Retained& front() const noexcept { return (*this)[0]; }
  const Retained& back() const noexcept { return (*this)[size_ - 1]; }
  // Appends; grows the slots up to `cap` (callers pop first when full at the cap).
  void push_back(Retained r, std::size_t cap);
  void pop_front() noexcept;

  class Iterator {
   public:
    Iterator(const RetainedRing* ring, std::size_t i) : ring_(ring), i_(i) {}
    const Retained& operator*() const noexcept { return (*ring_)[i_]; }
    Iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& other) const noexcept { return i_ != other.i_; }

   private:
    const RetainedRing* ring_;
    std::size_t i_;
  };
  Iterator begin() const noexcept { return {this, 0}; }
  Iterator end() const noexcept { return {this, size_}; }

 private:
  std::vector<Retained> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

struct Topic;

// Orders topics by name; compares with a name directly too (transparent lookups).
struct TopicByName {
  using is_transparent = void;
  bool operator()(const Topic* a, const Topic* b) const noexcept;
  bool operator()(const Topic* a, std::string_view b) const noexcept;
  bool operator()(std::string_view a, const Topic* b) const noexcept;
};
using ListedIndex = std::set<const Topic*, TopicByName>;

struct Topic {
  enum class State { idle, held, historied };  // which recency list holds the topic

  std::string name;
  std::uint64_t seq = 0;           // last seq given out; 0 before the first publish
  std::uint64_t generation = 0;    // the store's forgotten_count() when this record was made
  std::vector<SessionId> members;  // joined sessions, in join order
  RetainedRing history;            // oldest first
  std::size_t history_bytes = 0;   // what the retained frames cost (TopicStore::frame_cost)
  std::size_t charged = 0;         // what the store counts for this topic in bytes()
  State state = State::idle;
  std::list<Topic*>::iterator lru;  // position in the store's list for `state`
  bool listed() const noexcept { return !members.empty() || !history.empty(); }
};

class TopicStore {
 public:
  // `per_topic`: messages kept per topic (0 keeps none). `budget_bytes`: everything
  // bytes() counts.
  TopicStore(std::size_t per_topic, std::size_t budget_bytes);
  ~TopicStore();
  TopicStore(const TopicStore&) = delete;
  TopicStore& operator=(const TopicStore&) = delete;

  Topic* find(std::string_view name);
  const Topic* find(std::string_view name) const;
  // Finds or creates `name` and marks it most recently used; may forget or trim others.
  Topic& touch(std::string_view name);
  // Retains a published frame under `topic` (already given its seq), then trims history and
  // the whole store to their limits, never evicting `topic` itself.
  void retain(Topic& topic, SharedFrame frame);
  void add_member(Topic& topic, SessionId id);
  // Removes a member; then release() may forget the topic.
  void remove_member(Topic& topic, SessionId id);
  // Forgets `topic` if it is idle and the store is over budget. `topic` must not be used
  // afterwards.
  void release(Topic& topic);

  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const auto& [name, topic] : topics_) visit(*topic);
  }
  std::size_t size() const noexcept { return topics_.size(); }
  // Topics with members or history, '$' topics included; kept up to date, O(1).
  std::size_t listed_count() const noexcept { return listed_count_; }
  // Listed topics not starting with '$', in byte order.
  const ListedIndex& listed_index() const noexcept { return listed_; }
  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t budget() const noexcept { return budget_; }
  std::size_t per_topic() const noexcept { return per_topic_; }
  std::uint64_t forgotten_count() const noexcept { return forgotten_; }

  // What one retained frame costs on the heap (its shared control block with the string
  // inside, and the string's buffer).
  static std::size_t frame_cost(const SharedFrame& frame) noexcept;
  // What `topic` costs in all, as counted in bytes().
  static std::size_t cost(const Topic& topic) noexcept;

 private:
  std::list<Topic*>& list_of(Topic::State state) noexcept;
  void recharge(Topic& topic) noexcept;
  void restate(Topic& topic);
  void drop_oldest(Topic& topic);
  void forget(Topic& topic);
  void enforce_budget(Topic* keep);

  std::size_t per_topic_;
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::size_t listed_count_ = 0;
  std::uint64_t forgotten_ = 0;
  // Keys view the name inside each (heap-allocated, never moved) Topic.
  std::unordered_map<std::string_view, std::unique_ptr<Topic>> topics_;
  ListedIndex listed_;
  // Recency lists, most recently used first: idle topics, topics with members and no
  // history, topics with history.
  std::list<Topic*> idle_;
  std::list<Topic*> held_;
  std::list<Topic*> historied_;
};

}  // namespace parley::server
