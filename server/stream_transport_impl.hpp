#pragma once
// StreamTransport's definitions, for the files that instantiate it for their stream
// (stream_transport.cpp for sockets, tls_transport.cpp for TLS).
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include <array>

#include "stream_transport.hpp"

namespace parley::server {

template <class Stream>
WriteStatus StreamTransport<Stream>::write(std::span<const SharedFrame> frames, WriteCursor& cursor,
                                           WriteProgress& progress) {
  // Frames per writev: the kernel takes up to IOV_MAX (1024) buffers in one sendmsg.
  constexpr std::size_t kMaxIov = 1024;
  // A stream that adds bytes of its own (TLS records) counts them; a plain socket's wire
  // bytes are the frame bytes.
  constexpr bool kCountsWire = requires(const Stream& s) {
    s.wire_bytes_sent();
  };
  std::array<iovec, kMaxIov> buffers;
  while (cursor.frame < frames.size()) {
    std::size_t count = 0;
    for (std::size_t i = cursor.frame; i < frames.size() && count < kMaxIov; ++i, ++count) {
      const std::string& frame = *frames[i];
      const std::size_t skip = i == cursor.frame ? cursor.offset : 0;
      // iovec is not const-qualified; the stream only reads these bytes.
      buffers[count] = {const_cast<char*>(frame.data() + skip), frame.size() - skip};
    }
    std::size_t wire_before = 0;
    if constexpr (kCountsWire) wire_before = stream_.wire_bytes_sent();
    std::error_code ec;
    std::size_t left = stream_.writev(buffers.data(), count, ec);
    if constexpr (kCountsWire) {
      progress.wire_bytes += stream_.wire_bytes_sent() - wire_before;
    } else {
      progress.wire_bytes += left;
    }
    if (ec) {
      if (ec == asio::error::would_block) return WriteStatus::would_block;
      spdlog::debug("write to {} failed: {}", stream_.remote_address(), ec.message());
      return WriteStatus::failed;
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
    // A TLS stream whose records wait for the socket keeps a byte back, so the next round's
    // writev() says would_block and the session waits for the socket with it.
  }
  return WriteStatus::done;
}

}  // namespace parley::server
