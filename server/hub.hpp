#pragma once
// All shared state of the server: sessions by name, subscriptions, queue groups, room
// members and history. Threading: the hub lives on the one event-loop thread and is never
// touched from another, so it has no locks. It does no I/O: sessions are Peers.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parley/protocol/error_code.hpp"
#include "parley/protocol/frames.hpp"
#include "peer.hpp"
#include "subscription_index.hpp"
#include "topic_store.hpp"

namespace parley::server {

struct HubLimits {
  std::size_t max_subs = 1000;                        // patterns subscribed plus topics joined
  std::size_t history_per_topic = 100;                // 0 keeps no history
  std::size_t history_bytes = std::size_t{64} << 20;  // all topics together
};

struct HubError {
  protocol::ErrorCode code;
  std::string message;
};
using Status = std::optional<HubError>;  // empty on success

// Counters the stats reply reports; sessions add the wire byte counts.
struct HubCounters {
  std::uint64_t msgs_in = 0;
  std::uint64_t msgs_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t slow_consumers = 0;
  std::uint64_t sessions_total = 0;
};

struct JoinView {
  std::vector<std::string> members;       // sorted by byte order
  std::vector<std::string_view> history;  // msg lines, oldest first; valid until the next hub call
  std::optional<bool> recovered;          // set when `since` was given
};

class Hub {
 public:
  explicit Hub(HubLimits limits);

  // A new session, named guest-N until a hello renames it. `peer` must outlive the session.
  SessionId connect(Peer& peer);
  // Ends a session: its subscriptions go, and unless `announce` is false (shutdown) the
  // other members of its rooms get presence leave.
  void disconnect(SessionId id, bool announce = true);

  bool contains(SessionId id) const { return sessions_.contains(id); }
  const std::string& name_of(SessionId id) const;
  std::size_t session_count() const noexcept { return sessions_.size(); }

  // hello: takes a name (case-insensitively unique) and the echo choice.
  Status greet(SessionId id, const std::optional<std::string>& name, bool echo);
  Status subscribe(SessionId id, const std::string& pattern,
                   const std::optional<std::string>& group);
  Status unsubscribe(SessionId id, const std::string& pattern);
  // Gives the message its seq, retains it and queues it once for every matching session.
  std::uint64_t publish(SessionId id, std::string_view topic, std::string_view data_json,
                        std::optional<std::string_view> reply, std::int64_t ts_ms);
  Status join(SessionId id, const std::string& topic, int history,
              std::optional<std::uint64_t> since, JoinView& out);
  Status leave(SessionId id, const std::string& topic);
  Status tell(SessionId id, std::string_view to, std::string_view data_json, std::int64_t ts_ms);

  std::vector<std::string> who(std::string_view topic) const;
  std::vector<protocol::TopicSummary> topics(const std::optional<std::string>& pattern) const;
  // The newest `limit` retained messages with seq < `before`, oldest first.
  std::vector<std::string_view> history(std::string_view topic, int limit,
                                        std::optional<std::uint64_t> before);

  HubCounters& counters() noexcept { return counters_; }
  const HubCounters& counters() const noexcept { return counters_; }
  std::size_t subscription_count() const noexcept { return subscription_count_; }
  std::size_t topic_count() const noexcept { return topics_.listed_count(); }
  const HubLimits& limits() const noexcept { return limits_; }

  // For invariant checks in tests and fuzzers: the patterns and rooms of one session.
  std::vector<std::string> patterns_of(SessionId id) const;
  std::vector<std::string> rooms_of(SessionId id) const;
  const TopicStore& topic_store() const noexcept { return topics_; }
  const SubscriptionIndex& index() const noexcept { return index_; }

 private:
  struct Session {
    SessionId id;
    Peer* peer;
    std::string name;
    std::string folded;  // the key in names_
    bool echo = true;
    std::map<std::string, std::optional<std::string>, std::less<>> subs;  // pattern -> group
    std::vector<std::string> rooms;                                       // joined topics
    std::uint64_t last_delivery = 0;  // the fan-out that last reached this session
  };

  Session& session(SessionId id);
  const Session& session(SessionId id) const;
  bool at_subscription_limit(const Session& s) const noexcept;
  std::vector<std::string> member_names(const Topic& topic) const;
  void announce(const Topic& topic, const Session& who, bool joined);
  void remove_member(Session& s, Topic& topic, bool announce_leave);

  HubLimits limits_;
  std::unordered_map<SessionId, Session> sessions_;
  std::unordered_map<std::string, SessionId> names_;  // folded name -> session
  SubscriptionIndex index_;
  TopicStore topics_;
  HubCounters counters_;
  SessionId next_id_ = 1;
  std::uint64_t next_guest_ = 1;
  std::uint64_t fan_out_count_ = 0;
  std::size_t subscription_count_ = 0;
};

}  // namespace parley::server
