#include "tls_transport.hpp"

#include <sys/uio.h>

#include <array>

namespace parley::server {
namespace {

// Frames per writev(), as the plain transport: the stream copies them into records anyway.
constexpr std::size_t kMaxIov = 1024;

}  // namespace

WriteStatus TlsTransport::write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                                WriteProgress& progress) {
  std::array<iovec, kMaxIov> buffers;
  while (cursor.frame < frames.size()) {
    std::size_t count = 0;
    for (std::size_t i = cursor.frame; i < frames.size() && count < kMaxIov; ++i, ++count) {
      const std::string& frame = *frames[i];
      const std::size_t skip = i == cursor.frame ? cursor.offset : 0;
      // iovec is not const-qualified; the stream only reads these bytes.
      buffers[count] = {const_cast<char*>(frame.data() + skip), frame.size() - skip};
    }
    const std::size_t wire_before = stream_.wire_bytes_sent();
    std::error_code ec;
    std::size_t left = stream_.writev(buffers.data(), count, ec);
    progress.wire_bytes += stream_.wire_bytes_sent() - wire_before;
    if (ec) {
      return ec == asio::error::would_block ? WriteStatus::would_block : WriteStatus::failed;
    }
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
    // When records wait for the socket the stream kept a byte back, so the next round's
    // writev() says would_block and the session waits for the socket with us.
  }
  return WriteStatus::done;
}

}  // namespace parley::server
