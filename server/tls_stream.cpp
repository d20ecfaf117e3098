#include "tls_stream.hpp"

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
#include <utility>

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

// The next run of plaintext from buffers[index...] at `offset`, at most one record,
// advancing past it. A buffer with a record's worth left is used in place; smaller ones
// are packed together into the shared plaintext buffer.
std::string_view next_chunk(const iovec* buffers, std::size_t count, std::size_t& index,
                            std::size_t& offset) {
  const auto* first = static_cast<const char*>(buffers[index].iov_base);
  if (buffers[index].iov_len - offset >= kRecordBytes) {
    const std::string_view chunk(first + offset, kRecordBytes);
    offset += kRecordBytes;
    if (offset == buffers[index].iov_len) {
      ++index;
      offset = 0;
    }
    return chunk;
  }
  auto& staging = shared_plaintext();
  std::size_t used = 0;
  while (index < count && used < staging.size()) {
    const auto* data = static_cast<const char*>(buffers[index].iov_base);
    const std::size_t take = std::min(buffers[index].iov_len - offset, staging.size() - used);
    std::memcpy(staging.data() + used, data + offset, take);
    used += take;
    offset += take;
    if (offset == buffers[index].iov_len) {
      ++index;
      offset = 0;
    }
  }
  return {staging.data(), used};
}

}  // namespace

TlsStream::TlsStream(asio::ip::tcp::socket socket, TlsContextPtr context)
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

TlsStream::~TlsStream() {
  SSL_free(ssl_);
}

TlsStream::TlsStream(TlsStream&& other) noexcept
    : socket_(std::move(other.socket_)),
      context_(std::move(other.context_)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      in_(std::exchange(other.in_, nullptr)),
      out_(std::exchange(other.out_, nullptr)),
      sink_(&pending_),
      pending_(std::move(other.pending_)),
      pending_offset_(other.pending_offset_),
      wire_sent_(other.wire_sent_),
      held_(other.held_),
      input_ended_(other.input_ended_),
      read_blocked_(other.read_blocked_),
      shutdown_pending_(other.shutdown_pending_) {
  // The output BIO points at the sink slot, which has moved with us.
  if (out_ != nullptr) BIO_set_data(out_, static_cast<void*>(&sink_));
}

std::string TlsStream::remote_address() const {
  std::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::string TlsStream::describe_session() const {
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

asio::awaitable<std::error_code> TlsStream::handshake(std::string& reason) {
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
      send_pending();  // the alert that tells the client why, if the socket takes it
      co_return std::error_code(asio::error::connection_refused);
    }
    // What the handshake wrote goes out before we wait for the client's answer.
    while (pending_offset_ < pending_.size()) {
      const SendResult sent = send_pending();
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

void TlsStream::release_handshake_buffers() {
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

std::size_t TlsStream::pull(std::error_code& ec) {
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

asio::awaitable<std::error_code> TlsStream::wait_readable() {
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

std::size_t TlsStream::read_some(std::span<char> buffer, std::error_code& ec) {
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
    send_pending();
  }
  return total;
}

TlsStream::SendResult TlsStream::send_pending() {
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
    wire_sent_ += static_cast<std::size_t>(sent);
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

std::size_t TlsStream::writev(const iovec* buffers, std::size_t count, std::error_code& ec) {
  ec.clear();
  // Records already made go first, in order.
  if (pending_offset_ < pending_.size()) {
    const SendResult sent = send_pending();
    if (sent != SendResult::all) {
      ec = sent == SendResult::failed ? make_error_code(asio::error::broken_pipe)
                                      : make_error_code(asio::error::would_block);
      return 0;
    }
  }
  std::size_t index = 0;
  std::size_t offset = 0;
  std::size_t accepted = 0;
  if (held_) {
    // The byte kept back last time: encrypted then, and its records are out now.
    held_ = false;
    while (index < count && buffers[index].iov_len == 0) ++index;
    if (index == count) return 0;
    accepted = 1;
    if (++offset == buffers[index].iov_len) {
      ++index;
      offset = 0;
    }
  }
  std::string& records = shared_send_buffer();
  // Once per call, not per record: a successful SSL_write leaves the queue empty.
  ERR_clear_error();
  while (index < count) {
    records.clear();
    sink_ = &records;
    bool encrypted = true;
    std::size_t taken = 0;
    while (records.size() < kSendBytes && index < count) {
      const std::string_view chunk = next_chunk(buffers, count, index, offset);
      if (chunk.empty()) break;  // only empty buffers were left
      // The sink takes every record whole, so SSL_write either writes all or fails.
      if (SSL_write(ssl_, chunk.data(), static_cast<int>(chunk.size())) !=
          static_cast<int>(chunk.size())) {
        encrypted = false;
        break;
      }
      taken += chunk.size();
    }
    sink_ = &pending_;
    if (!encrypted) {
      spdlog::debug("TLS write to {} failed: {}", remote_address(), openssl_reason("refused"));
      ec = asio::error::connection_aborted;
      return 0;
    }
    accepted += taken;
    std::size_t sent = 0;
    while (sent < records.size()) {
      const ssize_t n = ::send(socket_.native_handle(), records.data() + sent,
                               records.size() - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        spdlog::debug("TLS write to {} failed: {}", remote_address(), std::strerror(errno));
        ec = std::error_code(errno, std::system_category());
        return 0;
      }
      sent += static_cast<std::size_t>(n);
    }
    wire_sent_ += sent;
    if (sent < records.size()) {
      // Everything taken is encrypted, but records wait for the socket: keep the last
      // byte back so that the caller returns (and so flushes them) before it is done.
      pending_.assign(records, sent);
      pending_offset_ = 0;
      held_ = true;
      return accepted - 1;
    }
  }
  return accepted;
}

asio::awaitable<std::error_code> TlsStream::wait_writable() {
  auto [ec] =
      co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, as_tuple(use_awaitable));
  co_return ec;
}

void TlsStream::shutdown_send() {
  if (!socket_.is_open()) return;
  // close_notify, then the TCP FIN once it (and everything before it) is out.
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
  shutdown_pending_ = true;
  send_pending();
}

void TlsStream::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

}  // namespace parley::server
