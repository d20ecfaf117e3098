#include "hub.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"

namespace parley::server {

using protocol::ErrorCode;

namespace {

// Messages [first, end) of `history`, the newest that fit in `cap` bytes kept (paging
// backwards), at least one when there is one; `more` when some were left out.
void page_backward(const RetainedRing& history, std::size_t first, std::size_t end, std::size_t cap,
                   MessagesView& out) {
  std::size_t bytes = 0;
  std::size_t i = end;
  for (; i > first; --i) {
    const std::string_view line = history[i - 1].line();
    if (!out.messages.empty() && bytes + line.size() > cap) break;
    bytes += line.size();
    out.messages.push_back(line);
  }
  out.more = i > first;
  std::reverse(out.messages.begin(), out.messages.end());
}

// The same, keeping the oldest that fit (paging forwards).
void page_forward(const RetainedRing& history, std::size_t first, std::size_t end, std::size_t cap,
                  MessagesView& out) {
  std::size_t bytes = 0;
  std::size_t i = first;
  for (; i < end; ++i) {
    const std::string_view line = history[i].line();
    if (!out.messages.empty() && bytes + line.size() > cap) break;
    bytes += line.size();
    out.messages.push_back(line);
  }
  out.more = i < end;
}

// The offset in `history` (non-empty, consecutive seqs) of the first message with seq >= `seq`.
std::size_t offset_of(const RetainedRing& history, std::uint64_t seq) {
  const std::uint64_t oldest = history.front().seq;
  if (seq <= oldest) return 0;
  return static_cast<std::size_t>(std::min<std::uint64_t>(seq - oldest, history.size()));
}

}  // namespace

Hub::Hub(HubLimits limits, std::string boot_id)
    : limits_(limits),
      boot_id_(std::move(boot_id)),
      topics_(limits.history_per_topic, limits.history_bytes) {}

std::string Hub::random_boot_id() {
  std::random_device random;
  const auto high = static_cast<unsigned long>(random());
  const auto low = static_cast<unsigned long>(random());
  char text[17];
  std::snprintf(text, sizeof text, "%08lx%08lx", high & 0xffffffffUL, low & 0xffffffffUL);
  return text;
}

std::string Hub::epoch_string(std::uint64_t generation) const {
  return boot_id_ + "-" + std::to_string(generation);
}

std::string Hub::epoch_of(std::string_view topic_name) const {
  const Topic* topic = topics_.find(topic_name);
  return epoch_string(topic != nullptr ? topic->generation : topics_.forgotten_count());
}

protocol::StatsReport Hub::stats_report(std::uint64_t uptime_s) const {
  return {
      .uptime_s = uptime_s,
      .connections = sessions_.size(),
      .topics = topics_.listed_count(),
      .subscriptions = subscription_count_,
      .msgs_in = counters_.msgs_in,
      .msgs_out = counters_.msgs_out,
      .bytes_in = counters_.bytes_in,
      .bytes_out = counters_.bytes_out,
      .slow_consumers = counters_.slow_consumers,
      .nodes = std::nullopt,  // a cluster engine adds node and nodes
      .node = {},
  };
}

Hub::SessionRecord& Hub::session(SessionId id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) throw std::logic_error("hub: unknown session");
  return it->second;
}

const Hub::SessionRecord& Hub::session(SessionId id) const {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) throw std::logic_error("hub: unknown session");
  return it->second;
}

const std::string& Hub::name_of(SessionId id) const {
  return session(id).name;
}

SessionId Hub::connect(Peer& peer) {
  const SessionId id = next_id_++;
  SessionRecord s{
      .id = id,
      .peer = &peer,
      .name = std::string(protocol::kGuestPrefix) + guest_prefix_ + std::to_string(next_guest_++),
      .folded = {},
      .echo = true,
      .subs = {},
      .rooms = {},
      .last_delivery = 0,
      .deny = nullptr};
  s.folded = protocol::fold_name(s.name);
  names_.emplace(s.folded, id);
  sessions_.emplace(id, std::move(s));
  ++counters_.sessions_total;
  if (observer_ != nullptr) observer_->session_opened(id);
  return id;
}

void Hub::disconnect(SessionId id, bool announce_leave) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  SessionRecord& s = it->second;
  if (observer_ != nullptr) {
    observer_->session_closing(id, s.rooms, announce_leave);
    announce_leave = false;  // the observer's store announces it
  }
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

Status Hub::greet(SessionId id, const std::optional<std::string>& name, bool echo, bool take_over) {
  SessionRecord& s = session(id);
  if (name) {
    std::string folded = protocol::fold_name(*name);
    if (const auto owner = names_.find(folded); owner != names_.end() && owner->second != id) {
      if (!take_over) return HubError{ErrorCode::name_taken, "the name '" + *name + "' is in use"};
      // The older session goes first, as any closed session does (its members see it
      // leave), so that the name is free before the new session takes it.
      evict(owner->second, "replaced");
    }
    names_.erase(s.folded);
    s.name = *name;
    s.folded = std::move(folded);
    names_.emplace(s.folded, id);
  }
  s.echo = echo;
  return std::nullopt;
}

void Hub::evict(SessionId id, std::string_view bye_reason) {
  session(id).peer->evict(bye_reason);
  disconnect(id, true);
}

void Hub::set_permissions(SessionId id, std::shared_ptr<const auth::Permissions> permissions) {
  SessionRecord& s = session(id);
  if (permissions && !permissions->filters_delivery()) permissions.reset();
  s.deny = std::move(permissions);
}

bool Hub::at_subscription_limit(const SessionRecord& s) const noexcept {
  return s.subs.size() + s.rooms.size() >= limits_.max_subs;
}

Status Hub::subscribe(SessionId id, const std::string& pattern,
                      const std::optional<std::string>& group) {
  SessionRecord& s = session(id);
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
  SessionRecord& s = session(id);
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
  SessionRecord& publisher = session(id);
  Topic& topic = topics_.touch(topic_name);
  const std::uint64_t seq = ++topic.seq;
  const SharedFrame frame =
      make_frame(protocol::build_msg(topic_name, publisher.name, data_json, seq, ts_ms, reply));
  ++counters_.msgs_in;

  fan_out(topic_name, &topic, frame, id, !publisher.echo);
  topics_.retain(topic, frame);
  return seq;
}

void Hub::fan_out(std::string_view topic_name, const Topic* topic, const SharedFrame& frame,
                  SessionId publisher, bool skip_publisher, const std::vector<SessionId>* picks) {
  // Every fan-out has its own number; a session that already has it is skipped, so a
  // message reaches each session at most once however many subscriptions match.
  const std::uint64_t round = ++fan_out_count_;
  // A session whose account denies the topic never gets the message: one pointer test for
  // sessions without deny patterns, one trie walk otherwise. This is the one local fan-out,
  // so messages from other nodes of a cluster are filtered here too.
  const auto withheld = [&](const SessionRecord& s) {
    return s.deny != nullptr && s.deny->delivery_denied(topic_name);
  };
  const auto send = [&](SessionId target) {
    const auto it = sessions_.find(target);
    if (it == sessions_.end()) return;
    SessionRecord& s = it->second;
    if (s.last_delivery == round || (target == publisher && skip_publisher)) return;
    s.last_delivery = round;
    if (withheld(s)) return;
    if (s.peer->deliver(frame)) ++counters_.msgs_out;
  };
  const auto send_to_group = [&](SubscriptionIndex::Group& group) {
    if (picks != nullptr) {
      // The cluster's store took the turn: only its picks get the message.
      for (const SessionId member : group.members) {
        if (std::find(picks->begin(), picks->end(), member) != picks->end()) send(member);
      }
      return;
    }
    // The message goes to the next member that may receive it, so a member that may not
    // does not swallow it for the whole group.
    const std::size_t size = group.members.size();
    for (std::size_t tried = 0; tried < size; ++tried) {
      const SessionId target = group.members[group.next];
      group.next = (group.next + 1) % size;
      if (target == publisher && skip_publisher) continue;
      if (const auto it = sessions_.find(target); it != sessions_.end() && withheld(it->second))
        continue;
      send(target);
      return;
    }
  };
  index_.match(topic_name, send, send_to_group);
  if (topic == nullptr) return;
  for (const SessionId member : topic->members) send(member);
}

void Hub::fan_out(std::string_view topic_name, const SharedFrame& frame, SessionId publisher,
                  const std::vector<SessionId>& picks) {
  const auto it = sessions_.find(publisher);
  const bool skip = it != sessions_.end() && !it->second.echo;
  fan_out(topic_name, topics_.find(topic_name), frame, publisher, skip, &picks);
}

void Hub::deliver_to_members(std::string_view topic_name, const SharedFrame& frame,
                             SessionId except) {
  const Topic* topic = topics_.find(topic_name);
  if (topic == nullptr) return;
  for (const SessionId member : topic->members) {
    if (member != except) session(member).peer->deliver(frame);
  }
}

Status Hub::enter_room(SessionId id, const std::string& topic_name, bool& added) {
  SessionRecord& s = session(id);
  added = std::find(s.rooms.begin(), s.rooms.end(), topic_name) == s.rooms.end();
  if (!added) return std::nullopt;
  if (at_subscription_limit(s)) {
    added = false;
    return HubError{
        ErrorCode::too_many_subscriptions,
        "at most " + std::to_string(limits_.max_subs) + " subscriptions and joins per session"};
  }
  Topic& topic = topics_.touch(topic_name);
  topics_.add_member(topic, id);
  s.rooms.push_back(topic_name);
  ++subscription_count_;
  return std::nullopt;
}

bool Hub::exit_room(SessionId id, const std::string& topic_name) {
  SessionRecord& s = session(id);
  Topic* topic = topics_.find(topic_name);
  if (topic == nullptr || std::find(s.rooms.begin(), s.rooms.end(), topic_name) == s.rooms.end()) {
    return false;
  }
  remove_member(s, *topic, false);
  return true;
}

bool Hub::name_in_use(std::string_view name, SessionId except) const {
  const auto owner = names_.find(protocol::fold_name(name));
  return owner != names_.end() && owner->second != except;
}

const std::optional<std::string>* Hub::group_of(SessionId id, const std::string& pattern) const {
  const SessionRecord& s = session(id);
  const auto it = s.subs.find(pattern);
  return it == s.subs.end() ? nullptr : &it->second;
}

SessionId Hub::holder_of(std::string_view name) const {
  return names_.at(protocol::fold_name(name));
}

std::vector<std::string> Hub::member_names(const Topic& topic) const {
  std::vector<std::string> names;
  names.reserve(topic.members.size());
  for (const SessionId member : topic.members) names.push_back(session(member).name);
  std::sort(names.begin(), names.end());
  return names;
}

void Hub::announce(const Topic& topic, const SessionRecord& who, bool joined) {
  if (topic.members.empty()) return;
  const SharedFrame frame = make_frame(protocol::build_presence(topic.name, who.name, joined));
  for (const SessionId member : topic.members) {
    if (member != who.id) session(member).peer->deliver(frame);
  }
}

Status Hub::join(SessionId id, const std::string& topic_name, int history,
                 std::optional<std::uint64_t> since, const std::optional<std::string>& epoch,
                 JoinView& out) {
  SessionRecord& s = session(id);
  const bool already = std::find(s.rooms.begin(), s.rooms.end(), topic_name) != s.rooms.end();
  if (!already && at_subscription_limit(s)) {
    return HubError{
        ErrorCode::too_many_subscriptions,
        "at most " + std::to_string(limits_.max_subs) + " subscriptions and joins per session"};
  }
  Topic& topic = topics_.touch(topic_name);
  if (!already) {
    announce(topic, s, true);
    topics_.add_member(topic, id);
    s.rooms.push_back(topic_name);
    ++subscription_count_;
  }
  out.members = member_names(topic);
  out.history = MessagesView{};
  out.history.epoch = epoch_string(topic.generation);
  out.recovered.reset();
  const RetainedRing& retained = topic.history;
  if (since) {
    if (epoch && *epoch != out.history.epoch) {
      // Another run of seqs: the client's `since` means nothing here any more.
      out.recovered = false;
      page_forward(retained, 0, retained.size(), limits_.reply_bytes, out.history);
      return std::nullopt;
    }
    if (*since >= topic.seq) {
      out.recovered = *since == topic.seq;
    } else {
      out.recovered = !retained.empty() && retained.front().seq <= *since + 1;
    }
    if (!retained.empty() && *since < topic.seq) {
      page_forward(retained, offset_of(retained, *since + 1), retained.size(), limits_.reply_bytes,
                   out.history);
    }
  } else {
    const std::size_t count =
        std::min<std::size_t>(static_cast<std::size_t>(history), retained.size());
    page_backward(retained, retained.size() - count, retained.size(), limits_.reply_bytes,
                  out.history);
  }
  return std::nullopt;
}

void Hub::remove_member(SessionRecord& s, Topic& topic, bool announce_leave) {
  topics_.remove_member(topic, s.id);
  s.rooms.erase(std::remove(s.rooms.begin(), s.rooms.end(), topic.name), s.rooms.end());
  --subscription_count_;
  if (announce_leave) announce(topic, s, false);
  topics_.release(topic);
}

Status Hub::leave(SessionId id, const std::string& topic_name) {
  SessionRecord& s = session(id);
  Topic* topic = topics_.find(topic_name);
  if (topic == nullptr || std::find(s.rooms.begin(), s.rooms.end(), topic_name) == s.rooms.end()) {
    return HubError{ErrorCode::not_joined, "not a member of '" + topic_name + "'"};
  }
  remove_member(s, *topic, true);
  return std::nullopt;
}

Status Hub::tell(SessionId id, std::string_view to, std::string_view data_json,
                 std::int64_t ts_ms) {
  const SessionRecord& sender = session(id);
  const auto it = names_.find(protocol::fold_name(to));
  if (it == names_.end())
    return HubError{ErrorCode::no_such_user, "nobody is called '" + std::string(to) + "'"};
  SessionRecord& recipient = session(it->second);
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

namespace {

// The part of a pattern before its first wildcard token, ending in '.' when wildcards
// follow: every topic the pattern matches starts with it. The whole pattern when it has no
// wildcard.
std::string_view literal_prefix(std::string_view pattern, bool& literal) {
  std::size_t token = 0;
  while (token <= pattern.size()) {
    const std::size_t dot = std::min(pattern.find('.', token), pattern.size());
    const std::string_view t = pattern.substr(token, dot - token);
    if (t == "*" || t == ">") {
      literal = false;
      return pattern.substr(0, token);
    }
    token = dot + 1;
  }
  literal = true;
  return pattern;
}

}  // namespace

TopicsView Hub::topics(const std::optional<std::string>& pattern, int limit,
                       const std::optional<std::string>& after,
                       const auth::Permissions* permissions) const {
  TopicsView out;
  const ListedIndex& index = topics_.listed_index();
  const auto wanted = static_cast<std::size_t>(limit);
  const auto add = [&](const Topic& topic) {
    if (permissions != nullptr && !permissions->allow_subscribe_topic(topic.name)) return true;
    if (out.topics.size() == wanted) {
      out.more = true;
      return false;
    }
    out.topics.push_back({topic.name, topic.members.size(), topic.seq});
    return true;
  };
  bool literal = false;
  const std::string_view prefix = pattern ? literal_prefix(*pattern, literal) : std::string_view{};
  if (pattern && literal) {
    const auto it = index.find(prefix);
    if (it != index.end() && (!after || (*it)->name > *after)) add(**it);
    ++topics_visited_;
    return out;
  }
  auto it = index.lower_bound(prefix);
  if (after && *after >= prefix) it = index.upper_bound(std::string_view(*after));
  for (; it != index.end(); ++it) {
    const Topic& topic = **it;
    ++topics_visited_;
    if (!std::string_view(topic.name).starts_with(prefix)) break;
    if (pattern && !protocol::pattern_matches(*pattern, topic.name)) continue;
    if (!add(topic)) break;
  }
  return out;
}

MessagesView Hub::history(std::string_view topic_name, int limit,
                          std::optional<std::uint64_t> before,
                          std::optional<std::uint64_t> after) const {
  MessagesView out;
  const Topic* topic = topics_.find(topic_name);
  out.epoch = epoch_string(topic != nullptr ? topic->generation : topics_.forgotten_count());
  if (topic == nullptr || topic->history.empty()) return out;
  const RetainedRing& retained = topic->history;
  const auto count = static_cast<std::size_t>(limit);
  if (after) {
    if (*after >= retained.back().seq) return out;
    const std::size_t first = offset_of(retained, *after + 1);
    page_forward(retained, first, std::min(retained.size(), first + count), limits_.reply_bytes,
                 out);
  } else {
    const std::size_t end = before ? offset_of(retained, *before) : retained.size();
    page_backward(retained, end - std::min(end, count), end, limits_.reply_bytes, out);
  }
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
