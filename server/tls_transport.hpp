#pragma once
// A Transport that speaks TLS over a TCP socket, for a session that knows nothing of it.
//
// OpenSSL is driven through memory, not through asio::ssl::stream: the socket stays ours
// and non-blocking, OpenSSL only turns plaintext into records and back. Why: the seam is
// synchronous and non-blocking (write() must say how far it got and return), and
// ssl::stream's synchronous write on a non-blocking socket can encrypt a record, send
// part of it, and report would_block with the rest of the ciphertext lost inside the
// stream; its async ops would need a second, unbounded queue beside the session's. Here
// every record OpenSSL produces lands in a buffer we own, goes out in one non-blocking
// send, and whatever the socket does not take waits (bounded: one flush of records) in
// front of all later output.
//
// Small frames are coalesced: write() packs frames into records of up to 16 KiB of
// plaintext and sends up to kSendBytes of records per system call, so that a fan-out of
// 128-byte messages costs one record per flush, not one per message.
#include <openssl/ssl.h>

#include <asio.hpp>
#include <memory>
#include <string>

#include "tls_context.hpp"
#include "transport.hpp"

namespace parley::server {

class TlsTransport final : public Transport {
 public:
  // Takes an accepted socket; the handshake has not started. The context is kept alive
  // by the connection, so a reload does not disturb it.
  TlsTransport(asio::ip::tcp::socket socket, TlsContextPtr context);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // Runs the server side of the handshake to its end: {} once the session may start, or
  // the error (with the reason from OpenSSL in `reason`) that ended it. close() from a
  // timer aborts it.
  asio::awaitable<std::error_code> handshake(std::string& reason);

  Executor get_executor() override { return socket_.get_executor(); }
  std::string remote_address() const override;
  asio::awaitable<std::error_code> wait_readable() override;
  std::size_t read_some(std::span<char> buffer, std::error_code& ec) override;
  WriteStatus write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                    WriteProgress& progress) override;
  asio::awaitable<std::error_code> wait_writable() override;
  void shutdown_send() override;
  void close() override;
  bool is_open() const override { return socket_.is_open(); }

  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once the handshake is done, for logs.
  std::string describe_session() const;

 private:
  enum class SendResult { all, partial, failed };

  // Sends pending_ (records that a socket did not take before). `wire` grows by the bytes
  // that went out.
  SendResult send_pending(std::size_t& wire);
  // Moves ciphertext from the socket into OpenSSL: bytes read, 0 at would_block; sets
  // `ec` to eof or a failure.
  std::size_t pull(std::error_code& ec);
  void release_handshake_buffers();
  // After a write() that encrypted everything but could not send it all.
  void hold_back(std::span<const SharedFrame> frames, WriteCursor& cursor, WriteProgress& progress);

  asio::ip::tcp::socket socket_;
  TlsContextPtr context_;
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;    // ciphertext read from the socket, for OpenSSL (owned by ssl_)
  BIO* out_ = nullptr;   // where OpenSSL writes records: appends to *sink_ (owned by ssl_)
  std::string* sink_;    // pending_ outside write(); the shared send buffer inside it
  std::string pending_;  // ciphertext the socket has not taken yet; sent before anything
  std::size_t pending_offset_ = 0;
  // The last byte of a write() whose records are still in pending_: the session is told
  // that byte is unsent, so that it calls write() again (and waits for the socket) until
  // the records are out. Identified by frame and offset; nothing else re-presents it.
  const std::string* held_frame_ = nullptr;
  std::size_t held_offset_ = 0;
  bool input_ended_ = false;       // the peer's close_notify or FIN was seen
  bool read_blocked_ = false;      // the last read_some() found the socket empty
  bool shutdown_pending_ = false;  // close_notify queued; TCP FIN follows once it is out
};

}  // namespace parley::server
