// The hub driven by a decoded sequence of operations from several fake sessions, checked
// against a plain model after every step: each session's subscriptions and rooms, the
// members `who` reports, who receives a publish, and that nothing dangles at the end.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hub.hpp"
#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"

using namespace parley::server;

namespace {

constexpr std::size_t kSlots = 6;
const std::array<const char*, 6> kTopics = {"a", "b", "a.b", "a.c", "b.c", "$s.a"};
const std::array<const char*, 7> kPatterns = {"a", "a.*", "*.b", "a.>", ">", "*", "$s.>"};
const std::array<const char*, 5> kNames = {"n0", "N0", "n1", "n2", "n3"};

[[noreturn]] void fail() {
  std::abort();
}

class RecordingPeer final : public Peer {
 public:
  bool deliver(const SharedFrame& frame) override {
    frames.push_back(*frame);
    return true;
  }
  void reply(const SharedFrame& frame) override { frames.push_back(*frame); }
  // Only an account's takeover evicts, and this fuzzer greets without takeover.
  void evict(std::string_view /*bye_reason*/) override { fail(); }
  std::vector<std::string> frames;
};

struct ModelSession {
  SessionId id = 0;
  std::string name;
  bool echo = true;
  std::map<std::string, std::optional<std::string>> subs;
  std::set<std::string> rooms;
  std::unique_ptr<RecordingPeer> peer;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

void check(Hub& hub, const std::array<std::optional<ModelSession>, kSlots>& model) {
  std::size_t sessions = 0;
  std::size_t subscriptions = 0;
  for (const auto& s : model) {
    if (!s) continue;
    ++sessions;
    subscriptions += s->subs.size() + s->rooms.size();
    if (hub.name_of(s->id) != s->name) fail();
    std::vector<std::string> patterns;
    for (const auto& [p, g] : s->subs) patterns.push_back(p);
    auto got = hub.patterns_of(s->id);
    std::sort(got.begin(), got.end());
    if (got != patterns) fail();
    auto rooms = hub.rooms_of(s->id);
    if (std::set<std::string>(rooms.begin(), rooms.end()) != s->rooms ||
        rooms.size() != s->rooms.size())
      fail();
  }
  if (hub.session_count() != sessions || hub.subscription_count() != subscriptions) fail();
  for (const char* topic : kTopics) {
    std::vector<std::string> members;
    for (const auto& s : model) {
      if (s && s->rooms.contains(topic)) members.push_back(s->name);
    }
    std::sort(members.begin(), members.end());
    if (hub.who(topic) != members) fail();
  }
}

// history and topics pages: in order, within their limits and bounds, consecutive seqs,
// and an epoch made of the hub's boot id.
void check_queries(const Hub& hub, Input& in) {
  const std::string topic = kTopics[in.next() % kTopics.size()];
  const int limit = 1 + in.next() % 4;
  std::optional<std::uint64_t> before;
  std::optional<std::uint64_t> after;
  const std::uint8_t mode = in.next() % 3;
  if (mode == 1) before = in.next() % 12;
  if (mode == 2) after = in.next() % 12;
  const MessagesView page = hub.history(topic, limit, before, after);
  if (page.messages.size() > static_cast<std::size_t>(limit)) fail();
  if (!page.epoch.starts_with(hub.node_id() + "-")) fail();
  std::uint64_t last = 0;
  for (const auto line : page.messages) {
    const auto at = line.rfind(R"("seq":)");
    if (at == std::string_view::npos) fail();
    const std::uint64_t seq = std::stoull(std::string(line.substr(at + 6)));
    if (last != 0 && seq != last + 1) fail();
    if ((before && seq >= *before) || (after && seq <= *after)) fail();
    last = seq;
  }
  const std::optional<std::string> pattern =
      in.next() % 2 == 0 ? std::nullopt
                         : std::optional<std::string>(kPatterns[in.next() % kPatterns.size()]);
  const std::optional<std::string> from =
      in.next() % 2 == 0 ? std::nullopt
                         : std::optional<std::string>(kTopics[in.next() % kTopics.size()]);
  const TopicsView listed = hub.topics(pattern, limit, from);
  if (listed.topics.size() > static_cast<std::size_t>(limit)) fail();
  if (listed.more && listed.topics.size() != static_cast<std::size_t>(limit)) fail();
  for (std::size_t i = 0; i < listed.topics.size(); ++i) {
    const std::string& name = listed.topics[i].topic;
    if (i != 0 && !(listed.topics[i - 1].topic < name)) fail();
    if (from && !(name > *from)) fail();
    if (pattern && !parley::protocol::pattern_matches(*pattern, name)) fail();
    if (parley::protocol::is_system_topic(name)) fail();
  }
  if (hub.topic_store().listed_count() < listed.topics.size()) fail();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  Hub hub(HubLimits{4, 3, 4096});
  std::array<std::optional<ModelSession>, kSlots> model;
  const auto find_by_name = [&](const std::string& name) -> ModelSession* {
    for (auto& s : model) {
      if (s && parley::protocol::fold_name(s->name) == parley::protocol::fold_name(name))
        return &*s;
    }
    return nullptr;
  };

  while (!in.empty()) {
    const std::uint8_t op = in.next() % 10;
    auto& slot = model[in.next() % kSlots];
    if (op == 0) {
      if (slot) continue;
      ModelSession s;
      s.peer = std::make_unique<RecordingPeer>();
      s.id = hub.connect(*s.peer);
      s.name = hub.name_of(s.id);
      slot = std::move(s);
    } else if (!slot) {
      continue;
    } else if (op == 1) {
      const bool announce = in.next() % 2 == 0;
      hub.disconnect(slot->id, announce);
      slot.reset();
    } else if (op == 2) {
      const std::string name = kNames[in.next() % kNames.size()];
      const bool echo = in.next() % 2 == 0;
      ModelSession* owner = find_by_name(name);
      const auto status = hub.greet(slot->id, name, echo);
      if ((owner != nullptr && owner != &*slot) != status.has_value()) fail();
      if (!status) {
        slot->name = name;
        slot->echo = echo;
      }
    } else if (op == 3) {
      const std::string pattern = kPatterns[in.next() % kPatterns.size()];
      const std::uint8_t g = in.next() % 3;
      const std::optional<std::string> group =
          g == 0 ? std::nullopt : std::optional<std::string>(g == 1 ? "g" : "h");
      const bool has = slot->subs.contains(pattern);
      const bool full = slot->subs.size() + slot->rooms.size() >= 4;
      const auto status = hub.subscribe(slot->id, pattern, group);
      if (status.has_value() != (!has && full)) fail();
      if (!status) slot->subs[pattern] = group;
    } else if (op == 4) {
      const std::string pattern = kPatterns[in.next() % kPatterns.size()];
      const auto status = hub.unsubscribe(slot->id, pattern);
      if (status.has_value() == slot->subs.contains(pattern)) fail();
      slot->subs.erase(pattern);
    } else if (op == 5) {
      const std::string topic =
          kTopics[in.next() % (kTopics.size() - 1)];  // $ topics are refused earlier
      const bool has = slot->rooms.contains(topic);
      const bool full = slot->subs.size() + slot->rooms.size() >= 4;
      for (auto& s : model) {
        if (s) s->peer->frames.clear();
      }
      JoinView view;
      const auto status =
          hub.join(slot->id, topic, in.next() % 5, std::nullopt, std::nullopt, view);
      if (status.has_value() != (!has && full)) fail();
      if (!status) {
        slot->rooms.insert(topic);
        // Presence join reaches exactly the other members, and only on the first join.
        for (auto& s : model) {
          if (!s) continue;
          const bool told = !s->peer->frames.empty();
          const bool should = !has && &*s != &*slot && s->rooms.contains(topic);
          if (told != should) fail();
        }
        if (!std::is_sorted(view.members.begin(), view.members.end())) fail();
      }
    } else if (op == 6) {
      const std::string topic = kTopics[in.next() % kTopics.size()];
      const auto status = hub.leave(slot->id, topic);
      if (status.has_value() == slot->rooms.contains(topic)) fail();
      slot->rooms.erase(topic);
    } else if (op == 7) {
      const std::string topic = kTopics[in.next() % (kTopics.size() - 1)];
      for (auto& s : model) {
        if (s) s->peer->frames.clear();
      }
      hub.publish(slot->id, topic, "1", std::nullopt, 0);
      for (auto& s : model) {
        if (!s) continue;
        const std::size_t got = s->peer->frames.size();
        if (got > 1) fail();  // at most once
        const bool self_muted = &*s == &*slot && !slot->echo;
        bool must = s->rooms.contains(topic);
        bool may = must;
        for (const auto& [pattern, group] : s->subs) {
          if (!parley::protocol::pattern_matches(pattern, topic)) continue;
          may = true;
          if (!group) must = true;
        }
        if (self_muted) must = may = false;
        if ((must && got == 0) || (!may && got == 1)) fail();
      }
    } else if (op == 8) {
      check_queries(hub, in);
    } else {
      const std::string to = kNames[in.next() % kNames.size()];
      ModelSession* target = find_by_name(to);
      for (auto& s : model) {
        if (s) s->peer->frames.clear();
      }
      const auto status = hub.tell(slot->id, to, "2", 0);
      if (status.has_value() != (target == nullptr)) fail();
      for (auto& s : model) {
        if (s && s->peer->frames.size() != (&*s == target ? 1u : 0u)) fail();
      }
    }
    check(hub, model);
  }
  for (auto& s : model) {
    if (s) hub.disconnect(s->id);
  }
  if (hub.session_count() != 0 || hub.subscription_count() != 0 || hub.index().node_count() != 1)
    fail();
  bool members_left = false;
  hub.topic_store().for_each(
      [&](const Topic& t) { members_left = members_left || !t.members.empty(); });
  if (members_left) fail();
  return 0;
}
