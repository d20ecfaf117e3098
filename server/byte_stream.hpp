#pragma once
// The byte I/O a framing transport (WsTransport) runs over. WsTransport is a template on
// its stream so that the same WebSocket framing runs over plain TCP (SocketStream, here)
// and over TLS (a TLS stream offering the same members) without a virtual call per read.
//
// A stream offers, all non-blocking, on the event-loop thread:
//   get_executor(), remote_address()
//   wait_readable(), wait_writable()     -> asio::awaitable<std::error_code>
//   read_some(std::span<char>, ec)       -> bytes read, or 0 with ec (would_block, eof, ...)
//   writev(const iovec*, count, ec)      -> bytes written, or 0 with ec (would_block, ...)
//   shutdown_send(), close(), is_open()
#include <sys/uio.h>

#include <asio.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>

namespace parley::server {

template <class Socket>
class SocketStream {
 public:
  // Takes a connected socket and makes it non-blocking (for TCP, Nagle off too).
  explicit SocketStream(Socket socket);

  asio::any_io_executor get_executor() { return socket_.get_executor(); }
  std::string remote_address() const;
  asio::awaitable<std::error_code> wait_readable();
  asio::awaitable<std::error_code> wait_writable();
  std::size_t read_some(std::span<char> buffer, std::error_code& ec);
  // One gathered sendmsg (MSG_NOSIGNAL); count must be at most IOV_MAX.
  std::size_t writev(const iovec* buffers, std::size_t count, std::error_code& ec);
  void shutdown_send();
  void close();
  bool is_open() const { return socket_.is_open(); }

 private:
  Socket socket_;
};

extern template class SocketStream<asio::ip::tcp::socket>;
extern template class SocketStream<asio::local::stream_protocol::socket>;

}  // namespace parley::server
