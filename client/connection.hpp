#pragma once
// One client connection to a Parley server, driven by coroutines on the caller's
// io_context: connect with a deadline, send lines, read frames with a deadline. It answers
// the server's heartbeat `ping` itself, so no caller has to.
#include <asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "parley/common/endpoint.hpp"

namespace parley::client {

using common::Endpoint;

class Connection {
 public:
  enum class Read { frame, timeout, closed };

  explicit Connection(const asio::any_io_executor& executor);

  // Resolves and connects within `timeout`; an empty string on success, else the reason.
  asio::awaitable<std::string> connect(const Endpoint& endpoint, std::chrono::milliseconds timeout);
  // Sends one frame; a '\n' is added. Frames sent while another send is still writing
  // are queued behind it and written in order (the call returns once queued). False when
  // the connection is gone.
  asio::awaitable<bool> send(std::string_view frame);
  // Waits up to `timeout` for the next line (without its '\n') into `line`. A server
  // `ping` is answered with `pong` and not returned, unless set_answer_pings(false).
  asio::awaitable<Read> read(std::string& line, std::chrono::milliseconds timeout);
  // The next line already received, if any, without waiting (pings included).
  bool buffered(std::string& line);
  // `raw` and scripts see every frame as it came, pings included.
  void set_answer_pings(bool answer) { answer_pings_ = answer; }

  void shutdown_send();
  void close();
  // Closes with a TCP reset, as a crashed client would.
  void reset();
  bool is_open() const { return socket_.is_open(); }

 private:
  asio::ip::tcp::socket socket_;
  std::string buffer_;
  std::string outbox_;  // frames waiting while a write is in flight
  bool writing_ = false;
  bool answer_pings_ = true;
};

// True for the server's heartbeat frame, {"op":"ping"} (with or without other fields).
bool is_server_ping(std::string_view line);

}  // namespace parley::client
