#pragma once
// One client connection: a coroutine pair on the event loop that owns the socket. The
// reader splits frames in place and hands them to the dispatcher; the writer sleeps on a
// timer used as a signal and sends everything queued in one gathered write.
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "dispatcher.hpp"
#include "hub.hpp"
#include "parley/protocol/framing.hpp"
#include "peer.hpp"

namespace parley::server {

class SessionRegistry;

struct SessionSettings {
  std::size_t max_frame;
  std::size_t outbound_limit;  // bytes queued but unsent before the session is cut off
  std::chrono::milliseconds ping_interval;
  std::chrono::milliseconds ping_timeout;
  std::chrono::milliseconds close_grace;  // how long a closing session may take to flush
};

class Session final : public Peer, public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  Session(asio::ip::tcp::socket socket, Hub& hub, Dispatcher& dispatcher, SessionRegistry& registry,
          const SessionSettings& settings);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the session's reader and writer until the connection ends.
  static void start(const std::shared_ptr<Session>& session);

  bool deliver(const SharedFrame& frame) override;

  // Heartbeat and close deadlines; the server calls it periodically.
  void tick(Clock::time_point now);
  // Server shutdown: bye "shutdown", no presence, flush until `deadline`.
  void shut_down(Clock::time_point deadline);
  // Closes the socket now, unsent output dropped.
  void force_close();

  SessionId id() const noexcept { return state_.id; }
  const std::string& peer_address() const noexcept { return peer_address_; }

 private:
  enum class Phase { open, closing, closed };

  static void spawn(const std::shared_ptr<Session>& session, asio::awaitable<void> loop);
  void finish();
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  // Sends batch_ completely; false when the connection failed.
  asio::awaitable<bool> send_batch();
  // Returns false to stop splitting the current read.
  bool on_frame(std::string_view frame, Clock::time_point now, std::int64_t wall_ms);
  // Queues a last frame past the outbound limit (error, bye): best effort.
  void deliver_final(std::string frame);
  // Stops reading, leaves the hub (announcing unless shutting down), flushes, then closes.
  void begin_close(bool announce, Clock::time_point deadline);
  void leave_hub();
  void wake_writer();

  asio::ip::tcp::socket socket_;
  Hub& hub_;
  Dispatcher& dispatcher_;
  SessionRegistry& registry_;
  const SessionSettings& settings_;
  std::string peer_address_;
  SessionState state_;
  protocol::LineSplitter splitter_;

  Phase phase_ = Phase::open;
  int running_ = 0;  // coroutines still running: the reader and the writer
  bool in_hub_ = true;
  bool announce_leave_ = true;  // false on shutdown: no presence then
  Clock::time_point close_deadline_{};
  Clock::time_point last_activity_;
  Clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;

  // Outbound: frames waiting, and the batch the writer is sending.
  std::vector<SharedFrame> queue_;
  std::vector<SharedFrame> batch_;
  std::size_t unsent_bytes_ = 0;  // queue_ plus batch_
  asio::steady_timer wake_;
  bool writer_waiting_ = false;
};

// The live sessions, for heartbeats and shutdown. Threading: event-loop thread only.
class SessionRegistry {
 public:
  void add(Session& session) { sessions_.insert(&session); }
  void remove(Session& session);
  std::size_t size() const noexcept { return sessions_.size(); }
  // Visits a snapshot, so a visit may end sessions.
  template <class Visit>
  void for_each(Visit&& visit) {
    const std::vector<Session*> snapshot(sessions_.begin(), sessions_.end());
    for (Session* s : snapshot) {
      if (sessions_.contains(s)) visit(*s);
    }
  }
  // Called once each time the registry becomes empty.
  void on_empty(std::function<void()> callback) { on_empty_ = std::move(callback); }

 private:
  std::unordered_set<Session*> sessions_;
  std::function<void()> on_empty_;
};

}  // namespace parley::server
