#pragma once
// A Transport over a plain stream socket: TCP for clients, a Unix socketpair in tests.
// Frames go out as they are, many per system call: one non-blocking gathered sendmsg
// takes up to kMaxIov frames, where Asio's own gathered write stops at 64 buffers.
#include <asio.hpp>

#include "transport.hpp"

namespace parley::server {

template <class Socket>
class StreamTransport final : public Transport {
 public:
  // Takes a connected socket; makes it non-blocking (and, for TCP, turns Nagle off: each
  // flush is already one gathered write).
  explicit StreamTransport(Socket socket);

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

  Socket& socket() noexcept { return socket_; }

 private:
  Socket socket_;
};

using TcpTransport = StreamTransport<asio::ip::tcp::socket>;
using LocalTransport = StreamTransport<asio::local::stream_protocol::socket>;

extern template class StreamTransport<asio::ip::tcp::socket>;
extern template class StreamTransport<asio::local::stream_protocol::socket>;

}  // namespace parley::server
