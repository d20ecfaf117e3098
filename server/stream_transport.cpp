#include "stream_transport.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <cerrno>
#include <cstring>
#include <type_traits>

namespace parley::server {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;

// Frames per sendmsg: the kernel takes up to IOV_MAX (1024) buffers in one call.
constexpr std::size_t kMaxIov = 1024;

}  // namespace

template <class Socket>
StreamTransport<Socket>::StreamTransport(Socket socket) : socket_(std::move(socket)) {
  std::error_code ec;
  if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  socket_.non_blocking(true, ec);
}

template <class Socket>
std::string StreamTransport<Socket>::remote_address() const {
  if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
    std::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    if (ec) return "?";
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  } else {
    return "local";
  }
}

template <class Socket>
asio::awaitable<std::error_code> StreamTransport<Socket>::wait_readable() {
  auto [ec] = co_await socket_.async_wait(Socket::wait_read, as_tuple(use_awaitable));
  co_return ec;
}

template <class Socket>
std::size_t StreamTransport<Socket>::read_some(std::span<char> buffer, std::error_code& ec) {
  return socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
}

template <class Socket>
WriteStatus StreamTransport<Socket>::write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                                           WriteProgress& progress) {
  std::array<iovec, kMaxIov> buffers;
  while (cursor.frame < frames.size()) {
    std::size_t count = 0;
    for (std::size_t i = cursor.frame; i < frames.size() && count < kMaxIov; ++i, ++count) {
      const std::string& frame = *frames[i];
      const std::size_t skip = i == cursor.frame ? cursor.offset : 0;
      // sendmsg's iovec is not const-qualified; the kernel only reads these bytes.
      buffers[count].iov_base = const_cast<char*>(frame.data() + skip);
      buffers[count].iov_len = frame.size() - skip;
    }
    msghdr message{};
    message.msg_iov = buffers.data();
    message.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return WriteStatus::would_block;
      spdlog::debug("write to {} failed: {}", remote_address(), std::strerror(errno));
      return WriteStatus::failed;
    }
    auto left = static_cast<std::size_t>(sent);
    progress.wire_bytes += left;  // frames go out as they are: wire bytes are frame bytes
    progress.frame_bytes += left;
    while (left > 0) {
      const std::size_t rest = frames[cursor.frame]->size() - cursor.offset;
      if (left < rest) {
        cursor.offset += left;
        break;
      }
      left -= rest;
      ++cursor.frame;
      cursor.offset = 0;
    }
  }
  return WriteStatus::done;
}

template <class Socket>
asio::awaitable<std::error_code> StreamTransport<Socket>::wait_writable() {
  auto [ec] = co_await socket_.async_wait(Socket::wait_write, as_tuple(use_awaitable));
  co_return ec;
}

template <class Socket>
void StreamTransport<Socket>::shutdown_send() {
  std::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
}

template <class Socket>
void StreamTransport<Socket>::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

template class StreamTransport<asio::ip::tcp::socket>;
template class StreamTransport<asio::local::stream_protocol::socket>;

}  // namespace parley::server
