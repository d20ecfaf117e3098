#include "tls_transport.hpp"

#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// The largest plaintext one TLS record carries.
constexpr std::size_t kRecordBytes = 16384;
// Records gathered before one send(): a few records per system call, and at most this
// much ciphertext (plus one record) left waiting in a connection when its socket is full.
constexpr std::size_t kSendBytes = std::size_t{64} << 10;
// A connection's leftover ciphertext buffer is released past this size once sent.
constexpr std::size_t kKeepPendingCapacity = std::size_t{16} << 10;
// Ciphertext taken from the socket per recv().
constexpr std::size_t kPullBytes = std::size_t{32} << 10;

// Buffers shared by every connection: the loop has one thread, and none is held across
// an await (leftovers are copied into the connection's own pending_).
std::string& shared_send_buffer() {
  static std::string buffer;
  return buffer;
}
std::array<char, kRecordBytes>& shared_plaintext() {
  static std::array<char, kRecordBytes> buffer;
  return buffer;
}
std::array<char, kPullBytes>& shared_pull_buffer() {
  static std::array<char, kPullBytes> buffer;
  return buffer;
}

// The write side of OpenSSL's I/O: a BIO that appends every record to the std::string its
// data points at (a std::string* slot in the transport), so that records are copied once
// and sent by us.
int sink_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
  std::string* sink = *static_cast<std::string**>(BIO_get_data(bio));
  sink->append(data, size);
  *written = size;
  return 1;
}
long sink_ctrl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}
int sink_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}
BIO_METHOD* sink_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley record sink");
    if (m == nullptr || BIO_meth_set_write_ex(m, sink_write) != 1 ||
        BIO_meth_set_ctrl(m, sink_ctrl) != 1 || BIO_meth_set_create(m, sink_create) != 1) {
      throw std::runtime_error("cannot create the TLS output BIO");
    }
    return m;
  }();
  return method;
}

std::string openssl_reason(const char* fallback) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

// The next run of plaintext from frames[cursor...], at most one record, advancing the
// cursor past it. A frame with a record's worth left is used in place; smaller ones are
// packed together into the shared plaintext buffer.
std::string_view next_chunk(std::span<const SharedFrame> frames, WriteCursor& cursor) {
  const std::string& first = *frames[cursor.frame];
  if (first.size() - cursor.offset >= kRecordBytes) {
    const std::string_view chunk(first.data() + cursor.offset, kRecordBytes);
    cursor.offset += kRecordBytes;
    if (cursor.offset == first.size()) {
      ++cursor.frame;
      cursor.offset = 0;
    }
    return chunk;
  }
  auto& staging = shared_plaintext();
  std::size_t used = 0;
  while (cursor.frame < frames.size() && used < staging.size()) {
    const std::string& frame = *frames[cursor.frame];
    const std::size_t take = std::min(frame.size() - cursor.offset, staging.size() - used);
    std::memcpy(staging.data() + used, frame.data() + cursor.offset, take);
    used += take;
    cursor.offset += take;
    if (cursor.offset == frame.size()) {
      ++cursor.frame;
      cursor.offset = 0;
    }
  }
  return {staging.data(), used};
}

}  // namespace

TlsTransport::TlsTransport(asio::ip::tcp::socket socket, TlsContextPtr context)
    : socket_(std::move(socket)), context_(std::move(context)), sink_(&pending_) {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  ssl_ = SSL_new(context_->native_handle());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(sink_method());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    SSL_free(ssl_);
    throw std::runtime_error("cannot create a TLS connection: " + openssl_reason("out of memory"));
  }
  // An empty input BIO means "more to come" (want read), not end of stream: the socket
  // says when the stream ends.
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_data(out_, static_cast<void*>(&sink_));
  SSL_set_bio(ssl_, in_, out_);  // ssl_ owns both from here
  SSL_set_accept_state(ssl_);
}

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);
}

std::string TlsTransport::remote_address() const {
  std::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::string TlsTransport::describe_session() const {
  std::string out = SSL_get_version(ssl_);
  out += ' ';
  out += SSL_get_cipher_name(ssl_);
  if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
    std::array<char, 256> subject{};
    X509_NAME_oneline(X509_get_subject_name(peer), subject.data(),
                      static_cast<int>(subject.size()));
    out += ", client ";
    out += subject.data();
  }
  return out;
}

asio::awaitable<std::error_code> TlsTransport::handshake(std::string& reason) {
  while (true) {
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_);
    const int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, result);
    if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ) {
      reason = openssl_reason(error == SSL_ERROR_SYSCALL ? "connection broken" : "refused");
      if (const long verify = SSL_get_verify_result(ssl_); verify != X509_V_OK) {
        reason += " (client certificate: ";
        reason += X509_verify_cert_error_string(verify);
        reason += ')';
      }
      std::size_t ignored = 0;
      send_pending(ignored);  // the alert that tells the client why, if the socket takes it
      co_return std::error_code(asio::error::connection_refused);
    }
    // What the handshake wrote goes out before we wait for the client's answer.
    while (pending_offset_ < pending_.size()) {
      std::size_t ignored = 0;
      const SendResult sent = send_pending(ignored);
      if (sent == SendResult::failed) {
        reason = "write failed";
        co_return std::error_code(asio::error::broken_pipe);
      }
      if (sent == SendResult::partial) {
        auto [ec] =
            co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, as_tuple(use_awaitable));
        if (ec) {
          reason = ec == asio::error::operation_aborted ? "timed out" : ec.message();
          co_return ec;
        }
      }
    }
    if (error == SSL_ERROR_NONE) {
      release_handshake_buffers();
      co_return std::error_code();
    }
    std::error_code ec;
    if (pull(ec) > 0) continue;
    if (ec) {
      reason = ec == asio::error::eof ? "closed by the client" : ec.message();
      co_return ec;
    }
    auto [wait_ec] =
        co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, as_tuple(use_awaitable));
    if (wait_ec) {
      reason = wait_ec == asio::error::operation_aborted ? "timed out" : wait_ec.message();
      co_return wait_ec;
    }
  }
}

void TlsTransport::release_handshake_buffers() {
  // The handshake's flights grew both buffers; an idle connection should not keep them.
  std::string().swap(pending_);
  pending_offset_ = 0;
  if (BIO_ctrl_pending(in_) == 0) {
    if (BIO* fresh = BIO_new(BIO_s_mem())) {
      BIO_set_mem_eof_return(fresh, -1);
      SSL_set0_rbio(ssl_, fresh);  // frees the old one
      in_ = fresh;
    }
  }
}

std::size_t TlsTransport::pull(std::error_code& ec) {
  auto& buffer = shared_pull_buffer();
  while (true) {
    const ssize_t got = ::recv(socket_.native_handle(), buffer.data(), buffer.size(), 0);
    if (got > 0) {
      BIO_write(in_, buffer.data(), static_cast<int>(got));
      return static_cast<std::size_t>(got);
    }
    if (got == 0) {
      ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      ec = std::error_code(errno, std::system_category());
    return 0;
  }
}

asio::awaitable<std::error_code> TlsTransport::wait_readable() {
  // Plaintext or whole records may already be inside OpenSSL, where the socket cannot
  // signal them: only an input that stopped at an empty socket waits on the socket.
  if (!read_blocked_ && (input_ended_ || SSL_pending(ssl_) > 0 || BIO_ctrl_pending(in_) > 0)) {
    // Still a turn of the loop, so that one busy client cannot starve the others.
    co_await asio::post(socket_.get_executor(), use_awaitable);
    co_return std::error_code(socket_.is_open() ? std::error_code()
                                                : asio::error::operation_aborted);
  }
  auto [ec] =
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, as_tuple(use_awaitable));
  co_return ec;
}

std::size_t TlsTransport::read_some(std::span<char> buffer, std::error_code& ec) {
  ec.clear();
  read_blocked_ = false;
  std::size_t total = 0;
  while (total < buffer.size()) {
    ERR_clear_error();
    const int want = static_cast<int>(std::min<std::size_t>(buffer.size() - total, INT_MAX));
    const int n = SSL_read(ssl_, buffer.data() + total, want);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ && !input_ended_) {
      std::error_code pull_ec;
      if (pull(pull_ec) > 0) continue;
      if (pull_ec == asio::error::eof) {
        // A FIN without close_notify: the line framing above tells a cut frame anyway.
        input_ended_ = true;
        if (total == 0) ec = asio::error::eof;
      } else if (pull_ec) {
        if (total == 0) ec = pull_ec;
      } else {
        read_blocked_ = true;
        if (total == 0) ec = asio::error::would_block;
      }
      break;
    }
    if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_WANT_READ) {
      input_ended_ = true;
      if (total == 0) ec = asio::error::eof;
      break;
    }
    // A broken record, a renegotiation attempt, a fatal alert: the connection is over.
    if (total == 0) {
      spdlog::debug("TLS read from {} failed: {}", remote_address(),
                    openssl_reason("connection broken"));
      ec = asio::error::connection_aborted;
    }
    break;
  }
  // Reading can make OpenSSL answer (a key update, an alert, our close_notify's FIN).
  if (pending_offset_ < pending_.size()) {
    std::size_t ignored = 0;
    send_pending(ignored);
  }
  return total;
}

TlsTransport::SendResult TlsTransport::send_pending(std::size_t& wire) {
  while (pending_offset_ < pending_.size()) {
    const ssize_t sent = ::send(socket_.native_handle(), pending_.data() + pending_offset_,
                                pending_.size() - pending_offset_, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SendResult::partial;
      spdlog::debug("TLS write to {} failed: {}", remote_address(), std::strerror(errno));
      return SendResult::failed;
    }
    pending_offset_ += static_cast<std::size_t>(sent);
    wire += static_cast<std::size_t>(sent);
  }
  pending_.clear();
  pending_offset_ = 0;
  if (pending_.capacity() > kKeepPendingCapacity) std::string().swap(pending_);
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  return SendResult::all;
}

WriteStatus TlsTransport::write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                                WriteProgress& progress) {
  // Records already made go first, in order.
  if (pending_offset_ < pending_.size()) {
    const SendResult sent = send_pending(progress.wire_bytes);
    if (sent == SendResult::failed) return WriteStatus::failed;
    if (sent == SendResult::partial) return WriteStatus::would_block;
  }
  if (held_frame_ != nullptr) {
    // Its records are out now: the held byte is sent.
    if (cursor.frame < frames.size() && frames[cursor.frame].get() == held_frame_ &&
        cursor.offset == held_offset_) {
      progress.frame_bytes += held_frame_->size() - held_offset_;
      ++cursor.frame;
      cursor.offset = 0;
    }
    held_frame_ = nullptr;
  }
  std::string& records = shared_send_buffer();
  // Once per call, not per record: a successful SSL_write leaves the queue empty.
  ERR_clear_error();
  while (cursor.frame < frames.size()) {
    records.clear();
    sink_ = &records;
    bool encrypted = true;
    while (records.size() < kSendBytes && cursor.frame < frames.size()) {
      const std::string_view chunk = next_chunk(frames, cursor);
      // The sink takes every record whole, so SSL_write either writes all or fails.
      if (SSL_write(ssl_, chunk.data(), static_cast<int>(chunk.size())) !=
          static_cast<int>(chunk.size())) {
        encrypted = false;
        break;
      }
      progress.frame_bytes += chunk.size();
    }
    sink_ = &pending_;
    if (!encrypted) {
      spdlog::debug("TLS write to {} failed: {}", remote_address(), openssl_reason("refused"));
      return WriteStatus::failed;
    }
    std::size_t sent = 0;
    while (sent < records.size()) {
      const ssize_t n = ::send(socket_.native_handle(), records.data() + sent,
                               records.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        spdlog::debug("TLS write to {} failed: {}", remote_address(), std::strerror(errno));
        return WriteStatus::failed;
      }
      sent += static_cast<std::size_t>(n);
    }
    progress.wire_bytes += sent;
    if (sent < records.size()) {
      pending_.assign(records, sent);
      pending_offset_ = 0;
      if (cursor.frame == frames.size()) hold_back(frames, cursor, progress);
      return WriteStatus::would_block;
    }
  }
  return WriteStatus::done;
}

void TlsTransport::hold_back(std::span<const SharedFrame> frames, WriteCursor& cursor,
                             WriteProgress& progress) {
  // Every frame is encrypted but records are still waiting for the socket: report the
  // last byte unsent, or the session would call the output done and never come back for
  // the records. Frames are never empty (each ends with its line end); trailing empty ones
  // are skipped all the same.
  std::size_t last = frames.size();
  while (last > 0 && frames[last - 1]->empty()) --last;
  if (last == 0) return;
  const std::string& frame = *frames[last - 1];
  cursor = {.frame = last - 1, .offset = frame.size() - 1};
  progress.frame_bytes -= 1;
  held_frame_ = &frame;
  held_offset_ = cursor.offset;
}

asio::awaitable<std::error_code> TlsTransport::wait_writable() {
  auto [ec] =
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, as_tuple(use_awaitable));
  co_return ec;
}

void TlsTransport::shutdown_send() {
  if (!socket_.is_open()) return;
  // close_notify, then the TCP FIN once it (and everything before it) is out.
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
  shutdown_pending_ = true;
  std::size_t ignored = 0;
  send_pending(ignored);
}

void TlsTransport::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

}  // namespace parley::server
