#include "topic_store.hpp"

namespace parley::server {
namespace {

// What one retained message costs beyond its frame: the deque slot and the shared_ptr's
// control block.
constexpr std::size_t kRetainedOverhead = 48;

}  // namespace

TopicStore::TopicStore(std::size_t per_topic, std::size_t budget_bytes)
    : per_topic_(per_topic), budget_(budget_bytes) {}

TopicStore::~TopicStore() = default;

std::size_t TopicStore::overhead(const Topic& topic) noexcept {
  return 160 + 2 * topic.name.size();
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
    recency_.splice(recency_.begin(), recency_, topic->lru);
    return *topic;
  }
  auto owned = std::make_unique<Topic>();
  Topic& topic = *owned;
  topic.name = std::string(name);
  recency_.push_front(&topic);
  topic.lru = recency_.begin();
  bytes_ += overhead(topic);
  topics_.emplace(topic.name, std::move(owned));
  enforce_budget(&topic);
  return topic;
}

void TopicStore::retain(Topic& topic, SharedFrame frame) {
  if (per_topic_ == 0) return;
  const std::size_t cost = frame->size() + kRetainedOverhead;
  topic.history.push_back(Retained{topic.seq, std::move(frame)});
  topic.history_bytes += cost;
  bytes_ += cost;
  if (topic.history.size() > per_topic_) drop_oldest(topic);
  enforce_budget(&topic);
}

void TopicStore::release(Topic& topic) {
  if (!topic.listed() && bytes_ > budget_) erase(topic);
}

std::size_t TopicStore::listed_count() const noexcept {
  std::size_t count = 0;
  for (const auto& [name, topic] : topics_) count += topic->listed() ? 1 : 0;
  return count;
}

void TopicStore::drop_oldest(Topic& topic) {
  const std::size_t cost = topic.history.front().frame->size() + kRetainedOverhead;
  topic.history.pop_front();
  topic.history_bytes -= cost;
  bytes_ -= cost;
}

void TopicStore::erase(Topic& topic) {
  bytes_ -= topic.history_bytes + overhead(topic);
  recency_.erase(topic.lru);
  topics_.erase(topic.name);
}

void TopicStore::enforce_budget(Topic* keep) {
  auto it = recency_.end();
  while (bytes_ > budget_ && it != recency_.begin()) {
    Topic& victim = **--it;
    if (&victim == keep) continue;
    while (!victim.history.empty()) drop_oldest(victim);
    if (victim.members.empty()) {
      ++it;  // the victim's node goes away with it
      erase(victim);
    }
  }
  // Still over: the topic being written holds more than the budget alone.
  if (keep != nullptr) {
    while (bytes_ > budget_ && keep->history.size() > 1) drop_oldest(*keep);
  }
}

}  // namespace parley::server
