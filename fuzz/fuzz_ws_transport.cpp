// WsTransport's message-to-line path: client bytes in arbitrary chunkings, read through
// read_some() into session buffers of arbitrary sizes, against a reference built from one
// whole-buffer WsReader. Input layout: a max_frame selector, a session-buffer size, a count
// of chunk sizes and the sizes (used in turn), then the stream. The lines handed to the
// session must be each text message (one trailing "\n" or "\r\n" dropped, inner line ends
// replaced) plus "\n"; the end must be the reference's (eof for a close or the end of the
// bytes, message_size for a message over max_frame, protocol_error for other errors); the
// pongs written must answer the pings before the end, in order.
#include <sys/uio.h>

#include <algorithm>
#include <asio.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "parley/protocol/websocket.hpp"
#include "ws_transport_impl.hpp"

namespace {

[[noreturn]] void fail() {
  std::abort();
}

// An in-memory stream: reads give the chunks in turn, then eof; writes are collected.
class MemoryStream {
 public:
  MemoryStream(asio::io_context& io, std::string_view input, std::vector<std::size_t> chunks)
      : io_(&io), input_(input), chunks_(std::move(chunks)) {}
  asio::any_io_executor get_executor() { return io_->get_executor(); }
  std::string remote_address() const { return "memory"; }
  asio::awaitable<std::error_code> wait_readable() { co_return std::error_code{}; }
  asio::awaitable<std::error_code> wait_writable() { co_return std::error_code{}; }
  std::size_t read_some(std::span<char> buffer, std::error_code& ec) {
    if (input_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    std::size_t n = chunks_.empty() ? input_.size() : chunks_[next_++ % chunks_.size()];
    n = std::min({std::max<std::size_t>(n, 1), input_.size(), buffer.size()});
    std::copy_n(input_.data(), n, buffer.data());
    input_.remove_prefix(n);
    ec.clear();
    return n;
  }
  std::size_t writev(const iovec* buffers, std::size_t count, std::error_code& ec) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count; ++i) {
      written_->append(static_cast<const char*>(buffers[i].iov_base), buffers[i].iov_len);
      n += buffers[i].iov_len;
    }
    ec.clear();
    return n;
  }
  void shutdown_send() {}
  void close() {}
  bool is_open() const { return true; }
  void collect_into(std::string* written) { written_ = written; }

 private:
  asio::io_context* io_;
  std::string_view input_;
  std::vector<std::size_t> chunks_;
  std::size_t next_ = 0;
  std::string* written_ = nullptr;
};

}  // namespace

template class parley::server::WsTransport<MemoryStream>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using parley::protocol::WsEvent;
  if (size < 3) return 0;
  const std::size_t max_frame = 1 + data[0] % 200;
  const std::size_t buffer_size = 1 + data[1] % 64;
  const std::size_t chunk_count = data[2] % 8;
  if (size < 3 + chunk_count) return 0;
  std::vector<std::size_t> chunks(data + 3, data + 3 + chunk_count);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3 + chunk_count,
                                size - 3 - chunk_count);

  // The reference: one reader over everything.
  std::string expected_lines;
  std::string expected_pongs;
  std::error_code expected_end = asio::error::eof;
  parley::protocol::WsReader reference(max_frame + 2);
  reference.feed(stream);
  while (const auto event = reference.next()) {
    bool end = false;
    switch (event->kind) {
      case WsEvent::Kind::text: {
        std::string message(event->payload);
        if (message.ends_with("\r\n")) {
          message.resize(message.size() - 2);
        } else if (message.ends_with('\n')) {
          message.pop_back();
        }
        if (message.size() > max_frame) {
          expected_end = std::make_error_code(std::errc::message_size);
          end = true;
          break;
        }
        std::replace(message.begin(), message.end(), '\n', '\x1e');
        expected_lines += message + '\n';
        break;
      }
      case WsEvent::Kind::ping:
        expected_pongs += parley::protocol::build_ws_pong(event->payload);
        break;
      case WsEvent::Kind::pong:
        break;
      case WsEvent::Kind::close:
        end = true;
        break;
      case WsEvent::Kind::error:
        expected_end = std::make_error_code(
            event->code == parley::protocol::ws_close::message_too_big ? std::errc::message_size
                                                                       : std::errc::protocol_error);
        end = true;
        break;
    }
    if (end) break;
  }

  asio::io_context io;
  std::string written;
  MemoryStream memory(io, stream, chunks);
  memory.collect_into(&written);
  parley::server::WsTransport<MemoryStream> transport(std::move(memory), max_frame, {});
  std::string lines;
  std::vector<char> buffer(buffer_size);
  std::error_code ec;
  for (std::size_t calls = 0;; ++calls) {
    if (calls > 4 * size + 16) fail();  // no progress
    const std::size_t n = transport.read_some(buffer, ec);
    if (ec == asio::error::would_block) continue;
    if (ec) break;
    if (n == 0) fail();
    lines.append(buffer.data(), n);
  }
  if (lines != expected_lines) fail();
  if (ec != expected_end) fail();
  if (written != expected_pongs) fail();
  return 0;
}
