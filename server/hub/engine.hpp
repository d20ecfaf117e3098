#pragma once
// The one seam between requests and where their outcome is decided: names, seqs, epochs
// and history, presence and members, the turn of a queue group, tell's recipient.
// LocalEngine decides in this process, in the hub's memory (the embedded default);
// cluster::RedisEngine decides in a shared Redis so that several nodes act as one server.
// The dispatcher sees only this interface; the hub stays the node's own registry of
// sessions and does the local fan-out for both.
//
// An answer comes now (a return value) or through `done`: LocalEngine calls every `done`
// before it returns; a remote engine may call it later, on the loop, exactly once, and
// for one session in the order in which it took that session's requests.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub.hpp"

namespace parley::server {

template <class Result>
using Done = std::function<void(const Result&)>;

class Engine {
 public:
  virtual ~Engine() = default;

  // The node's id, announced in welcome and stats.
  virtual const std::string& node_id() const = 0;
  virtual Hub& hub() = 0;

  // `take_over` (an account's login): a session holding the name, here or on another
  // node, is ended with bye replaced instead of the hello being name_taken.
  virtual void greet(SessionId id, const std::optional<std::string>& name, bool echo,
                     bool take_over, Done<Status> done) = 0;
  // A remote engine answers once this node receives the pattern's messages.
  virtual void subscribe(SessionId id, const std::string& pattern,
                         const std::optional<std::string>& group, Done<Status> done) = 0;
  virtual Status unsubscribe(SessionId id, const std::string& pattern) = 0;
  // Decided now in both engines, so that a publisher's messages keep their order and the
  // publish path never waits: a remote engine queues the publish on its one ordered link.
  virtual Status publish(SessionId id, std::string_view topic, std::string_view data_json,
                         std::optional<std::string_view> reply, std::int64_t ts_ms) = 0;
  virtual void join(SessionId id, const std::string& topic, int history,
                    std::optional<std::uint64_t> since, const std::optional<std::string>& epoch,
                    Done<std::pair<Status, JoinView>> done) = 0;
  virtual Status leave(SessionId id, const std::string& topic) = 0;
  virtual void tell(SessionId id, std::string_view to, std::string_view data_json,
                    std::int64_t ts_ms, Done<Status> done) = 0;
  virtual void who(const std::string& topic,
                   Done<std::pair<Status, std::vector<std::string>>> done) = 0;
  // With `rights`, topics the account may not subscribe to are left out (shared: a remote
  // engine reads them when its answer comes, maybe after the session has gone).
  virtual void topics(const std::optional<std::string>& pattern, int limit,
                      const std::optional<std::string>& after,
                      std::shared_ptr<const auth::Permissions> rights,
                      Done<std::pair<Status, TopicsView>> done) = 0;
  virtual void history(const std::string& topic, int limit, std::optional<std::uint64_t> before,
                       std::optional<std::uint64_t> after,
                       Done<std::pair<Status, MessagesView>> done) = 0;
  // The node's own numbers; a cluster adds node and nodes.
  virtual protocol::StatsReport stats_report(std::uint64_t uptime_s) const = 0;
};

// Every decision in this process, through the hub: today's single server.
class LocalEngine final : public Engine {
 public:
  explicit LocalEngine(Hub& hub) : hub_(hub) {}

  const std::string& node_id() const override { return hub_.node_id(); }
  Hub& hub() override { return hub_; }
  void greet(SessionId id, const std::optional<std::string>& name, bool echo, bool take_over,
             Done<Status> done) override {
    done(hub_.greet(id, name, echo, take_over));
  }
  void subscribe(SessionId id, const std::string& pattern, const std::optional<std::string>& group,
                 Done<Status> done) override {
    done(hub_.subscribe(id, pattern, group));
  }
  Status unsubscribe(SessionId id, const std::string& pattern) override {
    return hub_.unsubscribe(id, pattern);
  }
  Status publish(SessionId id, std::string_view topic, std::string_view data_json,
                 std::optional<std::string_view> reply, std::int64_t ts_ms) override {
    hub_.publish(id, topic, data_json, reply, ts_ms);
    return std::nullopt;
  }
  void join(SessionId id, const std::string& topic, int history, std::optional<std::uint64_t> since,
            const std::optional<std::string>& epoch,
            Done<std::pair<Status, JoinView>> done) override {
    std::pair<Status, JoinView> result;
    result.first = hub_.join(id, topic, history, since, epoch, result.second);
    done(result);
  }
  Status leave(SessionId id, const std::string& topic) override { return hub_.leave(id, topic); }
  void tell(SessionId id, std::string_view to, std::string_view data_json, std::int64_t ts_ms,
            Done<Status> done) override {
    done(hub_.tell(id, to, data_json, ts_ms));
  }
  void who(const std::string& topic,
           Done<std::pair<Status, std::vector<std::string>>> done) override {
    done({std::nullopt, hub_.who(topic)});
  }
  void topics(const std::optional<std::string>& pattern, int limit,
              const std::optional<std::string>& after,
              std::shared_ptr<const auth::Permissions> rights,
              Done<std::pair<Status, TopicsView>> done) override {
    done({std::nullopt, hub_.topics(pattern, limit, after, rights.get())});
  }
  void history(const std::string& topic, int limit, std::optional<std::uint64_t> before,
               std::optional<std::uint64_t> after,
               Done<std::pair<Status, MessagesView>> done) override {
    done({std::nullopt, hub_.history(topic, limit, before, after)});
  }
  protocol::StatsReport stats_report(std::uint64_t uptime_s) const override {
    return hub_.stats_report(uptime_s);
  }

 private:
  Hub& hub_;
};

}  // namespace parley::server
