#include "hub.hpp"

#include <algorithm>
#include <stdexcept>

#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"

namespace parley::server {

using protocol::ErrorCode;

Hub::Hub(HubLimits limits)
    : limits_(limits), topics_(limits.history_per_topic, limits.history_bytes) {}

Hub::Session& Hub::session(SessionId id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) throw std::logic_error("hub: unknown session");
  return it->second;
}

const Hub::Session& Hub::session(SessionId id) const {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) throw std::logic_error("hub: unknown session");
  return it->second;
}

const std::string& Hub::name_of(SessionId id) const {
  return session(id).name;
}

SessionId Hub::connect(Peer& peer) {
  const SessionId id = next_id_++;
  Session s{id, &peer, std::string(protocol::kGuestPrefix) + std::to_string(next_guest_++),
            {}, true,  {},
            {}, 0};
  s.folded = protocol::fold_name(s.name);
  names_.emplace(s.folded, id);
  sessions_.emplace(id, std::move(s));
  ++counters_.sessions_total;
  return id;
}

void Hub::disconnect(SessionId id, bool announce_leave) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  for (const auto& [pattern, group] : s.subs) index_.remove(pattern, id, group);
  subscription_count_ -= s.subs.size();
  while (!s.rooms.empty()) {
    Topic* topic = topics_.find(s.rooms.back());
    if (topic == nullptr) throw std::logic_error("hub: a joined topic has no record");
    remove_member(s, *topic, announce_leave);
  }
  names_.erase(s.folded);
  sessions_.erase(it);
}

Status Hub::greet(SessionId id, const std::optional<std::string>& name, bool echo) {
  Session& s = session(id);
  if (name) {
    std::string folded = protocol::fold_name(*name);
    if (const auto owner = names_.find(folded); owner != names_.end() && owner->second != id) {
      return HubError{ErrorCode::name_taken, "the name '" + *name + "' is in use"};
    }
    names_.erase(s.folded);
    s.name = *name;
    s.folded = std::move(folded);
    names_.emplace(s.folded, id);
  }
  s.echo = echo;
  return std::nullopt;
}

bool Hub::at_subscription_limit(const Session& s) const noexcept {
  return s.subs.size() + s.rooms.size() >= limits_.max_subs;
}

Status Hub::subscribe(SessionId id, const std::string& pattern,
                      const std::optional<std::string>& group) {
  Session& s = session(id);
  if (const auto it = s.subs.find(pattern); it != s.subs.end()) {
    // A second sub to the same pattern replaces its group.
    index_.remove(pattern, id, it->second);
    index_.add(pattern, id, group);
    it->second = group;
    return std::nullopt;
  }
  if (at_subscription_limit(s)) {
    return HubError{
        ErrorCode::too_many_subscriptions,
        "at most " + std::to_string(limits_.max_subs) + " subscriptions and joins per session"};
  }
  index_.add(pattern, id, group);
  s.subs.emplace(pattern, group);
  ++subscription_count_;
  return std::nullopt;
}

Status Hub::unsubscribe(SessionId id, const std::string& pattern) {
  Session& s = session(id);
  const auto it = s.subs.find(pattern);
  if (it == s.subs.end())
    return HubError{ErrorCode::not_subscribed, "not subscribed to '" + pattern + "'"};
  index_.remove(pattern, id, it->second);
  s.subs.erase(it);
  --subscription_count_;
  return std::nullopt;
}

std::uint64_t Hub::publish(SessionId id, std::string_view topic_name, std::string_view data_json,
                           std::optional<std::string_view> reply, std::int64_t ts_ms) {
  Session& publisher = session(id);
  Topic& topic = topics_.touch(topic_name);
  const std::uint64_t seq = ++topic.seq;
  const SharedFrame frame =
      make_frame(protocol::build_msg(topic_name, publisher.name, data_json, seq, ts_ms, reply));
  ++counters_.msgs_in;

  // Every fan-out has its own number; a session that already has it is skipped, so a
  // message reaches each session at most once however many subscriptions match.
  const std::uint64_t fan_out = ++fan_out_count_;
  const auto send = [&](SessionId target) {
    const auto it = sessions_.find(target);
    if (it == sessions_.end()) return;
    Session& s = it->second;
    if (s.last_delivery == fan_out || (target == id && !publisher.echo)) return;
    s.last_delivery = fan_out;
    if (s.peer->deliver(frame)) ++counters_.msgs_out;
  };
  const auto send_to_group = [&](SubscriptionIndex::Group& group) {
    const std::size_t size = group.members.size();
    for (std::size_t tried = 0; tried < size; ++tried) {
      const SessionId target = group.members[group.next];
      group.next = (group.next + 1) % size;
      if (target == id && !publisher.echo) continue;
      send(target);
      return;
    }
  };
  index_.match(topic_name, send, send_to_group);
  for (const SessionId member : topic.members) send(member);

  topics_.retain(topic, frame);
  return seq;
}

std::vector<std::string> Hub::member_names(const Topic& topic) const {
  std::vector<std::string> names;
  names.reserve(topic.members.size());
  for (const SessionId member : topic.members) names.push_back(session(member).name);
  std::sort(names.begin(), names.end());
  return names;
}

void Hub::announce(const Topic& topic, const Session& who, bool joined) {
  if (topic.members.empty()) return;
  const SharedFrame frame = make_frame(protocol::build_presence(topic.name, who.name, joined));
  for (const SessionId member : topic.members) {
    if (member != who.id) session(member).peer->deliver(frame);
  }
}

Status Hub::join(SessionId id, const std::string& topic_name, int history,
                 std::optional<std::uint64_t> since, JoinView& out) {
  Session& s = session(id);
  const bool already = std::find(s.rooms.begin(), s.rooms.end(), topic_name) != s.rooms.end();
  if (!already && at_subscription_limit(s)) {
    return HubError{
        ErrorCode::too_many_subscriptions,
        "at most " + std::to_string(limits_.max_subs) + " subscriptions and joins per session"};
  }
  Topic& topic = topics_.touch(topic_name);
  if (!already) {
    announce(topic, s, true);
    topic.members.push_back(id);
    s.rooms.push_back(topic_name);
    ++subscription_count_;
  }
  out.members = member_names(topic);
  out.history.clear();
  out.recovered.reset();
  if (since) {
    for (const Retained& r : topic.history) {
      if (r.seq > *since) out.history.push_back(r.line());
    }
    if (*since >= topic.seq) {
      out.recovered = *since == topic.seq;
    } else {
      out.recovered = !topic.history.empty() && topic.history.front().seq <= *since + 1;
    }
  } else {
    const std::size_t count =
        std::min<std::size_t>(static_cast<std::size_t>(history), topic.history.size());
    for (auto it = topic.history.end() - static_cast<std::ptrdiff_t>(count);
         it != topic.history.end(); ++it) {
      out.history.push_back(it->line());
    }
  }
  return std::nullopt;
}

void Hub::remove_member(Session& s, Topic& topic, bool announce_leave) {
  auto& members = topic.members;
  members.erase(std::remove(members.begin(), members.end(), s.id), members.end());
  s.rooms.erase(std::remove(s.rooms.begin(), s.rooms.end(), topic.name), s.rooms.end());
  --subscription_count_;
  if (announce_leave) announce(topic, s, false);
  topics_.release(topic);
}

Status Hub::leave(SessionId id, const std::string& topic_name) {
  Session& s = session(id);
  Topic* topic = topics_.find(topic_name);
  if (topic == nullptr || std::find(s.rooms.begin(), s.rooms.end(), topic_name) == s.rooms.end()) {
    return HubError{ErrorCode::not_joined, "not a member of '" + topic_name + "'"};
  }
  remove_member(s, *topic, true);
  return std::nullopt;
}

Status Hub::tell(SessionId id, std::string_view to, std::string_view data_json,
                 std::int64_t ts_ms) {
  const Session& sender = session(id);
  const auto it = names_.find(protocol::fold_name(to));
  if (it == names_.end())
    return HubError{ErrorCode::no_such_user, "nobody is called '" + std::string(to) + "'"};
  Session& recipient = session(it->second);
  ++counters_.msgs_in;
  const SharedFrame frame =
      make_frame(protocol::build_tell_msg(recipient.name, sender.name, data_json, ts_ms));
  if (recipient.peer->deliver(frame)) ++counters_.msgs_out;
  return std::nullopt;
}

std::vector<std::string> Hub::who(std::string_view topic_name) const {
  const Topic* topic = topics_.find(topic_name);
  return topic == nullptr ? std::vector<std::string>{} : member_names(*topic);
}

std::vector<protocol::TopicSummary> Hub::topics(const std::optional<std::string>& pattern) const {
  std::vector<protocol::TopicSummary> out;
  topics_.for_each([&](const Topic& topic) {
    if (!topic.listed() || protocol::is_system_topic(topic.name)) return;
    if (pattern && !protocol::pattern_matches(*pattern, topic.name)) return;
    out.push_back({topic.name, topic.members.size(), topic.seq});
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.topic < b.topic; });
  return out;
}

std::vector<std::string_view> Hub::history(std::string_view topic_name, int limit,
                                           std::optional<std::uint64_t> before) {
  std::vector<std::string_view> out;
  const Topic* topic = topics_.find(topic_name);
  if (topic == nullptr) return out;
  // Walk back from the newest message, then restore oldest-first order.
  for (auto it = topic->history.rbegin();
       it != topic->history.rend() && out.size() < static_cast<std::size_t>(limit); ++it) {
    if (!before || it->seq < *before) out.push_back(it->line());
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> Hub::patterns_of(SessionId id) const {
  std::vector<std::string> out;
  for (const auto& [pattern, group] : session(id).subs) out.push_back(pattern);
  return out;
}

std::vector<std::string> Hub::rooms_of(SessionId id) const {
  return session(id).rooms;
}

}  // namespace parley::server
