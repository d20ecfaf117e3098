#pragma once
// Lines from standard input, awaited on the event loop. Pipes and terminals are watched by
// the reactor; a regular file (which epoll refuses) is read directly, as it never blocks.
#include <asio.hpp>
#include <optional>
#include <string>

namespace parley::client {

class InputLines {
 public:
  explicit InputLines(const asio::any_io_executor& executor, int fd = 0);
  ~InputLines();
  InputLines(const InputLines&) = delete;
  InputLines& operator=(const InputLines&) = delete;

  // The next line without its line end; empty at end of input.
  asio::awaitable<std::optional<std::string>> next();
  void cancel();

 private:
  std::optional<asio::posix::stream_descriptor> stream_;
  int plain_fd_ = -1;  // a regular file, read synchronously
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace parley::client
