#pragma once
// One client connection, owning its socket. A reader coroutine splits frames in place and
// hands them to the dispatcher. Output is written without a coroutine wake-up: what the
// hub queues for a session is sent with one non-blocking gathered write once the event
// loop has handled every socket that was ready (see SessionRegistry::flush), so a fan-out
// costs at most one system call per recipient. Only when the socket pushes back, or the
// session closes, does a writer coroutine run, awaiting writability.
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

  // Runs the session's reader until the connection ends.
  static void start(const std::shared_ptr<Session>& session);

  bool deliver(const SharedFrame& frame) override;
  void reply(const SharedFrame& frame) override;
  // Writes what is queued without waiting; the registry calls it for each session that
  // got output during the current turn of the loop.
  void flush_output();

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
  enum class SendResult { done, would_block, failed };

  static void spawn(const std::shared_ptr<Session>& session, asio::awaitable<void> loop);
  void finish();
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  // Sends as much of batch_ as the socket takes now.
  SendResult send_some();
  void batch_sent();
  void request_flush();
  // Starts the writer coroutine unless it runs already.
  void start_writer();
  // Returns false to stop splitting the current read.
  bool on_frame(std::string_view frame, Clock::time_point now, std::int64_t wall_ms);
  // Queues a last frame past the outbound limit (error, bye): best effort.
  void deliver_final(std::string frame);
  // Stops reading, leaves the hub (announcing unless shutting down), flushes, then closes.
  void begin_close(bool announce, Clock::time_point deadline);
  void leave_hub();

  asio::ip::tcp::socket socket_;
  Hub& hub_;
  Dispatcher& dispatcher_;
  SessionRegistry& registry_;
  const SessionSettings& settings_;
  std::string peer_address_;
  SessionState state_;
  protocol::LineSplitter splitter_;

  Phase phase_ = Phase::open;
  int running_ = 0;  // coroutines still running: the reader, and the writer while it runs
  bool in_hub_ = true;
  bool announce_leave_ = true;  // false on shutdown: no presence then
  Clock::time_point close_deadline_{};
  Clock::time_point last_activity_;
  Clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;

  // Outbound: frames waiting, and the batch being sent, of which the frames before
  // batch_first_ and the first batch_first_sent_ bytes of that one are out.
  std::vector<SharedFrame> queue_;
  std::vector<SharedFrame> batch_;
  std::size_t batch_first_ = 0;
  std::size_t batch_first_sent_ = 0;
  std::size_t unsent_bytes_ = 0;  // queue_ plus the rest of batch_
  bool flush_requested_ = false;
  bool writer_running_ = false;
};

// The live sessions, for heartbeats and shutdown, and those with output to write in this
// turn of the loop. Threading: event-loop thread only.
class SessionRegistry {
 public:
  void add(Session& session) { sessions_.insert(&session); }
  void remove(Session& session);
  std::size_t size() const noexcept { return sessions_.size(); }
  // Notes a session with new output; true when it is the first since the last flush, and
  // the caller must then make sure flush() runs.
  bool request_flush(Session& session) {
    to_flush_.push_back(&session);
    return to_flush_.size() == 1;
  }
  // Writes the output of every session noted since the last flush.
  void flush();
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
  std::vector<Session*> to_flush_;
  std::vector<Session*> flushing_;  // kept to reuse its capacity
};

}  // namespace parley::server
