#include "byte_stream.hpp"

#include <sys/socket.h>

#include <asio/experimental/as_tuple.hpp>
#include <cerrno>
#include <type_traits>

namespace parley::server {

using asio::use_awaitable;
using asio::experimental::as_tuple;

template <class Socket>
SocketStream<Socket>::SocketStream(Socket socket) : socket_(std::move(socket)) {
  std::error_code ec;
  if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  }
  socket_.non_blocking(true, ec);
}

template <class Socket>
std::string SocketStream<Socket>::remote_address() const {
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
asio::awaitable<std::error_code> SocketStream<Socket>::wait_readable() {
  auto [ec] = co_await socket_.async_wait(Socket::wait_read, as_tuple(use_awaitable));
  co_return ec;
}

template <class Socket>
asio::awaitable<std::error_code> SocketStream<Socket>::wait_writable() {
  auto [ec] = co_await socket_.async_wait(Socket::wait_write, as_tuple(use_awaitable));
  co_return ec;
}

template <class Socket>
std::size_t SocketStream<Socket>::read_some(std::span<char> buffer, std::error_code& ec) {
  return socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
}

template <class Socket>
std::size_t SocketStream<Socket>::writev(const iovec* buffers, std::size_t count,
                                         std::error_code& ec) {
  msghdr message{};
  // sendmsg's iovec is not const-qualified; the kernel only reads these bytes.
  message.msg_iov = const_cast<iovec*>(buffers);
  message.msg_iovlen = count;
  while (true) {
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL);
    if (sent >= 0) {
      ec.clear();
      return static_cast<std::size_t>(sent);
    }
    if (errno == EINTR) continue;
    ec = (errno == EAGAIN || errno == EWOULDBLOCK) ? make_error_code(asio::error::would_block)
                                                   : std::error_code(errno, std::system_category());
    return 0;
  }
}

template <class Socket>
void SocketStream<Socket>::shutdown_send() {
  std::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
}

template <class Socket>
void SocketStream<Socket>::close() {
  std::error_code ignored;
  socket_.close(ignored);
}

template class SocketStream<asio::ip::tcp::socket>;
template class SocketStream<asio::local::stream_protocol::socket>;

}  // namespace parley::server
