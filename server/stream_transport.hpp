#pragma once
// A Transport that speaks the line protocol over a byte stream (byte_stream.hpp): plain TCP
// for clients, a Unix socketpair in tests, and TLS (TlsStream, aliased TlsTransport in
// tls_transport.hpp). Frames go out as they are, many per call: one gathered writev takes
// up to kMaxIov frames, where Asio's own gathered write stops at 64 buffers; a TLS stream
// packs them into records (several small frames per record).
#include <asio.hpp>
#include <string>
#include <utility>

#include "byte_stream.hpp"
#include "transport.hpp"

namespace parley::server {

template <class Stream>
class StreamTransport final : public Transport {
 public:
  // Takes a socket's stream (SocketStream makes it non-blocking, Nagle off for TCP: each
  // flush is already one gathered write) or a TLS stream whose handshake is done.
  explicit StreamTransport(Stream stream) : stream_(std::move(stream)) {}

  Executor get_executor() override { return stream_.get_executor(); }
  std::string remote_address() const override { return stream_.remote_address(); }
  asio::awaitable<std::error_code> wait_readable() override { return stream_.wait_readable(); }
  std::size_t read_some(std::span<char> buffer, std::error_code& ec) override {
    return stream_.read_some(buffer, ec);
  }
  WriteStatus write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                    WriteProgress& progress) override;
  asio::awaitable<std::error_code> wait_writable() override { return stream_.wait_writable(); }
  void shutdown_send() override { stream_.shutdown_send(); }
  void close() override { stream_.close(); }
  bool is_open() const override { return stream_.is_open(); }

 private:
  Stream stream_;
};

using TcpTransport = StreamTransport<SocketStream<asio::ip::tcp::socket>>;
using LocalTransport = StreamTransport<SocketStream<asio::local::stream_protocol::socket>>;

extern template class StreamTransport<SocketStream<asio::ip::tcp::socket>>;
extern template class StreamTransport<SocketStream<asio::local::stream_protocol::socket>>;

}  // namespace parley::server
