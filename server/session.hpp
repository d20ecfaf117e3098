#pragma once
// One client connection over a Transport. A reader coroutine splits frames in place and
// hands them to the dispatcher. Output is written without a coroutine wake-up: what the
// hub queues for a session is sent with one non-blocking gathered write once the event
// loop has handled every socket that was ready (see SessionRegistry::flush), so a fan-out
// costs at most one system call per recipient. Only when the connection pushes back, or
// the session closes, does a writer coroutine run, awaiting writability.
//
// Closing has one owner: close(reason). It alone ends the open phase; what follows (what
// is still flushed, for how long, whether input is discarded before the socket goes) is
// decided by the reason's CloseRule and carried out by the steps below it. The phases and
// their transitions are drawn in docs/architecture.md.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth_workers.hpp"
#include "dispatcher.hpp"
#include "hub.hpp"
#include "parley/protocol/framing.hpp"
#include "peer.hpp"
#include "transport.hpp"

namespace parley::server {

class SessionRegistry;

struct SessionSettings {
  std::size_t max_frame = 65536;
  std::size_t outbound_limit = std::size_t{8} << 20;  // unsent event bytes before a cut-off
  std::chrono::milliseconds ping_interval{30000};
  std::chrono::milliseconds ping_timeout{30000};
  // With auth configured, the time to complete hello; zero = no limit.
  std::chrono::milliseconds auth_timeout{0};
  std::chrono::milliseconds close_grace{2000};       // to flush the last frames on a close
  std::chrono::milliseconds linger_time{2000};       // to discard input after the flush
  std::size_t linger_bytes = std::size_t{64} << 20;  // input discarded at most while lingering
  // Where account hellos are verified; required when the dispatcher has accounts.
  AuthWorkers* auth_workers = nullptr;
};

// Why a session ends. Each reason has one CloseRule (session.cpp) saying what is sent.
enum class CloseReason {
  requested,        // the dispatcher ended it (quit, auth_failed): its last frames are queued
  peer_closed,      // the client closed its side: what it sent before is still answered
  broken,           // reading or writing failed: nothing more can be sent
  frame_too_large,  // a line passed max_frame
  protocol_error,   // the transport's framing was broken (a bad WebSocket frame)
  slow_consumer,    // events piled up past the outbound limit
  timeout,          // no answer to the heartbeat
  auth_timeout,     // auth is on and no hello succeeded in time
  shutdown,         // the server drains
  internal_error,   // an exception escaped a coroutine
  deadline,         // the flush or the linger outlived its time
  replaced,         // a new login of the same account took the session over
  auth_revoked,     // a users-file reload removed the account or changed its password
};
std::string_view to_string(CloseReason reason) noexcept;

class Session final : public Peer, public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Phase {
    open,       // requests are read and answered, output flows
    flushing,   // requests are no longer read (input is discarded); queued output goes out
    lingering,  // output is out and the write side shut down; input discarded until EOF
    closed,     // the connection is released; coroutines finish
  };

  Session(TransportPtr transport, Hub& hub, Dispatcher& dispatcher, SessionRegistry& registry,
          const SessionSettings& settings);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts the reader; the session keeps itself alive until it is closed.
  static void start(const std::shared_ptr<Session>& session);

  // An event (msg, presence, ping): counts toward the outbound limit.
  bool deliver(const SharedFrame& frame) override;
  // A reply to this session's own request: never cuts the session off. Reading pauses
  // instead while output is backed up, so replies stay bounded too.
  void reply(const SharedFrame& frame) override;
  // The hub ended the session ("replaced", "auth_revoked"): bye with that reason, close.
  void evict(std::string_view bye_reason) override;
  // The users file was reloaded: revoke the session or apply its account's new rights.
  void users_reloaded();
  // Writes what is queued without waiting; the registry calls it for each session that
  // got output during the current turn of the loop.
  void flush_output();

  // Heartbeat and close deadlines; the server calls it periodically.
  void tick(Clock::time_point now);
  // Server shutdown: bye "shutdown", no presence, everything over by `deadline`.
  void shut_down(Clock::time_point deadline);
  // The one way a session ends; later calls only make an ongoing close more urgent.
  void close(CloseReason reason);

  SessionId id() const noexcept { return state_.id; }
  Phase phase() const noexcept { return phase_; }
  const std::string& peer_address() const noexcept { return peer_address_; }
  // The address without its port: the key of the per-address connection limit.
  std::string_view peer_ip() const noexcept;

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  // Hands a read's bytes to the splitter; false when reading must stop for this turn.
  bool take_input(std::string_view bytes);
  // Acts on a split's status; true when the reader may go on reading in this turn.
  bool split_done(protocol::SplitStatus status);
  void begin_slice();
  protocol::FrameAction on_frame(std::string_view frame);
  void on_input_end();
  // Hands the pending account hello to a worker; reading pauses until verified() runs.
  void start_verify();
  void verified(std::shared_ptr<const auth::Account> account);
  // Discards input after a close, within the linger bounds.
  void discard_input(std::size_t bytes);

  // Queues a frame that the outbound limit does not count: a reply or a last word.
  void queue_reply(const SharedFrame& frame);
  // Sends what is queued as far as the transport takes it now.
  WriteStatus pump();
  // Settles the bookkeeping of replies the cursor has passed.
  void replies_sent();
  void request_flush();
  void start_writer();
  // Everything queued went out: a closing session moves on.
  void output_drained();
  void drop_backlog();

  // The steps of a close, only ever reached through close().
  void extend_flush();
  void finish_flush();
  void release();
  void leave_hub(bool announce);

  TransportPtr transport_;
  Hub& hub_;
  Dispatcher& dispatcher_;
  SessionRegistry& registry_;
  const SessionSettings& settings_;
  std::string peer_address_;
  SessionState state_;
  protocol::LineSplitter splitter_;
  std::shared_ptr<Session> keep_alive_;  // set while the session is registered

  Phase phase_ = Phase::open;
  CloseReason close_reason_ = CloseReason::requested;
  bool in_hub_ = true;
  bool input_ended_ = false;  // the client closed its side (or the read side failed)
  Clock::time_point close_started_{};
  Clock::time_point deadline_{};                     // of the flush, then of the linger
  std::optional<Clock::time_point> drain_deadline_;  // set on server shutdown
  std::size_t discarded_ = 0;
  Clock::time_point opened_;
  Clock::time_point last_activity_;
  Clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;

  // An account hello is being verified off the loop: no later frame of this session is
  // handled (they wait in the splitter or the kernel) until its answer is queued. The
  // reader sleeps on verify_wake_, which verified() and release() cancel.
  bool verifying_ = false;
  bool end_after_verify_ = false;  // the client closed its side behind the hello
  asio::steady_timer verify_wake_;

  // Fairness: what the current slice of requests has cost since the reader last yielded.
  // Its frames share one receive time, as the frames of one read always have.
  struct Slice {
    Clock::time_point now{};
    std::int64_t wall_ms = 0;
    std::size_t frames = 0;
    std::size_t start_unsent = 0;
    std::uint64_t start_deliveries = 0;
  };
  Slice slice_;

  // Outbound: frames waiting (queue_), and the batch being sent, of which cursor_ says how
  // much is out. Replies are remembered by index so that they can be left out of the
  // slow-consumer limit without a flag on every frame.
  std::vector<SharedFrame> queue_;
  std::vector<SharedFrame> batch_;
  WriteCursor cursor_;
  std::vector<std::size_t> queue_replies_;
  std::vector<std::size_t> batch_replies_;
  std::size_t next_batch_reply_ = 0;
  std::size_t unsent_bytes_ = 0;  // queue_ plus the unsent part of batch_
  std::size_t unsent_reply_bytes_ = 0;
  bool flush_requested_ = false;
  bool writer_running_ = false;
};

// The live sessions, for heartbeats and shutdown, and those with output to write in this
// turn of the loop. Threading: event-loop thread only.
class SessionRegistry {
 public:
  void add(Session& session);
  void remove(Session& session);
  std::size_t size() const noexcept { return sessions_.size(); }
  // Open sessions from one address (without port).
  std::size_t count_from(std::string_view ip) const;
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
  // Frames read and written by every session, for /metrics: plain counters on the loop.
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;

  // Called once each time the registry becomes empty.
  void on_empty(std::function<void()> callback) { on_empty_ = std::move(callback); }

 private:
  std::unordered_set<Session*> sessions_;
  std::unordered_map<std::string, std::size_t, TransparentStringHash, std::equal_to<>> per_ip_;
  std::function<void()> on_empty_;
  std::vector<Session*> to_flush_;
  std::vector<Session*> flushing_;  // kept to reuse its capacity
};

}  // namespace parley::server
