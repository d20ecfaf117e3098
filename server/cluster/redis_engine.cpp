#include "redis_engine.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "parley/protocol/frames.hpp"
#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"
#include "scripts.hpp"

namespace parley::server::cluster {

using protocol::ErrorCode;

namespace {

HubError unavailable() {
  return HubError{ErrorCode::unavailable, "the cluster store cannot be reached; nothing was done"};
}

std::string_view text_of(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
                       r->type != REDIS_REPLY_ERROR)) {
    return {};
  }
  return {r->str, r->len};
}

bool is_error(const redisReply* r) {
  return r == nullptr || r->type == REDIS_REPLY_ERROR;
}

// A history list as Redis returned it: msg frames with their '\n', oldest first, the
// newest having seq `last`.
struct Retained {
  std::vector<std::string> lines;  // '\n' removed
  std::uint64_t last = 0;
  std::uint64_t oldest() const { return last + 1 - lines.size(); }
  // The offset of the first message with seq >= `seq`.
  std::size_t offset_of(std::uint64_t seq) const {
    if (lines.empty() || seq <= oldest()) return 0;
    return static_cast<std::size_t>(std::min<std::uint64_t>(seq - oldest(), lines.size()));
  }
};

Retained retained_from(const redisReply* list, std::uint64_t last) {
  Retained out;
  out.last = last;
  if (list == nullptr || list->type != REDIS_REPLY_ARRAY) return out;
  out.lines.reserve(list->elements);
  for (std::size_t i = 0; i < list->elements; ++i) {
    std::string_view line = text_of(list->element[i]);
    if (line.ends_with('\n')) line.remove_suffix(1);
    out.lines.emplace_back(line);
  }
  if (out.lines.size() > last) out.lines.clear();  // inconsistent: better nothing than wrong
  return out;
}

// As the hub pages its own history (hub.cpp): the newest that fit, or the oldest.
void page_backward(const Retained& r, std::size_t first, std::size_t end, std::size_t cap,
                   MessagesView& out) {
  std::size_t bytes = 0;
  std::size_t i = end;
  for (; i > first; --i) {
    const std::string_view line = r.lines[i - 1];
    if (!out.messages.empty() && bytes + line.size() > cap) break;
    bytes += line.size();
    out.messages.push_back(line);
  }
  out.more = i > first;
  std::reverse(out.messages.begin(), out.messages.end());
}

void page_forward(const Retained& r, std::size_t first, std::size_t end, std::size_t cap,
                  MessagesView& out) {
  std::size_t bytes = 0;
  std::size_t i = first;
  for (; i < end; ++i) {
    const std::string_view line = r.lines[i];
    if (!out.messages.empty() && bytes + line.size() > cap) break;
    bytes += line.size();
    out.messages.push_back(line);
  }
  out.more = i < end;
}

std::uint64_t integer_of(const redisReply* r) {
  if (r == nullptr) return 0;
  if (r->type == REDIS_REPLY_INTEGER) return static_cast<std::uint64_t>(r->integer);
  if (r->type == REDIS_REPLY_STRING) return std::strtoull(r->str, nullptr, 10);
  return 0;
}

// Six random digits: guest names of different nodes never meet (but by a one in a million
// chance per pair of nodes, which the store's name claim then settles).
std::string random_guest_prefix() {
  std::random_device random;
  return std::to_string(100000 + random() % 900000);
}

constexpr const char* kScripts[] = {
    scripts::kPublish,    scripts::kJoin,    scripts::kLeave,  scripts::kHistory,
    scripts::kClaim,      scripts::kRelease, scripts::kTell,   scripts::kHeartbeat,
    scripts::kStop,       scripts::kResync,  scripts::kTopics, scripts::kGroupJoin,
    scripts::kGroupLeave,
};

}  // namespace

RedisEngine::RedisEngine(asio::io_context& io, Hub& hub, ClusterOptions options)
    : hub_(hub),
      options_(std::move(options)),
      channels_("parley:" + std::to_string(options_.target.db) + ":"),
      cmd_(io, options_.target, "command"),
      sub_(io, options_.target, "subscriber"),
      heartbeat_timer_(io) {
  static_assert(std::size(kScripts) == script_count);
  hub_.set_guest_prefix(random_guest_prefix());
  hub_.set_observer(this);
  cmd_.on_up([this] { on_command_link_up(); });
  cmd_.on_down([this] { ready_ = false; });
  sub_.on_up([this] { on_subscriber_link_up(); });
  sub_.on_push([this](redisReply* reply) { on_push(reply); });
}

RedisEngine::~RedisEngine() {
  *alive_ = false;
  hub_.set_observer(nullptr);
  heartbeat_timer_.cancel();
  cmd_.stop();
  sub_.stop();
}

void RedisEngine::start() {
  cmd_.start();
  sub_.start();
  schedule_heartbeat();
}

void RedisEngine::stop() {
  if (stopped_) return;
  stopped_ = true;
  heartbeat_timer_.cancel();
  if (ready_) {
    eval(stop_s, {}, {prefix_, channels_, node_id()}, [](redisReply*) {});
    cmd_.flush_now();  // on its way before the process exits
  }
}

// ---- links ---------------------------------------------------------------------------

// Scripts first (a restarted Redis has forgotten them), then this node's state: all on the
// one ordered link, so nothing that needs them can overtake them.
void RedisEngine::on_command_link_up() {
  ready_ = false;
  shas_.assign(script_count, {});
  auto loaded = std::make_shared<std::size_t>(0);
  for (std::size_t i = 0; i < script_count; ++i) {
    cmd_.command({"SCRIPT", "LOAD", kScripts[i]},
                 [this, i, loaded, alive = alive_](redisReply* reply) {
                   if (!*alive) return;
                   if (is_error(reply)) {
                     if (reply != nullptr)
                       spdlog::error("cluster: a script was refused: {}", text_of(reply));
                     return;
                   }
                   shas_[i] = std::string(text_of(reply));
                   if (++*loaded == script_count) {
                     ready_ = true;
                     resync();
                     heartbeat();
                   }
                 });
  }
}

// A fresh subscriber connection has no subscriptions: every channel held is asked again.
void RedisEngine::on_subscriber_link_up() {
  last_channel_.clear();
  sub_.subscribe_command({"SUBSCRIBE", channels_ + "n:" + node_id()});
  for (const auto& [channel, users] : channels_held_)
    sub_.subscribe_command({"SUBSCRIBE", channel});
  for (const auto& [glob, users] : globs_held_) sub_.subscribe_command({"PSUBSCRIBE", glob});
}

bool RedisEngine::eval(Script script, const std::vector<std::string_view>& keys,
                       const std::vector<std::string_view>& args, RedisLink::OnReply on_reply) {
  if (!ready_) return false;
  const std::string count = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(shas_[script]);
  argv.push_back(count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return cmd_.command(argv, std::move(on_reply));
}

void RedisEngine::schedule_heartbeat() {
  // The TTL is half the node timeout and is renewed every fifth of it: a dead node's key
  // expires within half the timeout and the next beat of any node reaps it, within 0.7
  // of the timeout in all.
  heartbeat_timer_.expires_after(
      std::max(options_.node_timeout / 5, std::chrono::milliseconds(20)));
  heartbeat_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    heartbeat();
    schedule_heartbeat();
  });
}

void RedisEngine::heartbeat() {
  const std::string ttl =
      std::to_string(std::max<std::int64_t>(options_.node_timeout.count() / 2, 1));
  eval(heartbeat_s, {}, {prefix_, channels_, node_id(), ttl},
       [this, alive = alive_](redisReply* reply) {
         if (!*alive || reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return;
         const auto nodes = static_cast<std::uint64_t>(reply->integer);
         // Logged when it changes (and at the first beat): operators see the cluster form
         // and shrink, and tests wait on it for every node to be registered.
         if (nodes != nodes_ || !nodes_logged_)
           spdlog::info("cluster: node {} counts {} nodes", node_id(), nodes);
         nodes_logged_ = true;
         nodes_ = nodes;
       });
}

// Puts this node's sessions back into the store exactly as they are.
void RedisEngine::resync() {
  std::vector<std::string> rooms;
  std::vector<std::string> names;
  std::vector<std::string> groups;
  std::size_t room_count = 0;
  hub_.for_each_session(
      [&](SessionId id, const std::string& name, const std::vector<std::string>& joined) {
        for (const auto& pattern : hub_.patterns_of(id)) {
          if (const auto* group = hub_.group_of(id, pattern); group != nullptr && *group) {
            groups.push_back(std::to_string(id));
            groups.push_back(pattern);
            groups.push_back(**group);
          }
        }
        for (const auto& topic : joined) {
          rooms.push_back(topic);
          rooms.push_back(std::to_string(id));
          rooms.push_back(name);
          ++room_count;
        }
        names.push_back(protocol::fold_name(name));
        names.push_back(owner(id) + " " + name);
      });
  const std::string ttl =
      std::to_string(std::max<std::int64_t>(options_.node_timeout.count() / 2, 1));
  const std::string count = std::to_string(room_count);
  const std::string group_count = std::to_string(groups.size() / 3);
  std::vector<std::string_view> args{prefix_, channels_, node_id(), ttl, count};
  for (const auto& r : rooms) args.push_back(r);
  args.emplace_back(group_count);
  for (const auto& g : groups) args.push_back(g);
  for (const auto& n : names) args.push_back(n);
  eval(resync_s, {}, args, [](redisReply* reply) {
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR)
      spdlog::error("cluster: re-registering the node's sessions failed: {}", text_of(reply));
  });
}

// ---- incoming frames ------------------------------------------------------------------

void RedisEngine::on_push(redisReply* reply) {
  if (reply == nullptr) return release_unconfirmed();
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
  const std::string_view kind = text_of(reply->element[0]);
  if (kind == "subscribe" || kind == "psubscribe") {
    confirmed(confirmation_key(text_of(reply->element[1]), kind == "psubscribe"));
  } else if (kind == "message") {
    on_frame(text_of(reply->element[1]), text_of(reply->element[2]));
  } else if (kind == "pmessage" && reply->elements >= 4) {
    on_frame(text_of(reply->element[2]), text_of(reply->element[3]));
  }
}

void RedisEngine::on_frame(std::string_view channel, std::string_view payload) {
  if (channel == last_channel_ && payload == last_payload_) return;  // a second match
  last_channel_.assign(channel);
  last_payload_.assign(payload);
  if (!channel.starts_with(channels_)) return;
  const std::string_view rest = channel.substr(channels_.size());
  const auto newline = payload.find('\n');
  if (newline == std::string_view::npos) return;
  const std::string_view header = payload.substr(0, newline);
  const std::string_view body = payload.substr(newline + 1);
  if (rest.starts_with("n:") && header.starts_with("e ")) {
    // Its account logged in on another node, which holds the name now: the session ends.
    const SessionId target = std::strtoull(std::string(header.substr(2)).c_str(), nullptr, 10);
    if (hub_.contains(target)) hub_.evict(target, body);
    return;
  }
  if (rest.starts_with("n:")) {
    // "t S" then from, ts, data on their own lines (data is one line of JSON).
    if (!header.starts_with("t ")) return;
    const SessionId to = std::strtoull(std::string(header.substr(2)).c_str(), nullptr, 10);
    const auto from_end = body.find('\n');
    if (from_end == std::string_view::npos) return;
    const auto ts_end = body.find('\n', from_end + 1);
    if (ts_end == std::string_view::npos || !hub_.contains(to)) return;
    const std::string_view from = body.substr(0, from_end);
    const std::int64_t ts = std::strtoll(
        std::string(body.substr(from_end + 1, ts_end - from_end - 1)).c_str(), nullptr, 10);
    const SharedFrame frame =
        make_frame(protocol::build_tell_msg(hub_.name_of(to), from, body.substr(ts_end + 1), ts));
    if (hub_.peer_of(to)->deliver(frame)) ++hub_.counters().msgs_out;
    return;
  }
  if (!rest.starts_with("t:") || header.size() < 2) return;
  const std::string_view topic = rest.substr(2);
  // "m|p N S": the publisher or member, skipped here when it is one of this node's; a msg
  // header goes on with " N S" for each queue group member picked for it.
  std::string_view who = header.substr(2);
  SessionId origin = 0;
  std::vector<SessionId> picks;
  for (bool first = true; !who.empty(); first = false) {
    const auto space = who.find(' ');
    const std::string_view node = who.substr(0, space);
    if (space == std::string_view::npos) break;
    who.remove_prefix(space + 1);
    const auto end = who.find(' ');
    const SessionId session = std::strtoull(std::string(who.substr(0, end)).c_str(), nullptr, 10);
    who.remove_prefix(end == std::string_view::npos ? who.size() : end + 1);
    if (node != node_id()) continue;
    if (first) {
      origin = session;
    } else {
      picks.push_back(session);
    }
  }
  const SharedFrame frame = make_frame(std::string(body));
  if (header[0] == 'm') {
    hub_.fan_out(topic, frame, origin, picks);
  } else if (header[0] == 'p') {
    hub_.deliver_to_members(topic, frame, origin);
  }
}

void RedisEngine::hold_channel(const std::string& channel, bool pattern) {
  auto& held = pattern ? globs_held_ : channels_held_;
  if (++held[channel] == 1 &&
      sub_.subscribe_command({pattern ? "PSUBSCRIBE" : "SUBSCRIBE", channel})) {
    unconfirmed_.try_emplace(confirmation_key(channel, pattern));
  }
}

std::string RedisEngine::confirmation_key(std::string_view channel, bool pattern) {
  return (pattern ? "p " : "c ") + std::string(channel);
}

void RedisEngine::when_subscribed(const std::string& channel, bool pattern,
                                  std::function<void()> then) {
  const auto waiting = unconfirmed_.find(confirmation_key(channel, pattern));
  if (waiting == unconfirmed_.end()) return then();
  waiting->second.push_back(std::move(then));
}

void RedisEngine::confirmed(const std::string& key) {
  const auto waiting = unconfirmed_.find(key);
  if (waiting == unconfirmed_.end()) return;
  const auto then = std::move(waiting->second);
  unconfirmed_.erase(waiting);
  for (const auto& f : then) f();
}

// The subscriber link went down: nothing it was asked will be confirmed. The waiting
// answers go now (the link's return subscribes everything held again), so that no request
// waits for an outage to end.
void RedisEngine::release_unconfirmed() {
  auto waiting = std::move(unconfirmed_);
  unconfirmed_.clear();
  for (auto& [key, then] : waiting) {
    for (const auto& f : then) f();
  }
}

void RedisEngine::drop_channel(const std::string& channel, bool pattern) {
  auto& held = pattern ? globs_held_ : channels_held_;
  const auto it = held.find(channel);
  if (it == held.end()) return;
  if (--it->second == 0) {
    held.erase(it);
    sub_.subscribe_command({pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", channel});
  }
}

std::string RedisEngine::topic_channel(std::string_view topic) const {
  return channels_ + "t:" + std::string(topic);
}

// A subscription pattern as a Redis glob: '*' and '>' both become '*', which matches more
// (dots too); the hub's own matching filters what arrives.
std::string RedisEngine::pattern_channel(std::string_view pattern, bool& glob) const {
  std::string out = channels_ + "t:";
  glob = false;
  std::size_t token = 0;
  while (token <= pattern.size()) {
    const std::size_t dot = std::min(pattern.find('.', token), pattern.size());
    const std::string_view t = pattern.substr(token, dot - token);
    if (token > 0) out += '.';
    if (t == "*" || t == ">") {
      out += '*';
      glob = true;
    } else {
      out += t;
    }
    token = dot + 1;
  }
  return out;
}

std::string RedisEngine::owner(SessionId id) const {
  return node_id() + " " + std::to_string(id);
}

std::string RedisEngine::epoch_candidate() {
  return node_id() + "-" + std::to_string(++epochs_);
}

// ---- requests ---------------------------------------------------------------------------

void RedisEngine::greet(SessionId id, const std::optional<std::string>& name, bool echo,
                        bool take_over, Done<Status> done) {
  if (!name) return done(hub_.greet(id, name, echo));
  if (hub_.name_in_use(*name, id)) {
    if (!take_over)
      return done(HubError{ErrorCode::name_taken, "the name '" + *name + "' is in use"});
    // The older session is on this node: it goes first, and its name's release is queued
    // on the command link ahead of the claim below.
    hub_.evict(hub_.holder_of(*name), "replaced");
  }
  const std::string folded = protocol::fold_name(*name);
  const std::string old_folded = protocol::fold_name(hub_.name_of(id));
  const std::string value = owner(id) + " " + *name;
  const std::string mine = owner(id) + " ";
  const std::string notify = take_over ? channels_ + "n:" : std::string();
  const std::string keys = take_over ? prefix_ : std::string();
  const bool sent =
      eval(claim_s,
           {prefix_ + "name:" + folded, prefix_ + "name:" + old_folded,
            prefix_ + "node:" + node_id() + ":names"},
           {value, folded, old_folded, mine, notify, keys},
           [this, id, name = *name, folded, echo, done, alive = alive_](redisReply* reply) {
             if (!*alive) return;
             if (is_error(reply)) return done(unavailable());
             if (!hub_.contains(id)) {
               if (reply->integer >= 1) release_name(id, folded);
               return done(std::nullopt);
             }
             if (reply->integer == 0)
               return done(HubError{ErrorCode::name_taken, "the name '" + name + "' is in use"});
             // Taken over from another node: that node ends the older session when its
             // message arrives, which may be after this welcome.
             done(hub_.greet(id, name, echo));
           });
  if (!sent) done(unavailable());
}

void RedisEngine::release_name(SessionId id, const std::string& folded) {
  eval(release_s, {prefix_ + "name:" + folded, prefix_ + "node:" + node_id() + ":names"},
       {folded, owner(id) + " "}, [](redisReply*) {});
}

void RedisEngine::subscribe(SessionId id, const std::string& pattern,
                            const std::optional<std::string>& group, Done<Status> done) {
  std::optional<std::optional<std::string>> had;  // the pattern's group before, if subscribed
  if (const auto* before = hub_.group_of(id, pattern)) had = *before;
  if (Status status = hub_.subscribe(id, pattern, group)) return done(status);
  bool glob = false;
  const std::string channel = pattern_channel(pattern, glob);
  if (!had) hold_channel(channel, glob);
  // The store picks each message's member of a group: it must know who is in which.
  // ok only once this node gets the pattern's messages and the store has the session in
  // its group (PROTOCOL.md: a message published after the ok reaches the subscriber, or
  // its group, whichever node publishes it).
  auto waiting = std::make_shared<int>(1);
  const auto one_done = [done, waiting] {
    if (--*waiting == 0) done(std::nullopt);
  };
  if (had && *had && *had != group) group_in_store(group_leave_s, id, pattern, **had, nullptr);
  if (group && (!had || *had != group)) {
    ++*waiting;
    group_in_store(group_join_s, id, pattern, *group, one_done);
  }
  when_subscribed(channel, glob, one_done);
}

Status RedisEngine::unsubscribe(SessionId id, const std::string& pattern) {
  std::optional<std::string> group;
  if (const auto* before = hub_.group_of(id, pattern)) group = *before;
  if (Status status = hub_.unsubscribe(id, pattern)) return status;
  bool glob = false;
  const std::string channel = pattern_channel(pattern, glob);
  drop_channel(channel, glob);
  if (group) group_in_store(group_leave_s, id, pattern, *group, nullptr);
  return std::nullopt;
}

// Sent without waiting, on the ordered link: a publish queued after it sees it. While the
// store cannot be reached it is not sent; the resync when the link is back puts it right.
void RedisEngine::group_in_store(Script script, SessionId id, const std::string& pattern,
                                 const std::string& group, const std::function<void()>& then) {
  const bool sent = eval(script, {}, {prefix_, node_id(), std::to_string(id), pattern, group},
                         [then, alive = alive_](redisReply*) {
                           if (*alive && then) then();
                         });
  if (!sent && then) then();
}

Status RedisEngine::publish(SessionId id, std::string_view topic, std::string_view data_json,
                            std::optional<std::string_view> reply, std::int64_t ts_ms) {
  if (!available()) return unavailable();
  // The frame is built here, once, with seq 0; the script puts the real seq in its place.
  // Nothing after `data` can hold this text, so the last occurrence is the field itself.
  const std::string frame =
      protocol::build_msg(topic, hub_.name_of(id), data_json, 0, ts_ms, reply);
  constexpr std::string_view seq_field = ",\"seq\":0,";
  const auto at = frame.rfind(seq_field);
  const std::string_view text = frame;
  const std::string_view head = text.substr(0, at + seq_field.size() - 2);
  const std::string_view tail = text.substr(at + seq_field.size() - 1);
  const std::string publisher = owner(id);
  const std::string header = "m " + publisher;
  const std::string channel = topic_channel(topic);
  const std::string cap = std::to_string(hub_.limits().history_per_topic);
  const std::string epoch = epoch_candidate();
  const std::string t(topic);
  const bool sent =
      eval(publish_s, {prefix_ + "topic:" + t, prefix_ + "hist:" + t, prefix_ + "topics"},
           {channel, header, head, tail, cap, epoch, topic, prefix_, publisher,
            hub_.echo_of(id) ? "0" : "1"},
           [alive = alive_](redisReply* r) {
             if (*alive && r != nullptr && r->type == REDIS_REPLY_ERROR)
               spdlog::error("cluster: a publish was refused: {}", text_of(r));
           });
  if (!sent) return unavailable();
  ++hub_.counters().msgs_in;
  return std::nullopt;
}

void RedisEngine::join(SessionId id, const std::string& topic, int history,
                       std::optional<std::uint64_t> since, const std::optional<std::string>& epoch,
                       Done<std::pair<Status, JoinView>> done) {
  if (!available()) return done({unavailable(), {}});
  bool added = false;
  if (Status status = hub_.enter_room(id, topic, added)) return done({status, {}});
  const std::string channel = topic_channel(topic);
  if (added) hold_channel(channel, false);
  const std::string& name = hub_.name_of(id);
  const std::string field = owner(id);
  const std::string entry = topic + " " + std::to_string(id) + " " + name;
  const std::string presence = "p " + field + "\n" + protocol::build_presence(topic, name, true);
  const bool sent = eval(
      join_s,
      {prefix_ + "members:" + topic, prefix_ + "topic:" + topic, prefix_ + "hist:" + topic,
       prefix_ + "topics", prefix_ + "node:" + node_id() + ":rooms"},
      {field, name, entry, channel, presence, epoch_candidate(), topic},
      [this, id, topic, history, since, epoch, added, done, alive = alive_,
       cap = hub_.limits().reply_bytes](redisReply* reply) {
        if (!*alive) return;
        if (is_error(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 4) {
          if (added && hub_.contains(id) && hub_.exit_room(id, topic))
            drop_channel(topic_channel(topic), false);
          return done({unavailable(), {}});
        }
        const std::uint64_t seq = integer_of(reply->element[0]);
        // Shared, so that the answer's views stay valid while it waits for the topic's
        // channel to be subscribed.
        const auto kept = std::make_shared<const Retained>(retained_from(reply->element[3], seq));
        const Retained& retained = *kept;
        std::pair<Status, JoinView> result;
        JoinView& view = result.second;
        const redisReply* names = reply->element[2];
        for (std::size_t i = 0; names->type == REDIS_REPLY_ARRAY && i < names->elements; ++i)
          view.members.emplace_back(text_of(names->element[i]));
        std::sort(view.members.begin(), view.members.end());
        view.history.epoch = std::string(text_of(reply->element[1]));
        if (since) {
          if (epoch && *epoch != view.history.epoch) {
            view.recovered = false;
            page_forward(retained, 0, retained.lines.size(), cap, view.history);
          } else {
            if (*since >= seq) {
              view.recovered = *since == seq;
            } else {
              view.recovered = !retained.lines.empty() && retained.oldest() <= *since + 1;
            }
            if (!retained.lines.empty() && *since < seq) {
              page_forward(retained, retained.offset_of(*since + 1), retained.lines.size(), cap,
                           view.history);
            }
          }
        } else {
          const std::size_t count =
              std::min<std::size_t>(static_cast<std::size_t>(history), retained.lines.size());
          page_backward(retained, retained.lines.size() - count, retained.lines.size(), cap,
                        view.history);
        }
        // joined only once this node gets the topic's messages: nothing published after
        // the answer can miss the new member.
        when_subscribed(topic_channel(topic), false, [done, kept, result] { done(result); });
      });
  if (!sent) {
    if (added && hub_.exit_room(id, topic)) drop_channel(channel, false);
    done({unavailable(), {}});
  }
}

Status RedisEngine::leave(SessionId id, const std::string& topic) {
  if (!available()) return unavailable();
  const std::string name = hub_.name_of(id);
  if (!hub_.exit_room(id, topic))
    return HubError{ErrorCode::not_joined, "not a member of '" + topic + "'"};
  leave_in_store(id, topic, name);
  return std::nullopt;
}

// The member leaves the topic in Redis (presence leave to every node) and this node drops
// its use of the topic's channel. Sent without waiting: nothing here needs the answer.
void RedisEngine::leave_in_store(SessionId id, const std::string& topic, const std::string& name) {
  const std::string channel = topic_channel(topic);
  drop_channel(channel, false);
  const std::string field = owner(id);
  eval(leave_s,
       {prefix_ + "members:" + topic, prefix_ + "hist:" + topic, prefix_ + "topics",
        prefix_ + "node:" + node_id() + ":rooms"},
       {field, topic + " " + std::to_string(id) + " " + name, channel,
        "p " + field + "\n" + protocol::build_presence(topic, name, false), topic},
       [](redisReply*) {});
}

void RedisEngine::tell(SessionId id, std::string_view to, std::string_view data_json,
                       std::int64_t ts_ms, Done<Status> done) {
  if (!available()) return done(unavailable());
  const std::string target(to);
  const bool sent =
      eval(tell_s, {prefix_ + "name:" + protocol::fold_name(to)},
           {channels_ + "n:", hub_.name_of(id), std::to_string(ts_ms), data_json},
           [this, target, done, alive = alive_](redisReply* reply) {
             if (!*alive) return;
             if (is_error(reply)) return done(unavailable());
             if (reply->integer != 1)
               return done(HubError{ErrorCode::no_such_user, "nobody is called '" + target + "'"});
             ++hub_.counters().msgs_in;
             done(std::nullopt);
           });
  if (!sent) done(unavailable());
}

void RedisEngine::who(const std::string& topic,
                      Done<std::pair<Status, std::vector<std::string>>> done) {
  const bool sent = available() && cmd_.command({"HVALS", prefix_ + "members:" + topic},
                                                [done, alive = alive_](redisReply* reply) {
                                                  if (!*alive) return;
                                                  if (is_error(reply))
                                                    return done({unavailable(), {}});
                                                  std::vector<std::string> names;
                                                  for (std::size_t i = 0; i < reply->elements; ++i)
                                                    names.emplace_back(text_of(reply->element[i]));
                                                  std::sort(names.begin(), names.end());
                                                  done({std::nullopt, names});
                                                });
  if (!sent) done({unavailable(), {}});
}

void RedisEngine::topics(const std::optional<std::string>& pattern, int limit,
                         const std::optional<std::string>& after,
                         std::shared_ptr<const auth::Permissions> rights,
                         Done<std::pair<Status, TopicsView>> done) {
  // Every listed topic from the pattern's literal prefix on is read, and the pattern,
  // `after` and `limit` applied here: O(listed topics) per request, fine for a first step.
  std::string start = "-";
  if (pattern) {
    std::string_view prefix = *pattern;
    const auto wild = prefix.find_first_of("*>");
    if (wild != std::string_view::npos) prefix = prefix.substr(0, wild);
    if (!prefix.empty()) start = "[" + std::string(prefix);
  }
  const bool sent =
      available() && eval(topics_s, {prefix_ + "topics"}, {start, "100000", prefix_},
                          [pattern, limit, after, rights, done, alive = alive_](redisReply* reply) {
                            if (!*alive) return;
                            if (is_error(reply) || reply->type != REDIS_REPLY_ARRAY)
                              return done({unavailable(), {}});
                            std::pair<Status, TopicsView> result;
                            TopicsView& view = result.second;
                            for (std::size_t i = 0; i + 3 < reply->elements; i += 4) {
                              const std::string_view topic = text_of(reply->element[i]);
                              const std::uint64_t members = integer_of(reply->element[i + 2]);
                              const std::uint64_t retained = integer_of(reply->element[i + 3]);
                              if (topic.empty() || topic.front() == '$') continue;
                              if (members == 0 && retained == 0) continue;
                              if (after && topic <= *after) continue;
                              if (pattern && !protocol::pattern_matches(*pattern, topic)) continue;
                              if (rights && !rights->allow_subscribe_topic(topic)) continue;
                              if (view.topics.size() == static_cast<std::size_t>(limit)) {
                                view.more = true;
                                break;
                              }
                              view.topics.push_back(
                                  {std::string(topic), members, integer_of(reply->element[i + 1])});
                            }
                            done(result);
                          });
  if (!sent) done({unavailable(), {}});
}

void RedisEngine::history(const std::string& topic, int limit, std::optional<std::uint64_t> before,
                          std::optional<std::uint64_t> after,
                          Done<std::pair<Status, MessagesView>> done) {
  const std::string fallback_epoch = node_id() + "-" + std::to_string(epochs_ + 1);
  const bool sent =
      available() &&
      eval(history_s, {prefix_ + "topic:" + topic, prefix_ + "hist:" + topic}, {},
           [limit, before, after, done, fallback_epoch, alive = alive_,
            cap = hub_.limits().reply_bytes](redisReply* reply) {
             if (!*alive) return;
             if (is_error(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
               return done({unavailable(), {}});
             const Retained retained =
                 retained_from(reply->element[2], integer_of(reply->element[0]));
             std::pair<Status, MessagesView> result;
             MessagesView& out = result.second;
             const std::string_view epoch = text_of(reply->element[1]);
             out.epoch = epoch.empty() ? fallback_epoch : std::string(epoch);
             const auto count = static_cast<std::size_t>(limit);
             const std::size_t size = retained.lines.size();
             if (size > 0) {
               if (after) {
                 if (*after < retained.last) {
                   const std::size_t first = retained.offset_of(*after + 1);
                   page_forward(retained, first, std::min(size, first + count), cap, out);
                 }
               } else {
                 const std::size_t end = before ? retained.offset_of(*before) : size;
                 page_backward(retained, end - std::min(end, count), end, cap, out);
               }
             }
             done(result);
           });
  if (!sent) done({unavailable(), {}});
}

protocol::StatsReport RedisEngine::stats_report(std::uint64_t uptime_s) const {
  protocol::StatsReport report = hub_.stats_report(uptime_s);
  report.node = node_id();
  report.nodes = nodes_;
  return report;
}

// ---- the hub's sessions -------------------------------------------------------------

void RedisEngine::session_opened(SessionId id) {
  // The guest name, so that tell reaches guests on any node too.
  const std::string& name = hub_.name_of(id);
  const std::string folded = protocol::fold_name(name);
  eval(claim_s,
       {prefix_ + "name:" + folded, prefix_ + "name:" + folded,
        prefix_ + "node:" + node_id() + ":names"},
       {owner(id) + " " + name, folded, folded, owner(id) + " ", "", ""}, [](redisReply*) {});
}

void RedisEngine::session_closing(SessionId id, const std::vector<std::string>& rooms,
                                  bool /*announce*/) {
  // In a cluster the other nodes' members hear of it even on shutdown (../shared/PROTOCOL.md §
  // Clusters: a stopping node's members leave at once).
  const std::string name = hub_.name_of(id);
  for (const auto& topic : rooms) leave_in_store(id, topic, name);
  for (const auto& pattern : hub_.patterns_of(id)) {
    bool glob = false;
    const std::string channel = pattern_channel(pattern, glob);
    drop_channel(channel, glob);
    if (const auto* group = hub_.group_of(id, pattern); group != nullptr && *group)
      group_in_store(group_leave_s, id, pattern, **group, nullptr);
  }
  release_name(id, protocol::fold_name(name));
}

}  // namespace parley::server::cluster
