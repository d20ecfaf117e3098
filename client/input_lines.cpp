#include "input_lines.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>

namespace parley::client {

using asio::use_awaitable;
using asio::experimental::as_tuple;

InputLines::InputLines(const asio::any_io_executor& executor, int fd) {
  struct stat info {};
  const int copy = ::dup(fd);
  if (copy >= 0 && fstat(copy, &info) == 0 && S_ISREG(info.st_mode)) {
    plain_fd_ = copy;
  } else if (copy >= 0) {
    stream_.emplace(executor, copy);
  } else {
    eof_ = true;
  }
}

InputLines::~InputLines() {
  if (plain_fd_ >= 0) ::close(plain_fd_);
}

void InputLines::cancel() {
  if (stream_) {
    std::error_code ignored;
    stream_->cancel(ignored);
  }
}

asio::awaitable<std::optional<std::string>> InputLines::next() {
  while (true) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    if (eof_) {
      if (buffer_.empty()) co_return std::nullopt;
      std::string last = std::move(buffer_);
      buffer_.clear();
      co_return last;
    }
    char chunk[4096];
    if (plain_fd_ >= 0) {
      const ssize_t n = ::read(plain_fd_, chunk, sizeof chunk);
      if (n <= 0) {
        eof_ = true;
      } else {
        buffer_.append(chunk, static_cast<std::size_t>(n));
      }
      continue;
    }
    auto [ec, n] = co_await stream_->async_read_some(asio::buffer(chunk), as_tuple(use_awaitable));
    if (ec) {
      eof_ = true;
    } else {
      buffer_.append(chunk, n);
    }
  }
}

}  // namespace parley::client
