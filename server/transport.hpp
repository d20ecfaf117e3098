#pragma once
// The seam between a session and the bytes on the wire. A session reads frames and writes
// shared frames; how those bytes travel (plain TCP today; TLS and WebSocket framing over
// either next) is a Transport's job, so that no transport forks the session.
//
// Contract, for every transport:
// - Nothing blocks. read_some() and write() do what the connection takes now and say
//   would_block otherwise; wait_readable()/wait_writable() are the only suspension points.
// - The session owns the frames: write() only reads them and reports progress through a
//   WriteCursor, so that a frame shared by many recipients is never copied by the session.
//   A transport may give each frame a wire prefix (a WebSocket header) and may write its
//   body without the line end; the cursor counts in the transport's own wire units.
// - Back-pressure is reported, never hidden: write() returns would_block with the cursor
//   where the connection stopped taking bytes, and the session awaits wait_writable().
// - shutdown_send() ends the session's output (a TCP FIN, a TLS close_notify, a WebSocket
//   close frame) after everything written so far; close() releases the connection at once.
// Threading: the event-loop thread only, like the session that owns it.
#include <asio.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "peer.hpp"

namespace parley::server {

// How far a gathered write went: frames before `frame` are out, and `offset` wire bytes of
// frames[frame].
struct WriteCursor {
  std::size_t frame = 0;
  std::size_t offset = 0;
};

// What one write() call sent: bytes on the wire (prefixes, TLS records and all) and bytes
// of the frames themselves, which the session's outbound limit counts.
struct WriteProgress {
  std::size_t wire_bytes = 0;
  std::size_t frame_bytes = 0;
};

enum class WriteStatus {
  done,         // every frame is out
  would_block,  // the connection takes no more now: await wait_writable()
  failed,       // the connection is broken: close the session
};

class Transport {
 public:
  using Executor = asio::any_io_executor;

  virtual ~Transport() = default;

  virtual Executor get_executor() = 0;
  // "address:port" of the other end, for logs and per-address limits.
  virtual std::string remote_address() const = 0;

  // Completes when input may be read, or with the error that ended the connection.
  virtual asio::awaitable<std::error_code> wait_readable() = 0;
  // Reads what is available into `buffer`: the byte count, or 0 with `ec` set
  // (would_block/try_again: nothing now; eof: the peer closed its side; other: broken).
  // A framing transport hands over complete "\n"-ended lines and reports its verdicts on
  // the input as std::errc::message_size (a message over max_frame) and
  // std::errc::protocol_error (broken framing); after either, input is only discarded.
  virtual std::size_t read_some(std::span<char> buffer, std::error_code& ec) = 0;

  // Writes frames[cursor.frame...] from cursor.offset as far as the connection takes now,
  // advancing the cursor and adding what went out to `progress`.
  virtual WriteStatus write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                            WriteProgress& progress) = 0;
  // Completes when the connection takes output again, or with the error that ended it.
  virtual asio::awaitable<std::error_code> wait_writable() = 0;

  virtual void shutdown_send() = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

using TransportPtr = std::unique_ptr<Transport>;

}  // namespace parley::server
