#pragma once
// A Transport that speaks the line protocol over TLS (TlsStream, the TLS engine), for a
// session that knows nothing of it. Frames go out as they are, gathered like the plain
// TCP transport's; the stream packs them into records (several small frames per record).
#include <asio.hpp>
#include <string>

#include "tls_stream.hpp"
#include "transport.hpp"

namespace parley::server {

class TlsTransport final : public Transport {
 public:
  // Takes a stream whose handshake is done.
  explicit TlsTransport(TlsStream stream) : stream_(std::move(stream)) {}

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
  TlsStream stream_;
};

}  // namespace parley::server
