#include "session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <stdexcept>

#include "parley/protocol/frames.hpp"
#include "spawn.hpp"

namespace parley::server {
namespace {

using asio::use_awaitable;
using protocol::ErrorCode;
using protocol::FrameAction;
using protocol::SplitStatus;

// All sessions read through this one buffer: the loop has one thread and a read is split
// into frames before the next await (a paused split copies what it kept), so a quiet
// connection holds no read buffer at all.
constexpr std::size_t kReadBufferBytes = std::size_t{64} << 10;
std::array<char, kReadBufferBytes>& shared_read_buffer() {
  static std::array<char, kReadBufferBytes> buffer;
  return buffer;
}

// Fairness: one wake-up reads at most this many buffers, and one slice of a session's
// requests ends, and the reader yields to every other ready handler of the loop, after
// kFramesPerSlice frames, kSliceReplyBytes of output queued for itself, or
// kSliceDeliveries messages fanned out to others: whichever comes first. The frame budget
// is above a full read of small publishes, so that the cheap common case keeps its one
// flush per read; the other two bound what an expensive request can take.
constexpr int kReadsPerWakeup = 4;
constexpr std::size_t kFramesPerSlice = 1024;
constexpr std::size_t kSliceReplyBytes = std::size_t{1} << 20;
constexpr std::uint64_t kSliceDeliveries = 65536;

// The longest a closing session may take to flush while the client keeps reading.
constexpr auto kMaxFlushTime = std::chrono::seconds(10);

// A burst can leave a large vector behind; a quiet connection should cost little.
constexpr std::size_t kKeepBatchCapacity = 256;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What closing for one reason means.
struct CloseRule {
  bool announce = true;            // the other members of its rooms see presence leave
  bool flush = true;               // queued output still goes out; otherwise released at once
  bool drop_backlog = false;       // only a frame already partly written survives
  std::optional<ErrorCode> error;  // an error frame the session sends itself
  std::string_view bye;            // the reason of a bye the session sends itself
};

CloseRule rule_for(CloseReason reason) {
  using std::nullopt;
  switch (reason) {
    case CloseReason::requested:  // the dispatcher queued the last frames (bye, error + bye)
    case CloseReason::peer_closed:
    case CloseReason::protocol_error:  // the transport's close (a WebSocket status) says why
      return {.announce = true, .flush = true, .drop_backlog = false, .error = nullopt, .bye = ""};
    case CloseReason::frame_too_large:
      return {.announce = true,
              .flush = true,
              .drop_backlog = false,
              .error = ErrorCode::frame_too_large,
              .bye = "frame_too_large"};
    case CloseReason::slow_consumer:
      // What is queued is lost anyway: drop it so that the error and bye go out now.
      return {.announce = true,
              .flush = true,
              .drop_backlog = true,
              .error = ErrorCode::slow_consumer,
              .bye = "slow_consumer"};
    case CloseReason::timeout:
      return {.announce = true,
              .flush = true,
              .drop_backlog = false,
              .error = nullopt,
              .bye = "timeout"};
    case CloseReason::auth_timeout:
      return {.announce = true,
              .flush = true,
              .drop_backlog = false,
              .error = nullopt,
              .bye = "auth_timeout"};
    case CloseReason::replaced:
      return {.announce = true,
              .flush = true,
              .drop_backlog = false,
              .error = nullopt,
              .bye = "replaced"};
    case CloseReason::auth_revoked:
      return {.announce = true,
              .flush = true,
              .drop_backlog = false,
              .error = nullopt,
              .bye = "auth_revoked"};
    case CloseReason::shutdown:
      return {.announce = false,
              .flush = true,
              .drop_backlog = false,
              .error = nullopt,
              .bye = "shutdown"};
    case CloseReason::broken:
    case CloseReason::internal_error:
    case CloseReason::deadline:
      break;
  }
  return {.announce = true, .flush = false, .drop_backlog = false, .error = nullopt, .bye = ""};
}

std::string error_message(ErrorCode code, const SessionSettings& settings) {
  if (code == ErrorCode::frame_too_large) {
    return "a frame may hold at most " + std::to_string(settings.max_frame) + " bytes";
  }
  return "output not read fast enough; the connection is closed";
}

}  // namespace

std::string_view to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::requested:
      return "requested";
    case CloseReason::peer_closed:
      return "client closed";
    case CloseReason::broken:
      return "connection broken";
    case CloseReason::frame_too_large:
      return "frame too large";
    case CloseReason::protocol_error:
      return "transport protocol error";
    case CloseReason::slow_consumer:
      return "slow consumer";
    case CloseReason::timeout:
      return "timeout";
    case CloseReason::auth_timeout:
      return "auth timeout";
    case CloseReason::shutdown:
      return "shutdown";
    case CloseReason::internal_error:
      return "internal error";
    case CloseReason::deadline:
      return "close deadline passed";
    case CloseReason::replaced:
      return "replaced by a new login";
    case CloseReason::auth_revoked:
      return "account revoked";
  }
  return "?";
}

void SessionRegistry::add(Session& session) {
  if (sessions_.insert(&session).second) ++per_ip_[std::string(session.peer_ip())];
}

void SessionRegistry::remove(Session& session) {
  std::erase(to_flush_, &session);
  if (sessions_.erase(&session) == 0) return;
  const auto it = per_ip_.find(session.peer_ip());
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  if (sessions_.empty() && on_empty_) on_empty_();
}

std::size_t SessionRegistry::count_from(std::string_view ip) const {
  const auto it = per_ip_.find(ip);
  return it == per_ip_.end() ? 0 : it->second;
}

void SessionRegistry::flush() {
  // No session is destroyed while this runs: a release defers the last reference to a
  // posted step, and a write queues nothing new.
  flushing_.swap(to_flush_);
  for (Session* session : flushing_) session->flush_output();
  flushing_.clear();
}

Session::Session(TransportPtr transport, Hub& hub, Dispatcher& dispatcher,
                 SessionRegistry& registry, const SessionSettings& settings)
    : transport_(std::move(transport)),
      hub_(hub),
      dispatcher_(dispatcher),
      registry_(registry),
      settings_(settings),
      peer_address_(transport_->remote_address()),
      state_(hub.connect(*this), dispatcher.options(), Clock::now()),
      splitter_(settings.max_frame),
      opened_(Clock::now()),
      last_activity_(opened_),
      verify_wake_(transport_->get_executor()) {
  state_.peer_address = std::string(peer_ip());
  registry_.add(*this);
}

Session::~Session() {
  registry_.remove(*this);
  // Only a session that never started gets here still in the hub; destruction is never
  // inside a fan-out (release() defers it), so the hub may be called directly.
  if (in_hub_) hub_.disconnect(state_.id, true);
}

std::string_view Session::peer_ip() const noexcept {
  const std::string_view address = peer_address_;
  const auto colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

void Session::start(const std::shared_ptr<Session>& session) {
  spdlog::debug("session {} open from {} as {}", session->id(), session->peer_address_,
                session->hub_.name_of(session->id()));
  session->keep_alive_ = session;
  spawn_logged(session->transport_->get_executor(), session->read_loop(),
               "session " + std::to_string(session->id()) + " reader", [session](bool failed) {
                 if (failed) session->close(CloseReason::internal_error);
               });
}

// ---- input --------------------------------------------------------------------------

asio::awaitable<void> Session::read_loop() {
  auto& buffer = shared_read_buffer();
  while (phase_ != Phase::closed && !input_ended_) {
    if (verifying_) {
      // A hello's password is being checked: later requests wait for its answer.
      verify_wake_.expires_at(Clock::time_point::max());
      co_await verify_wake_.async_wait(asio::experimental::as_tuple(use_awaitable));
      continue;
    }
    if (phase_ == Phase::open && splitter_.paused()) {
      // The last slice was cut short: let every other ready handler run first.
      co_await asio::post(transport_->get_executor(), use_awaitable);
      if (phase_ != Phase::open) continue;
      begin_slice();
      split_done(splitter_.resume([this](std::string_view f) { return on_frame(f); }));
      continue;
    }
    if (phase_ == Phase::open && unsent_bytes_ > settings_.outbound_limit) {
      // Back-pressure: the client asked for more than it has read so far. Its requests
      // wait in the kernel until its output drains, which the writer is busy with.
      if (const auto ec = co_await transport_->wait_writable(); ec) {
        close(CloseReason::broken);
        break;
      }
      if (!writer_running_) flush_output();
      continue;
    }
    if (const auto ec = co_await transport_->wait_readable(); ec) {
      if (phase_ != Phase::closed) {
        spdlog::debug("session {} wait for input failed: {}", id(), ec.message());
        close(CloseReason::broken);
      }
      break;
    }
    begin_slice();
    for (int turn = 0; turn < kReadsPerWakeup && phase_ != Phase::closed; ++turn) {
      std::error_code ec;
      const std::size_t n = transport_->read_some(buffer, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec == asio::error::eof) {
        on_input_end();
        break;
      }
      // A framing transport's verdicts on its input (see transport.hpp).
      if (ec == std::errc::message_size) {
        close(CloseReason::frame_too_large);
        break;
      }
      if (ec == std::errc::protocol_error) {
        close(CloseReason::protocol_error);
        break;
      }
      if (ec) {
        spdlog::debug("session {} read failed: {}", id(), ec.message());
        close(CloseReason::broken);
        break;
      }
      hub_.counters().bytes_in += n;
      if (phase_ != Phase::open) {
        discard_input(n);
        continue;
      }
      slice_.now = Clock::now();  // each read's frames are stamped with its receive time
      slice_.wall_ms = wall_clock_ms();
      if (!take_input(std::string_view(buffer.data(), n)) || n < buffer.size()) break;
    }
  }
}

bool Session::take_input(std::string_view bytes) {
  return split_done(splitter_.feed(bytes, [this](std::string_view f) { return on_frame(f); }));
}

bool Session::split_done(protocol::SplitStatus status) {
  if (status == SplitStatus::too_large) close(CloseReason::frame_too_large);
  return status == SplitStatus::ok;
}

void Session::begin_slice() {
  slice_ = {.now = Clock::now(),
            .wall_ms = wall_clock_ms(),
            .frames = 0,
            .start_unsent = unsent_bytes_,
            .start_deliveries = hub_.counters().msgs_out};
}

FrameAction Session::on_frame(std::string_view frame) {
  ++registry_.frames_in;
  last_activity_ = slice_.now;
  ping_outstanding_ = false;
  switch (dispatcher_.handle(state_, *this, frame, slice_.now, slice_.wall_ms)) {
    case Disposition::keep_open:
      break;
    case Disposition::close:
      close(CloseReason::requested);
      break;
    case Disposition::verify:
      start_verify();
      break;
  }
  if (phase_ != Phase::open) return FrameAction::stop;
  if (verifying_) return FrameAction::pause;
  const std::size_t replied =
      unsent_bytes_ > slice_.start_unsent ? unsent_bytes_ - slice_.start_unsent : 0;
  if (++slice_.frames >= kFramesPerSlice || replied >= kSliceReplyBytes ||
      hub_.counters().msgs_out - slice_.start_deliveries >= kSliceDeliveries) {
    return FrameAction::pause;
  }
  return FrameAction::next;
}

void Session::on_input_end() {
  input_ended_ = true;
  switch (phase_) {
    case Phase::open:
      spdlog::debug("session {} input ended", id());
      // The client closed its side: what it sent before is still answered.
      if (auto last = splitter_.take_unterminated(); !last.empty()) {
        begin_slice();
        on_frame(last);
        // That last frame was an account hello: answer it before closing.
        if (verifying_) {
          end_after_verify_ = true;
          return;
        }
      }
      close(CloseReason::peer_closed);
      return;
    case Phase::flushing:
      return;  // once the output is out, the session closes without lingering
    case Phase::lingering:
      release();
      return;
    case Phase::closed:
      return;
  }
}

void Session::start_verify() {
  if (settings_.auth_workers == nullptr)
    throw std::logic_error("session: accounts without workers");
  verifying_ = true;
  settings_.auth_workers->run(
      transport_->get_executor(), [check = state_.pending->check] { return check.run(); },
      // The session may be gone, or closed, by the time the answer comes back.
      [weak = weak_from_this()](std::shared_ptr<const auth::Account> account) {
        if (const auto self = weak.lock()) self->verified(std::move(account));
      });
}

void Session::verified(std::shared_ptr<const auth::Account> account) {
  if (!verifying_) return;
  verifying_ = false;
  verify_wake_.cancel();
  if (phase_ != Phase::open) return;
  begin_slice();
  if (dispatcher_.complete_hello(state_, *this, std::move(account), slice_.now) ==
      Disposition::close) {
    close(CloseReason::requested);
  } else if (end_after_verify_) {
    close(CloseReason::peer_closed);
  }
}

void Session::users_reloaded() {
  if (phase_ != Phase::open) return;
  if (dispatcher_.reapply(state_, *this) == Reapplied::revoked) {
    spdlog::info("session {} ({}, {}) revoked by the users file reload", id(), peer_address_,
                 hub_.name_of(id()));
    close(CloseReason::auth_revoked);
  }
}

void Session::evict(std::string_view bye_reason) {
  spdlog::info("session {} ({}, {}) ended: {}", id(), peer_address_, hub_.name_of(id()),
               bye_reason);
  close(bye_reason == "replaced" ? CloseReason::replaced : CloseReason::auth_revoked);
}

void Session::discard_input(std::size_t bytes) {
  discarded_ += bytes;
  if (discarded_ > settings_.linger_bytes) {
    spdlog::debug("session {} sent {} bytes after its close; closing now", id(), discarded_);
    close(CloseReason::deadline);
  }
}

// ---- output -------------------------------------------------------------------------

bool Session::deliver(const SharedFrame& frame) {
  if (phase_ != Phase::open) return false;
  // Replies are counted at whole frames and the total as it goes out, so clamp at zero.
  const std::size_t event_bytes =
      unsent_bytes_ > unsent_reply_bytes_ ? unsent_bytes_ - unsent_reply_bytes_ : 0;
  if (event_bytes + frame->size() > settings_.outbound_limit) {
    // Cut off: this peer would otherwise hold the server's memory hostage.
    ++hub_.counters().slow_consumers;
    spdlog::info("session {} ({}, {}) cut off as a slow consumer: {} bytes unsent", id(),
                 peer_address_, hub_.name_of(id()), unsent_bytes_);
    close(CloseReason::slow_consumer);
    return false;
  }
  // The hot path of every fan-out, kept free of the reply bookkeeping.
  unsent_bytes_ += frame->size();
  queue_.push_back(frame);
  request_flush();
  return true;
}

void Session::reply(const SharedFrame& frame) {
  if (phase_ != Phase::open) return;
  queue_reply(frame);
}

void Session::queue_reply(const SharedFrame& frame) {
  unsent_bytes_ += frame->size();
  unsent_reply_bytes_ += frame->size();
  queue_replies_.push_back(queue_.size());
  queue_.push_back(frame);
  request_flush();
}

void Session::request_flush() {
  if (flush_requested_) return;
  flush_requested_ = true;
  // One posted flush writes the output of every session: with one thread, Asio runs it
  // after the handlers of every socket found ready in the same poll, so under load the
  // messages from many publishers to one recipient leave in one system call, as Redis does
  // in its before-sleep step.
  if (registry_.request_flush(*this)) {
    asio::post(transport_->get_executor(),
               [self = shared_from_this()] { self->registry_.flush(); });
  }
}

void Session::flush_output() {
  flush_requested_ = false;
  // A running writer sends the queue itself once the connection takes more.
  if (writer_running_ || phase_ == Phase::closed) return;
  switch (pump()) {
    case WriteStatus::done:
      output_drained();
      return;
    case WriteStatus::would_block:
      start_writer();
      return;
    case WriteStatus::failed:
      close(CloseReason::broken);
      return;
  }
}

WriteStatus Session::pump() {
  while (true) {
    if (cursor_.frame == batch_.size()) {
      batch_.clear();
      if (batch_.capacity() > kKeepBatchCapacity) batch_.shrink_to_fit();
      cursor_ = {};
      batch_replies_.clear();
      next_batch_reply_ = 0;
      if (queue_.empty()) return WriteStatus::done;
      batch_.swap(queue_);
      batch_replies_.swap(queue_replies_);
    }
    WriteProgress progress;
    const std::size_t first = cursor_.frame;
    const WriteStatus status = transport_->write(batch_, cursor_, progress);
    registry_.frames_out += cursor_.frame - first;
    hub_.counters().bytes_out += progress.wire_bytes;
    unsent_bytes_ -= std::min(unsent_bytes_, progress.frame_bytes);
    if (next_batch_reply_ < batch_replies_.size()) replies_sent();
    if (phase_ == Phase::flushing && progress.wire_bytes > 0) extend_flush();
    if (status != WriteStatus::done) return status;
  }
}

void Session::replies_sent() {
  while (next_batch_reply_ < batch_replies_.size() &&
         batch_replies_[next_batch_reply_] < cursor_.frame) {
    unsent_reply_bytes_ -= batch_[batch_replies_[next_batch_reply_]]->size();
    ++next_batch_reply_;
  }
}

void Session::start_writer() {
  if (writer_running_ || phase_ == Phase::closed) return;
  writer_running_ = true;
  spawn_logged(transport_->get_executor(), write_loop(),
               "session " + std::to_string(id()) + " writer",
               [self = shared_from_this()](bool failed) {
                 self->writer_running_ = false;
                 if (failed) self->close(CloseReason::internal_error);
               });
}

asio::awaitable<void> Session::write_loop() {
  while (phase_ != Phase::closed) {
    const WriteStatus status = pump();
    if (status == WriteStatus::done) {
      writer_running_ = false;
      output_drained();
      co_return;
    }
    if (status == WriteStatus::failed) break;
    if (const auto ec = co_await transport_->wait_writable(); ec) break;
  }
  writer_running_ = false;
  close(CloseReason::broken);  // a no-op once closed
}

void Session::output_drained() {
  if (phase_ == Phase::flushing) finish_flush();
}

void Session::drop_backlog() {
  // Keep only a frame already partly written: cutting it would leave half a line.
  std::vector<SharedFrame> kept;
  bool kept_is_reply = false;
  if (cursor_.frame < batch_.size() && cursor_.offset > 0) {
    kept.push_back(batch_[cursor_.frame]);
    kept_is_reply = next_batch_reply_ < batch_replies_.size() &&
                    batch_replies_[next_batch_reply_] == cursor_.frame;
  }
  batch_ = std::move(kept);
  cursor_.frame = 0;
  batch_replies_.clear();
  if (kept_is_reply) batch_replies_.push_back(0);
  next_batch_reply_ = 0;
  queue_.clear();
  queue_replies_.clear();
  unsent_bytes_ = batch_.empty() ? 0 : batch_.front()->size() - cursor_.offset;
  unsent_reply_bytes_ = kept_is_reply ? batch_.front()->size() : 0;
}

// ---- closing ------------------------------------------------------------------------

void Session::close(CloseReason reason) {
  const CloseRule rule = rule_for(reason);
  if (phase_ != Phase::open) {
    // Already closing: only a reason that cannot wait changes anything, and it ends it now.
    if (!rule.flush) release();
    return;
  }
  close_reason_ = reason;
  spdlog::debug("session {} ({}) closing: {}", id(), peer_address_, to_string(reason));
  if (rule.drop_backlog) drop_backlog();
  // The last words go out past the outbound limit: they are what the client needs most.
  if (rule.error) {
    dispatcher_.counters().count_error(*rule.error);
    queue_reply(make_frame(
        protocol::build_error(std::nullopt, *rule.error, error_message(*rule.error, settings_))));
  }
  if (!rule.bye.empty()) queue_reply(make_frame(protocol::build_bye(std::nullopt, rule.bye)));
  leave_hub(rule.announce);
  if (!rule.flush) {
    release();
    return;
  }
  phase_ = Phase::flushing;
  close_started_ = Clock::now();
  deadline_ = drain_deadline_.value_or(close_started_ + settings_.close_grace);
  request_flush();
}

void Session::extend_flush() {
  // A client that keeps reading keeps getting its last frames: the grace counts from the
  // last progress, up to kMaxFlushTime in all (a drain keeps its own deadline).
  if (drain_deadline_) return;
  deadline_ = std::min(Clock::now() + settings_.close_grace, close_started_ + kMaxFlushTime);
}

void Session::finish_flush() {
  // Everything the client must see is out: end our side cleanly, then keep reading (and
  // discarding) for a while, so that input still in flight does not make the kernel
  // answer with a reset that would destroy the frames we just sent.
  transport_->shutdown_send();
  if (input_ended_) {
    release();
    return;
  }
  phase_ = Phase::lingering;
  deadline_ = Clock::now() + settings_.linger_time;
  if (drain_deadline_) deadline_ = std::min(deadline_, *drain_deadline_);
}

void Session::release() {
  if (phase_ == Phase::closed) return;
  if (phase_ == Phase::open) leave_hub(rule_for(close_reason_).announce);
  phase_ = Phase::closed;
  transport_->close();    // wakes the reader and a waiting writer with operation_aborted
  verify_wake_.cancel();  // and a reader waiting for a hello's verification
  queue_.clear();
  queue_replies_.clear();
  spdlog::debug("session {} ({}) closed", id(), peer_address_);
  registry_.remove(*this);
  // The last reference may be this one: let it go from a fresh turn, never from inside a
  // member function of the session itself.
  asio::post(transport_->get_executor(), [self = std::move(keep_alive_)] {});
}

void Session::leave_hub(bool announce) {
  if (!in_hub_) return;
  in_hub_ = false;
  // close() may run inside a hub fan-out (deliver found a slow consumer), where the hub
  // must not be re-entered: leave it from a fresh turn of the loop.
  asio::post(transport_->get_executor(), [self = shared_from_this(), announce] {
    self->hub_.disconnect(self->id(), announce);
  });
}

void Session::tick(Clock::time_point now) {
  switch (phase_) {
    case Phase::open:
      if (!state_.authenticated && settings_.auth_timeout.count() > 0 &&
          now - opened_ >= settings_.auth_timeout) {
        spdlog::info("session {} ({}) did not authenticate in time", id(), peer_address_);
        close(CloseReason::auth_timeout);
        return;
      }
      if (!ping_outstanding_) {
        if (now - last_activity_ >= settings_.ping_interval) {
          ping_outstanding_ = true;
          ping_sent_ = now;
          deliver(make_frame(protocol::build_ping()));
        }
      } else if (now - ping_sent_ >= settings_.ping_timeout) {
        spdlog::info("session {} ({}, {}) timed out", id(), peer_address_, hub_.name_of(id()));
        close(CloseReason::timeout);
      }
      return;
    case Phase::flushing:
      if (now >= deadline_) {
        spdlog::debug("session {} could not flush in time", id());
        close(CloseReason::deadline);
      }
      return;
    case Phase::lingering:
      if (now >= deadline_) close(CloseReason::deadline);
      return;
    case Phase::closed:
      return;
  }
}

void Session::shut_down(Clock::time_point deadline) {
  drain_deadline_ = deadline;
  if (phase_ == Phase::open) {
    close(CloseReason::shutdown);
  } else if (phase_ != Phase::closed) {
    deadline_ = std::min(deadline_, deadline);
  }
}

}  // namespace parley::server
