#pragma once
// TLS over a TCP socket as a byte stream (byte_stream.hpp): the one TLS engine of the
// server. TlsTransport frames protocol lines over it; WsTransport<TlsStream> frames
// WebSocket messages over it (wss); the HTTP listener speaks HTTPS over it.
//
// OpenSSL is driven through memory, not through asio::ssl::stream: the socket stays ours
// and non-blocking, OpenSSL only turns plaintext into records and back. Why: the seam is
// synchronous and non-blocking (a write must say how far it got and return), and
// ssl::stream's synchronous write on a non-blocking socket can encrypt a record, send
// part of it, and report would_block with the rest of the ciphertext lost inside the
// stream; its async ops would need a second, unbounded queue beside the session's. Here
// every record OpenSSL produces lands in a buffer we own, goes out in one non-blocking
// send, and whatever the socket does not take waits (bounded: one flush of records) in
// front of all later output.
//
// writev() packs the gathered buffers into records of up to 16 KiB of plaintext and sends
// up to 64 KiB of records per system call, so that a fan-out of 128-byte messages costs
// one record per flush, not one per message. When records are left waiting for the
// socket, writev() reports the last byte it encrypted as not written: the caller then
// comes back (after wait_writable()) with that byte first, which is how the waiting
// records get sent; that byte is not encrypted twice.
#include <openssl/ssl.h>
#include <sys/uio.h>

#include <asio.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>

#include "tls_context.hpp"

namespace parley::server {

class TlsStream {
 public:
  // Takes an accepted socket; the handshake has not started. The context is kept alive
  // by the connection, so a reload does not disturb it.
  TlsStream(asio::ip::tcp::socket socket, TlsContextPtr context);
  ~TlsStream();
  // Movable (WsTransport takes its stream by value), never while a call is running.
  TlsStream(TlsStream&& other) noexcept;
  TlsStream& operator=(TlsStream&&) = delete;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Runs the server side of the handshake to its end: {} once the stream may be used, or
  // the error (with the reason from OpenSSL in `reason`) that ended it. close() from a
  // timer aborts it.
  asio::awaitable<std::error_code> handshake(std::string& reason);
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done, for logs.
  std::string describe_session() const;

  asio::any_io_executor get_executor() { return socket_.get_executor(); }
  std::string remote_address() const;
  asio::awaitable<std::error_code> wait_readable();
  asio::awaitable<std::error_code> wait_writable();
  std::size_t read_some(std::span<char> buffer, std::error_code& ec);
  std::size_t writev(const iovec* buffers, std::size_t count, std::error_code& ec);
  // close_notify, then the TCP FIN once everything before it is out.
  void shutdown_send();
  void close();
  bool is_open() const { return socket_.is_open(); }

  // Ciphertext bytes sent so far (handshake included), for byte counters.
  std::size_t wire_bytes_sent() const noexcept { return wire_sent_; }

 private:
  enum class SendResult { all, partial, failed };

  // Sends pending_ (records that the socket did not take before).
  SendResult send_pending();
  // Moves ciphertext from the socket into OpenSSL: bytes read, 0 at would_block; sets
  // `ec` to eof or a failure.
  std::size_t pull(std::error_code& ec);
  void release_handshake_buffers();

  asio::ip::tcp::socket socket_;
  TlsContextPtr context_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;    // ciphertext read from the socket, for OpenSSL (owned by ssl_)
  BIO* out_ = nullptr;   // where OpenSSL writes records: appends to *sink_ (owned by ssl_)
  std::string* sink_;    // pending_ outside writev(); the shared send buffer inside it
  std::string pending_;  // ciphertext the socket has not taken yet; sent before anything
  std::size_t pending_offset_ = 0;
  std::size_t wire_sent_ = 0;
  bool held_ = false;              // the last writev() kept back one encrypted byte
  bool input_ended_ = false;       // the peer's close_notify or FIN was seen
  bool read_blocked_ = false;      // the last read_some() found the socket empty
  bool shutdown_pending_ = false;  // close_notify queued; TCP FIN follows once it is out
};

}  // namespace parley::server
