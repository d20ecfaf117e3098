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
#include "parley/protocol/version.hpp"
#include "peer.hpp"
#include "permissions.hpp"
#include "subscription_index.hpp"
#include "topic_store.hpp"

namespace parley::server {

struct HubLimits {
  std::size_t max_subs = 1000;                        // patterns subscribed plus topics joined
  std::size_t history_per_topic = 100;                // 0 keeps no history
  std::size_t history_bytes = std::size_t{64} << 20;  // all topic records and history together
  // The messages of one history or joined reply total at most this many bytes (their msg
  // lines), yet at least one message is given when there is one. The protocol asks for
  // 1 MiB or max_frame, whichever is larger.
  std::size_t reply_bytes = protocol::kMinReplyMessageBytes;
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

// A page of a topic's messages: msg lines, oldest first, valid until the next hub call.
struct MessagesView {
  std::vector<std::string_view> messages;
  std::string epoch;  // the topic's current epoch
  bool more = false;  // the reply cap left out messages the request asked for
  protocol::MessagePage page() const noexcept { return {messages, epoch, more}; }
};

struct JoinView {
  std::vector<std::string> members;  // sorted by byte order
  MessagesView history;
  std::optional<bool> recovered;  // set when `since` was given
};

struct TopicsView {
  std::vector<protocol::TopicSummary> topics;  // in byte order
  bool more = false;                           // more topics matched past the limit
};

// Told of sessions coming and going, before the hub forgets them: a cluster engine
// registers and releases their names and memberships in the shared store. With an
// observer set, the hub sends no presence itself: the observer's store announces it to
// every node. Must not call back into the hub's session or room changes.
class HubObserver {
 public:
  virtual ~HubObserver() = default;
  virtual void session_opened(SessionId id) = 0;
  // `rooms` are the topics the session had joined; `announce` is false on shutdown.
  virtual void session_closing(SessionId id, const std::vector<std::string>& rooms,
                               bool announce) = 0;
};

class Hub {
 public:
  // `boot_id` names this process: the node id in welcome and the first part of every
  // epoch. It must differ from every earlier run's (random_boot_id() does, in practice).
  explicit Hub(HubLimits limits, std::string boot_id = random_boot_id());
  // 16 hex digits from std::random_device.
  static std::string random_boot_id();
  const std::string& node_id() const noexcept { return boot_id_; }

  // A new session, named guest-N until a hello renames it. `peer` must outlive the session.
  SessionId connect(Peer& peer);
  // Ends a session: its subscriptions go, and unless `announce` is false (shutdown) the
  // other members of its rooms get presence leave.
  void disconnect(SessionId id, bool announce = true);

  bool contains(SessionId id) const { return sessions_.contains(id); }
  const std::string& name_of(SessionId id) const;
  Peer* peer_of(SessionId id) const { return session(id).peer; }
  std::size_t session_count() const noexcept { return sessions_.size(); }

  // hello: takes a name (case-insensitively unique) and the echo choice. With `take_over`
  // (an account's login), a session holding the name is evicted first (Peer::evict with
  // "replaced", presence leave for its rooms) instead of the hello being name_taken.
  Status greet(SessionId id, const std::optional<std::string>& name, bool echo,
               bool take_over = false);
  // An account's rights for delivery: only its deny_subscribe list matters here, so a
  // session whose account has none keeps a null filter and costs one pointer test per
  // delivery; otherwise one trie walk. Null clears it.
  void set_permissions(SessionId id, std::shared_ptr<const auth::Permissions> permissions);
  // Ends a session on purpose: Peer::evict with `bye_reason`, then gone as any closed
  // session (members see it leave).
  void evict(SessionId id, std::string_view bye_reason);
  Status subscribe(SessionId id, const std::string& pattern,
                   const std::optional<std::string>& group);
  Status unsubscribe(SessionId id, const std::string& pattern);
  // Gives the message its seq, retains it and queues it once for every matching session.
  std::uint64_t publish(SessionId id, std::string_view topic, std::string_view data_json,
                        std::optional<std::string_view> reply, std::int64_t ts_ms);
  // join: the newest `history` messages (backwards paging), or with `since` every retained
  // message after it (forwards), all of them with recovered false when `epoch` is given and
  // is not the topic's current one.
  Status join(SessionId id, const std::string& topic, int history,
              std::optional<std::uint64_t> since, const std::optional<std::string>& epoch,
              JoinView& out);
  Status leave(SessionId id, const std::string& topic);
  Status tell(SessionId id, std::string_view to, std::string_view data_json, std::int64_t ts_ms);

  std::vector<std::string> who(std::string_view topic) const;
  // Listed topics (members or history) without '$', in byte order, matching `pattern`,
  // after `after`: at most `limit`, `more` when others matched too.
  // Cost: O(log n) to find where to start, plus one step per listed topic visited. Visited
  // are the topics in the range that the pattern's literal prefix (its tokens before the
  // first wildcard) allows, from `after` on, until `limit` + 1 matches are found. So a fully
  // literal pattern costs O(log n); a literal prefix that matches nothing costs O(log n); a
  // pattern with a leading wildcard (`*.x`, `>`) visits topics in byte order from `after`
  // on until `limit` + 1 match or the index ends: O(log n + limit) when most match, O(n)
  // when few of n listed topics match.
  // With `permissions`, topics it may not subscribe to are skipped like topics the pattern
  // does not match (the limit and `more` count only the topics listed).
  TopicsView topics(const std::optional<std::string>& pattern, int limit,
                    const std::optional<std::string>& after,
                    const auth::Permissions* permissions = nullptr) const;
  // Without `after`, the newest `limit` retained messages with seq < `before` (backwards
  // paging); with `after`, the oldest `limit` with seq > `after` (forwards). Both within
  // the reply cap; O(log n + size of the page).
  MessagesView history(std::string_view topic, int limit, std::optional<std::uint64_t> before,
                       std::optional<std::uint64_t> after = std::nullopt) const;
  // The epoch of `topic`, or the one it would get if it were created now.
  std::string epoch_of(std::string_view topic) const;
  // The stats reply's numbers, from counters kept up to date: O(1).
  protocol::StatsReport stats_report(std::uint64_t uptime_s) const;

  HubCounters& counters() noexcept { return counters_; }
  const HubCounters& counters() const noexcept { return counters_; }
  std::size_t subscription_count() const noexcept { return subscription_count_; }
  std::size_t topic_count() const noexcept { return topics_.listed_count(); }
  // Listed-index entries visited by topics() so far: a test hook for its cost.
  std::uint64_t topics_visited() const noexcept { return topics_visited_; }
  const HubLimits& limits() const noexcept { return limits_; }

  // ---- The node's share of a cluster, where the engine decided elsewhere ----
  void set_observer(HubObserver* observer) noexcept { observer_ = observer; }
  // Guest names become guest-<prefix>N, so that nodes sharing a store never give one twice.
  void set_guest_prefix(std::string prefix) { guest_prefix_ = std::move(prefix); }
  // Queues a msg `frame` on `topic`, seq given elsewhere, once for every local session that
  // matches, as publish() does; `publisher` (0 when on another node) is skipped if it said
  // echo false. Counts nothing in; counts what it queues out.
  // `picks`: the local members the store picked for the queue groups matching `topic`;
  // a local group delivers to those only, instead of taking its own turn.
  void fan_out(std::string_view topic, const SharedFrame& frame, SessionId publisher,
               const std::vector<SessionId>& picks);
  // Queues an event for the local members of `topic`, but not for `except`.
  void deliver_to_members(std::string_view topic, const SharedFrame& frame, SessionId except);
  // Local room membership (for fan-out) without presence or history: `added` false when
  // the session was a member already.
  Status enter_room(SessionId id, const std::string& topic, bool& added);
  // False when the session is no member of `topic`.
  bool exit_room(SessionId id, const std::string& topic);
  bool echo_of(SessionId id) const { return session(id).echo; }
  template <class Visit>
  void for_each_session(Visit&& visit) const {
    for (const auto& [id, s] : sessions_) visit(id, s.name, s.rooms);
  }
  // Checks the local name index only (a cluster engine asks the store too).
  bool name_in_use(std::string_view name, SessionId except) const;
  // The group of the session's subscription to `pattern` (itself empty without a group),
  // or null when the session has no such subscription.
  const std::optional<std::string>* group_of(SessionId id, const std::string& pattern) const;
  // The local session holding `name` (case-insensitively); name_in_use() must be true.
  SessionId holder_of(std::string_view name) const;

  // For invariant checks in tests and fuzzers: the patterns and rooms of one session.
  std::vector<std::string> patterns_of(SessionId id) const;
  std::vector<std::string> rooms_of(SessionId id) const;
  const TopicStore& topic_store() const noexcept { return topics_; }
  const SubscriptionIndex& index() const noexcept { return index_; }

 private:
  // The hub's record of one connected session (the network Session is its Peer).
  struct SessionRecord {
    SessionId id;
    Peer* peer;
    std::string name;
    std::string folded;  // the key in names_
    bool echo = true;
    std::map<std::string, std::optional<std::string>, std::less<>> subs;  // pattern -> group
    std::vector<std::string> rooms;                                       // joined topics
    std::uint64_t last_delivery = 0;  // the fan-out that last reached this session
    // Set only for an account with deny_subscribe patterns: msgs on topics they match are
    // withheld (PROTOCOL.md "Permissions").
    std::shared_ptr<const auth::Permissions> deny;
  };

  SessionRecord& session(SessionId id);
  const SessionRecord& session(SessionId id) const;
  bool at_subscription_limit(const SessionRecord& s) const noexcept;
  std::vector<std::string> member_names(const Topic& topic) const;
  void announce(const Topic& topic, const SessionRecord& who, bool joined);
  void remove_member(SessionRecord& s, Topic& topic, bool announce_leave);
  std::string epoch_string(std::uint64_t generation) const;
  void fan_out(std::string_view topic_name, const Topic* topic, const SharedFrame& frame,
               SessionId publisher, bool skip_publisher,
               const std::vector<SessionId>* picks = nullptr);

  HubLimits limits_;
  std::string boot_id_;
  std::unordered_map<SessionId, SessionRecord> sessions_;
  std::unordered_map<std::string, SessionId> names_;  // folded name -> session
  SubscriptionIndex index_;
  TopicStore topics_;
  HubCounters counters_;
  SessionId next_id_ = 1;
  std::uint64_t next_guest_ = 1;
  std::uint64_t fan_out_count_ = 0;
  std::size_t subscription_count_ = 0;
  mutable std::uint64_t topics_visited_ = 0;
  HubObserver* observer_ = nullptr;
  std::string guest_prefix_;
};

}  // namespace parley::server
