#include "session.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <cerrno>
#include <cstring>

#include "parley/protocol/frames.hpp"

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// All sessions read through this one buffer: the loop has one thread and a read is split
// into frames before the next await, so a quiet connection holds no read buffer at all.
constexpr std::size_t kReadBufferBytes = std::size_t{64} << 10;
std::array<char, kReadBufferBytes>& shared_read_buffer() {
  static std::array<char, kReadBufferBytes> buffer;
  return buffer;
}

// Caps one session's turn so that a flooding client cannot starve the others.
constexpr int kReadsPerWakeup = 4;

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe(const asio::ip::tcp::socket& socket) {
  std::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

void SessionRegistry::remove(Session& session) {
  std::erase(to_flush_, &session);
  if (sessions_.erase(&session) != 0 && sessions_.empty() && on_empty_) on_empty_();
}

void SessionRegistry::flush() {
  // A session flushed here cannot end or request another flush before the loop turns:
  // a write queues nothing and a failed one closes the session through a posted step.
  flushing_.swap(to_flush_);
  for (Session* session : flushing_) session->flush_output();
  flushing_.clear();
}

Session::Session(asio::ip::tcp::socket socket, Hub& hub, Dispatcher& dispatcher,
                 SessionRegistry& registry, const SessionSettings& settings)
    : socket_(std::move(socket)),
      hub_(hub),
      dispatcher_(dispatcher),
      registry_(registry),
      settings_(settings),
      peer_address_(describe(socket_)),
      state_(hub.connect(*this), dispatcher.options(), Clock::now()),
      splitter_(settings.max_frame),
      last_activity_(Clock::now()) {
  registry_.add(*this);
}

Session::~Session() {
  registry_.remove(*this);
  leave_hub();
}

void Session::start(const std::shared_ptr<Session>& session) {
  spdlog::debug("session {} open from {} as {}", session->id(), session->peer_address_,
                session->hub_.name_of(session->id()));
  std::error_code ec;
  session->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  session->socket_.non_blocking(true, ec);
  // The reader runs for the whole connection; the writer only while output waits for
  // the socket, so a quiet connection costs one coroutine. The last one out cleans up.
  session->running_ = 1;
  spawn(session, session->read_loop());
}

void Session::spawn(const std::shared_ptr<Session>& session, asio::awaitable<void> loop) {
  asio::co_spawn(session->socket_.get_executor(), std::move(loop),
                 [session](const std::exception_ptr& error) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("session {} ({}) ended by an internal error: {}",
                                     session->id(), session->peer_address_, e.what());
                     }
                     session->force_close();
                   }
                   if (--session->running_ == 0) session->finish();
                 });
}

void Session::finish() {
  force_close();
  leave_hub();
  spdlog::debug("session {} ({}) closed", id(), peer_address_);
  registry_.remove(*this);
}

asio::awaitable<void> Session::read_loop() {
  auto& buffer = shared_read_buffer();
  while (phase_ == Phase::open) {
    auto [wait_error] =
        co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, as_tuple(use_awaitable));
    if (phase_ != Phase::open) break;
    if (wait_error) {
      spdlog::debug("session {} wait for input failed: {}", id(), wait_error.message());
      begin_close(true, Clock::now());
      break;
    }
    for (int turn = 0; turn < kReadsPerWakeup && phase_ == Phase::open; ++turn) {
      std::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec == asio::error::eof) {
        spdlog::debug("session {} input ended", id());
        // The client closed its side: what it sent before is still answered.
        if (auto last = splitter_.take_unterminated(); !last.empty()) {
          on_frame(last, Clock::now(), wall_clock_ms());
        }
        begin_close(true, Clock::now() + settings_.close_grace);
        break;
      }
      if (ec) {
        spdlog::debug("session {} read failed: {}", id(), ec.message());
        begin_close(true, Clock::now());
        break;
      }
      hub_.counters().bytes_in += n;
      const auto now = Clock::now();
      const auto wall_ms = wall_clock_ms();
      const auto status =
          splitter_.feed(std::string_view(buffer.data(), n),
                         [&](std::string_view frame) { return on_frame(frame, now, wall_ms); });
      if (status == protocol::SplitStatus::too_large) {
        deliver_final(protocol::build_error(
            std::nullopt, protocol::ErrorCode::frame_too_large,
            "a frame may hold at most " + std::to_string(settings_.max_frame) + " bytes"));
        deliver_final(protocol::build_bye(std::nullopt, "frame_too_large"));
        begin_close(true, now + settings_.close_grace);
      }
      if (n < buffer.size()) break;
    }
  }
}

bool Session::on_frame(std::string_view frame, Clock::time_point now, std::int64_t wall_ms) {
  last_activity_ = now;
  ping_outstanding_ = false;
  if (dispatcher_.handle(state_, *this, frame, now, wall_ms) == Disposition::close) {
    begin_close(true, now + settings_.close_grace);
  }
  return phase_ == Phase::open;
}

asio::awaitable<void> Session::write_loop() {
  while (true) {
    if (batch_first_ == batch_.size()) {
      batch_sent();
      if (queue_.empty()) break;
      batch_.swap(queue_);
    }
    const SendResult result = send_some();
    if (result == SendResult::failed) break;
    if (result == SendResult::would_block) {
      auto [ec] =
          co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, as_tuple(use_awaitable));
      if (ec) break;
    }
  }
  writer_running_ = false;
  if (phase_ == Phase::open && batch_.empty()) co_return;
  // Closing, or the connection failed: once everything queued is out, shut down gracefully
  // so that the client reads it all before EOF.
  queue_.clear();
  batch_.clear();
  unsent_bytes_ = 0;
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
  if (phase_ == Phase::open) {
    phase_ = Phase::closing;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->leave_hub(); });
  }
  phase_ = Phase::closed;
}

Session::SendResult Session::send_some() {
  // sendmsg takes up to IOV_MAX buffers per call, where Asio's gathered write takes 64: a
  // batch of small frames then costs one system call instead of several.
  constexpr std::size_t kMaxBuffers = 1024;
  std::array<iovec, kMaxBuffers> buffers;
  while (batch_first_ < batch_.size()) {
    std::size_t count = 0;
    for (std::size_t i = batch_first_; i < batch_.size() && count < kMaxBuffers; ++i, ++count) {
      const std::string& frame = *batch_[i];
      const std::size_t skip = i == batch_first_ ? batch_first_sent_ : 0;
      buffers[count].iov_base = const_cast<char*>(frame.data() + skip);
      buffers[count].iov_len = frame.size() - skip;
    }
    msghdr message{};
    message.msg_iov = buffers.data();
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SendResult::would_block;
      spdlog::debug("session {} write failed: {}", id(), std::strerror(errno));
      return SendResult::failed;
    }
    auto left = static_cast<std::size_t>(sent);
    hub_.counters().bytes_out += left;
    unsent_bytes_ -= left;
    while (left > 0) {
      const std::size_t rest = batch_[batch_first_]->size() - batch_first_sent_;
      if (left < rest) {
        batch_first_sent_ += left;
        break;
      }
      left -= rest;
      ++batch_first_;
      batch_first_sent_ = 0;
    }
  }
  return SendResult::done;
}

void Session::batch_sent() {
  batch_.clear();
  batch_first_ = 0;
  batch_first_sent_ = 0;
  // A burst can leave a large vector behind; a quiet connection should cost little.
  if (batch_.capacity() > 256) batch_.shrink_to_fit();
}

void Session::flush_output() {
  flush_requested_ = false;
  // A running writer sends the queue itself once the socket takes more.
  if (writer_running_ || phase_ != Phase::open || queue_.empty()) return;
  batch_.swap(queue_);
  switch (send_some()) {
    case SendResult::done:
      batch_sent();
      return;
    case SendResult::would_block:
      start_writer();
      return;
    case SendResult::failed:
      force_close();
      return;
  }
}

void Session::request_flush() {
  if (flush_requested_) return;
  flush_requested_ = true;
  // One posted flush writes the output of every session: with one thread, Asio runs it
  // after the handlers of every socket found ready in the same poll, so under load the
  // messages from many publishers to one recipient leave in one system call, as Redis does
  // in its before-sleep step.
  if (registry_.request_flush(*this)) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->registry_.flush(); });
  }
}

void Session::start_writer() {
  if (writer_running_ || phase_ == Phase::closed || !socket_.is_open()) return;
  writer_running_ = true;
  ++running_;
  spawn(shared_from_this(), write_loop());
}

void Session::reply(const SharedFrame& frame) {
  deliver(frame);  // for now replies count toward the outbound limit like events
}

bool Session::deliver(const SharedFrame& frame) {
  if (phase_ != Phase::open) return false;
  if (unsent_bytes_ + frame->size() > settings_.outbound_limit) {
    // Cut off: this peer would otherwise hold the server's memory hostage.
    ++hub_.counters().slow_consumers;
    spdlog::info("session {} ({}, {}) cut off as a slow consumer: {} bytes unsent", id(),
                 peer_address_, hub_.name_of(id()), unsent_bytes_);
    deliver_final(protocol::build_error(std::nullopt, protocol::ErrorCode::slow_consumer,
                                        "output not read fast enough; the connection is closed"));
    deliver_final(protocol::build_bye(std::nullopt, "slow_consumer"));
    begin_close(true, Clock::now() + settings_.close_grace);
    return false;
  }
  unsent_bytes_ += frame->size();
  queue_.push_back(frame);
  request_flush();
  return true;
}

void Session::deliver_final(std::string frame) {
  if (phase_ != Phase::open) return;
  unsent_bytes_ += frame.size();
  queue_.push_back(make_frame(std::move(frame)));
}

void Session::begin_close(bool announce, Clock::time_point deadline) {
  if (phase_ != Phase::open) return;
  phase_ = Phase::closing;
  announce_leave_ = announce;
  close_deadline_ = deadline;
  start_writer();
  // This may run inside a hub fan-out (a slow consumer found by deliver), where the hub
  // must not be re-entered: leave it from a fresh turn of the loop.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->leave_hub(); });
}

void Session::leave_hub() {
  if (!in_hub_) return;
  in_hub_ = false;
  hub_.disconnect(state_.id, announce_leave_);
}

void Session::tick(Clock::time_point now) {
  if (phase_ == Phase::closing) {
    if (now >= close_deadline_) force_close();
    return;
  }
  if (phase_ != Phase::open) return;
  if (!ping_outstanding_) {
    if (now - last_activity_ >= settings_.ping_interval) {
      ping_outstanding_ = true;
      ping_sent_ = now;
      deliver(make_frame(protocol::build_ping()));
    }
  } else if (now - ping_sent_ >= settings_.ping_timeout) {
    spdlog::info("session {} ({}, {}) timed out", id(), peer_address_, hub_.name_of(id()));
    deliver_final(protocol::build_bye(std::nullopt, "timeout"));
    begin_close(true, now + settings_.close_grace);
  }
}

void Session::shut_down(Clock::time_point deadline) {
  deliver_final(protocol::build_bye(std::nullopt, "shutdown"));
  begin_close(false, deadline);
}

void Session::force_close() {
  if (phase_ == Phase::open) {
    phase_ = Phase::closing;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->leave_hub(); });
  }
  std::error_code ignored;
  socket_.close(ignored);
  queue_.clear();
}

}  // namespace parley::server
