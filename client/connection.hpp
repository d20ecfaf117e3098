#pragma once
// One client connection to a Parley server, driven by coroutines on the caller's
// io_context: connect with a deadline, send lines, read frames with a deadline.
#include <asio.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace parley::client {

struct Endpoint {
  std::string host;
  std::string port;
  std::string text() const { return host + ":" + port; }
};

// "HOST:PORT", "[v6]:PORT" or ":PORT"; empty on a malformed value.
std::optional<Endpoint> parse_endpoint(std::string_view text);

class Connection {
 public:
  enum class Read { frame, timeout, closed };

  explicit Connection(const asio::any_io_executor& executor);

  // Resolves and connects within `timeout`; an empty string on success, else the reason.
  asio::awaitable<std::string> connect(const Endpoint& endpoint, std::chrono::milliseconds timeout);
  // Sends one frame; a '\n' is added. False when the connection is gone.
  asio::awaitable<bool> send(std::string_view frame);
  // Waits up to `timeout` for the next line (without its '\n') into `line`.
  asio::awaitable<Read> read(std::string& line, std::chrono::milliseconds timeout);
  // The next line already received, if any, without waiting.
  bool buffered(std::string& line);

  void shutdown_send();
  void close();
  // Closes with a TCP reset, as a crashed client would.
  void reset();
  bool is_open() const { return socket_.is_open(); }

 private:
  asio::ip::tcp::socket socket_;
  std::string buffer_;
};

}  // namespace parley::client
