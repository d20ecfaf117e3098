#pragma once
// One HTTP/1.1 connection: reads request heads (at most 8 KiB, within the header
// timeout), answers them in order with keep-alive, and at GET /ws hands its socket to a
// WebSocket session. Bodies are never read: a request announcing one is answered and the
// connection closed.
#include <asio.hpp>
#include <memory>
#include <string>

#include "http_server.hpp"
#include "parley/protocol/http.hpp"

namespace parley::server {

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(asio::ip::tcp::socket socket, std::shared_ptr<HttpContext> context);
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
  Answer answer(const protocol::HttpRequest& request);
  Answer upgrade(const protocol::HttpRequest& request);
  // Writes all of `bytes`; false when the connection failed or timed out.
  asio::awaitable<bool> send(const std::string& bytes);
  // Ends our side, then reads and discards for a while so that the client's unread
  // request bytes do not turn the close into a reset that loses the response.
  asio::awaitable<void> linger();
  // (Re)starts the deadline that closes the socket.
  void arm_deadline(std::chrono::milliseconds after);

  asio::ip::tcp::socket socket_;
  std::shared_ptr<HttpContext> context_;
  asio::steady_timer deadline_;
  std::string peer_ip_;
  std::string leftover_;  // bytes read past the last head: the next request's start
  bool upgraded_ = false;
};

}  // namespace parley::server
