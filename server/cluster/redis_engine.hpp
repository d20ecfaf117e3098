#pragma once
// The cluster engine: every decision that makes several nodes one server is taken in a
// shared Redis (seqs, epochs and history, names, members and presence, tell's recipient),
// while the node's hub keeps its own sessions and does the local fan-out. Two links: one
// for commands (everything pipelined, so one session's requests keep their order) and
// one subscriber link that receives the frames published for the channels this node's
// sessions need. Threading: the event loop's thread only, like the hub.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine.hpp"
#include "redis_link.hpp"

namespace parley::server::cluster {

struct ClusterOptions {
  RedisTarget target;
  std::chrono::milliseconds node_timeout{10000};
};

class RedisEngine final : public Engine, public HubObserver {
 public:
  RedisEngine(asio::io_context& io, Hub& hub, ClusterOptions options);
  ~RedisEngine() override;
  RedisEngine(const RedisEngine&) = delete;
  RedisEngine& operator=(const RedisEngine&) = delete;

  // Connects both links and starts the heartbeat.
  void start();
  // A stopping node: its members' presence leave and its names go at once.
  void stop();
  // Both links up and the scripts loaded: requests that need the store can be served.
  bool available() const noexcept { return ready_ && sub_.up(); }

  const std::string& node_id() const override { return hub_.node_id(); }
  Hub& hub() override { return hub_; }
  void greet(SessionId id, const std::optional<std::string>& name, bool echo, bool take_over,
             Done<Status> done) override;
  void subscribe(SessionId id, const std::string& pattern, const std::optional<std::string>& group,
                 Done<Status> done) override;
  Status unsubscribe(SessionId id, const std::string& pattern) override;
  Status publish(SessionId id, std::string_view topic, std::string_view data_json,
                 std::optional<std::string_view> reply, std::int64_t ts_ms) override;
  void join(SessionId id, const std::string& topic, int history, std::optional<std::uint64_t> since,
            const std::optional<std::string>& epoch,
            Done<std::pair<Status, JoinView>> done) override;
  Status leave(SessionId id, const std::string& topic) override;
  void tell(SessionId id, std::string_view to, std::string_view data_json, std::int64_t ts_ms,
            Done<Status> done) override;
  void who(const std::string& topic,
           Done<std::pair<Status, std::vector<std::string>>> done) override;
  void topics(const std::optional<std::string>& pattern, int limit,
              const std::optional<std::string>& after,
              std::shared_ptr<const auth::Permissions> rights,
              Done<std::pair<Status, TopicsView>> done) override;
  void history(const std::string& topic, int limit, std::optional<std::uint64_t> before,
               std::optional<std::uint64_t> after,
               Done<std::pair<Status, MessagesView>> done) override;
  protocol::StatsReport stats_report(std::uint64_t uptime_s) const override;

  void session_opened(SessionId id) override;
  void session_closing(SessionId id, const std::vector<std::string>& rooms, bool announce) override;

 private:
  enum Script {
    publish_s,
    join_s,
    leave_s,
    history_s,
    claim_s,
    release_s,
    tell_s,
    heartbeat_s,
    stop_s,
    resync_s,
    topics_s,
    group_join_s,
    group_leave_s,
    script_count
  };

  void on_command_link_up();
  void on_subscriber_link_up();
  void resync();
  void heartbeat();
  void schedule_heartbeat();
  void on_push(struct ::redisReply* reply);
  void on_frame(std::string_view channel, std::string_view payload);
  // Subscribes the subscriber link to `channel` (a glob when `pattern`) for one more user.
  void hold_channel(const std::string& channel, bool pattern);
  void drop_channel(const std::string& channel, bool pattern);
  // Runs `then` once Redis has confirmed the subscription to `channel` (at once when no
  // subscribe of it is waiting for its confirmation).
  void when_subscribed(const std::string& channel, bool pattern, std::function<void()> then);
  void confirmed(const std::string& key);
  void release_unconfirmed();
  static std::string confirmation_key(std::string_view channel, bool pattern);
  bool eval(Script script, const std::vector<std::string_view>& keys,
            const std::vector<std::string_view>& args, RedisLink::OnReply on_reply);
  std::string topic_channel(std::string_view topic) const;
  std::string pattern_channel(std::string_view pattern, bool& glob) const;
  std::string owner(SessionId id) const;  // "N S"
  std::string epoch_candidate();
  void release_name(SessionId id, const std::string& folded);
  void leave_in_store(SessionId id, const std::string& topic, const std::string& name);
  // A session's membership of a queue group, in the store that picks each message's member.
  // `then` (may be empty) runs when the store has answered, or at once if it cannot be asked.
  void group_in_store(Script script, SessionId id, const std::string& pattern,
                      const std::string& group, const std::function<void()>& then);

  Hub& hub_;
  ClusterOptions options_;
  std::string prefix_ = "parley:";  // keys (the database is chosen with SELECT)
  std::string channels_;            // channel prefix: channels span every database
  RedisLink cmd_;
  RedisLink sub_;
  std::vector<std::string> shas_;
  bool ready_ = false;
  bool stopped_ = false;
  std::uint64_t nodes_ = 1;
  bool nodes_logged_ = false;  // the count is logged once at the first beat, then on change
  std::uint64_t epochs_ = 0;
  asio::steady_timer heartbeat_timer_;
  // Channels (exact, and globs) this node subscribes to, with their number of users.
  std::map<std::string, std::size_t> channels_held_;
  std::map<std::string, std::size_t> globs_held_;
  // Subscribes sent and not yet confirmed ("c channel" or "p glob"), with what waits for
  // their confirmation.
  std::map<std::string, std::vector<std::function<void()>>> unconfirmed_;
  // The last frame received, to drop the copy Redis sends when several of this node's
  // subscriptions (a channel and a glob) match one publish: the copies come together.
  std::string last_channel_;
  std::string last_payload_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace parley::server::cluster
