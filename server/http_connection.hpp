#pragma once
// One HTTP/1.1 connection: reads request heads (at most 8 KiB, within the header
// timeout), answers them in order with keep-alive, and at GET /ws hands its socket to a
// WebSocket session. Bodies are never read: a request announcing one is answered and the
// connection closed. A template on its byte stream (byte_stream.hpp): SocketStream for
// plain HTTP, TlsStream for HTTPS, where /ws upgrades become wss sessions.
#include <asio.hpp>
#include <memory>
#include <span>
#include <string>

#include "byte_stream.hpp"
#include "http_server.hpp"
#include "parley/protocol/http.hpp"
#include "tls_stream.hpp"

namespace parley::server {

template <class Stream>
class HttpConnection : public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  // `peer_ip` is the client's address, for logs and per-address limits.
  HttpConnection(Stream stream, std::string peer_ip, std::shared_ptr<HttpContext> context);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  static void start(const std::shared_ptr<HttpConnection>& connection);

 private:
  struct Answer {
    std::string response;
    bool close = false;    // end the connection after the response
    bool upgrade = false;  // the response is a 101: the socket becomes a WebSocket
  };

  asio::awaitable<void> serve();
  // Reads what comes next into `buffer`: the byte count, or 0 with the error that ended
  // the connection (the deadline's close among them).
  asio::awaitable<std::size_t> receive(std::span<char> buffer, std::error_code& ec);
  Answer answer(const protocol::HttpRequest& request);
  Answer upgrade(const protocol::HttpRequest& request);
  // Writes all of `bytes`; false when the connection failed or timed out.
  asio::awaitable<bool> send(const std::string& bytes);
  // Ends our side, then reads and discards for a while so that the client's unread
  // request bytes do not turn the close into a reset that loses the response.
  asio::awaitable<void> linger();
  // (Re)starts the deadline that closes the connection.
  void arm_deadline(std::chrono::milliseconds after);

  Stream stream_;
  std::shared_ptr<HttpContext> context_;
  asio::steady_timer deadline_;
  std::string peer_ip_;
  std::string leftover_;  // bytes read past the last head: the next request's start
  bool upgraded_ = false;
};

extern template class HttpConnection<SocketStream<asio::ip::tcp::socket>>;
extern template class HttpConnection<TlsStream>;

}  // namespace parley::server
