#include "topic_store.hpp"

#include <algorithm>
#include <cassert>

#include "parley/protocol/topic.hpp"

namespace parley::server {
namespace {

// Heap costs as glibc's malloc has them on 64-bit systems: a chunk holds the request plus
// an 8-byte header, rounded up to 16 bytes, and is never smaller than 32.
constexpr std::size_t kMallocHeader = 8;
constexpr std::size_t kMallocAlign = 16;
constexpr std::size_t kMallocMinChunk = 32;

constexpr std::size_t heap_cost(std::size_t request) noexcept {
  const std::size_t chunk =
      (request + kMallocHeader + kMallocAlign - 1) / kMallocAlign * kMallocAlign;
  return std::max(chunk, kMallocMinChunk);
}

// A node of a node-based standard container: its links plus its value.
constexpr std::size_t kHashNodeLinks = 2 * sizeof(void*);  // next pointer and cached hash
constexpr std::size_t kListNodeLinks = 2 * sizeof(void*);  // prev and next
constexpr std::size_t kTreeNodeLinks = 4 * sizeof(void*);  // colour, parent, left, right
constexpr std::size_t kHashNodeCost =
    heap_cost(kHashNodeLinks + sizeof(std::string_view) + sizeof(std::unique_ptr<Topic>));
// The hash table keeps at least one bucket pointer per element (load factor at most 1) and
// up to two right after it doubles.
constexpr std::size_t kHashBucketCost = 2 * sizeof(void*);
constexpr std::size_t kListNodeCost = heap_cost(kListNodeLinks + sizeof(void*));  // a Topic*
// Charged whether or not the topic is in the ordered index now, so that listing a topic
// never pushes the store over its budget.
constexpr std::size_t kIndexNodeCost = heap_cost(kTreeNodeLinks + sizeof(void*));  // a Topic*
// make_shared<const std::string>: one block holding the control block and the string.
constexpr std::size_t kSharedStringControl = 2 * sizeof(int) + sizeof(void*);
constexpr std::size_t kFrameBlockCost = heap_cost(kSharedStringControl + sizeof(std::string));

// What a string's characters cost on the heap: nothing while they fit inside the object.
std::size_t string_heap_cost(const std::string& s) noexcept {
  const auto* object = reinterpret_cast<const char*>(&s);
  const bool inline_chars = s.data() >= object && s.data() < object + sizeof(std::string);
  return inline_chars ? 0 : heap_cost(s.capacity() + 1);
}

}  // namespace

void RetainedRing::push_back(Retained r, std::size_t cap) {
  if (size_ == slots_.size()) {
    std::vector<Retained> grown;
    grown.resize(std::clamp<std::size_t>(2 * size_, 1, std::max<std::size_t>(cap, 1)));
    for (std::size_t i = 0; i < size_; ++i)
      grown[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(grown);
    head_ = 0;
  }
  slots_[(head_ + size_) % slots_.size()] = std::move(r);
  ++size_;
}

void RetainedRing::pop_front() noexcept {
  slots_[head_] = Retained{};
  head_ = (head_ + 1) % slots_.size();
  if (--size_ == 0) {
    slots_ = {};  // an empty ring holds no memory
    head_ = 0;
  }
}

bool TopicByName::operator()(const Topic* a, const Topic* b) const noexcept {
  return a->name < b->name;
}
bool TopicByName::operator()(const Topic* a, std::string_view b) const noexcept {
  return std::string_view(a->name) < b;
}
bool TopicByName::operator()(std::string_view a, const Topic* b) const noexcept {
  return a < std::string_view(b->name);
}

TopicStore::TopicStore(std::size_t per_topic, std::size_t budget_bytes)
    : per_topic_(per_topic), budget_(budget_bytes) {}

TopicStore::~TopicStore() = default;

std::size_t TopicStore::frame_cost(const SharedFrame& frame) noexcept {
  return kFrameBlockCost + string_heap_cost(*frame);
}

std::size_t TopicStore::cost(const Topic& topic) noexcept {
  std::size_t total = heap_cost(sizeof(Topic)) + string_heap_cost(topic.name) + kHashNodeCost +
                      kHashBucketCost + kListNodeCost + kIndexNodeCost;
  if (topic.members.capacity() != 0)
    total += heap_cost(topic.members.capacity() * sizeof(SessionId));
  if (topic.history.capacity() != 0)
    total += heap_cost(topic.history.capacity() * sizeof(Retained));
  return total + topic.history_bytes;
}

std::list<Topic*>& TopicStore::list_of(Topic::State state) noexcept {
  switch (state) {
    case Topic::State::idle:
      return idle_;
    case Topic::State::held:
      return held_;
    case Topic::State::historied:
      break;
  }
  return historied_;
}

void TopicStore::recharge(Topic& topic) noexcept {
  bytes_ -= topic.charged;
  topic.charged = cost(topic);
  bytes_ += topic.charged;
}

// Moves `topic` to the list its contents call for, and into or out of the listing.
void TopicStore::restate(Topic& topic) {
  const Topic::State state = !topic.history.empty()   ? Topic::State::historied
                             : !topic.members.empty() ? Topic::State::held
                                                      : Topic::State::idle;
  if (state == topic.state) return;
  const bool was_listed = topic.state != Topic::State::idle;
  list_of(state).splice(list_of(state).begin(), list_of(topic.state), topic.lru);
  topic.state = state;
  const bool listed = state != Topic::State::idle;
  if (listed == was_listed) return;
  const bool indexed = !protocol::is_system_topic(topic.name);
  if (listed) {
    ++listed_count_;
    if (indexed) listed_.insert(&topic);
  } else {
    --listed_count_;
    if (indexed) listed_.erase(&topic);
  }
}

Topic* TopicStore::find(std::string_view name) {
  const auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

const Topic* TopicStore::find(std::string_view name) const {
  const auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

Topic& TopicStore::touch(std::string_view name) {
  if (Topic* topic = find(name)) {
    auto& list = list_of(topic->state);
    list.splice(list.begin(), list, topic->lru);
    return *topic;
  }
  auto owned = std::make_unique<Topic>();
  Topic& topic = *owned;
  topic.name = std::string(name);
  topic.name.shrink_to_fit();
  topic.generation = forgotten_;
  idle_.push_front(&topic);
  topic.lru = idle_.begin();
  topics_.emplace(std::string_view(topic.name), std::move(owned));
  recharge(topic);
  enforce_budget(&topic);
  return topic;
}

void TopicStore::retain(Topic& topic, SharedFrame frame) {
  if (per_topic_ == 0) return;
  assert(topic.history.empty() || topic.history.back().seq + 1 == topic.seq);
  if (topic.history.size() == per_topic_) drop_oldest(topic);
  topic.history_bytes += frame_cost(frame);
  topic.history.push_back(Retained{topic.seq, std::move(frame)}, per_topic_);
  recharge(topic);
  restate(topic);
  enforce_budget(&topic);
}

void TopicStore::add_member(Topic& topic, SessionId id) {
  topic.members.push_back(id);
  recharge(topic);
  restate(topic);
  enforce_budget(&topic);
}

void TopicStore::remove_member(Topic& topic, SessionId id) {
  auto& members = topic.members;
  members.erase(std::remove(members.begin(), members.end(), id), members.end());
  if (members.empty()) members = {};  // an empty member list holds no memory
  recharge(topic);
  restate(topic);
}

void TopicStore::release(Topic& topic) {
  if (!topic.listed() && bytes_ > budget_) forget(topic);
}

void TopicStore::drop_oldest(Topic& topic) {
  topic.history_bytes -= frame_cost(topic.history.front().frame);
  topic.history.pop_front();
}

void TopicStore::forget(Topic& topic) {
  assert(topic.members.empty());
  if (topic.seq != 0) ++forgotten_;
  while (!topic.history.empty()) drop_oldest(topic);
  recharge(topic);
  restate(topic);  // out of the listing
  bytes_ -= topic.charged;
  idle_.erase(topic.lru);
  topics_.erase(std::string_view(topic.name));
}

void TopicStore::enforce_budget(Topic* keep) {
  // First the idle topics: they hold nothing but their counter.
  for (auto it = idle_.end(); bytes_ > budget_ && it != idle_.begin();) {
    Topic& victim = **--it;
    if (&victim == keep) continue;
    ++it;  // the victim's node goes away with it
    forget(victim);
  }
  // Then history, least recently used topic first.
  for (auto it = historied_.end(); bytes_ > budget_ && it != historied_.begin();) {
    Topic& victim = **--it;
    if (&victim == keep) continue;
    ++it;  // the victim leaves this list
    while (!victim.history.empty()) drop_oldest(victim);
    recharge(victim);
    restate(victim);
    if (victim.members.empty()) forget(victim);
  }
  // Still over: the topic being written holds more than the budget alone.
  if (keep != nullptr) {
    while (bytes_ > budget_ && keep->history.size() > 1) {
      drop_oldest(*keep);
      recharge(*keep);
    }
  }
}

}  // namespace parley::server
