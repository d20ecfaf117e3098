#include "line_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace parley::test {

bool matches(const json& actual, const json& partial) {
  if (partial.is_object()) {
    if (!actual.is_object()) return false;
    for (const auto& [key, value] : partial.items()) {
      const auto it = actual.find(key);
      if (it == actual.end() || !matches(*it, value)) return false;
    }
    return true;
  }
  return actual == partial;
}

LineClient::LineClient(unsigned short port) : LineClient(port, std::string()) {}

LineClient::LineClient(unsigned short port, const std::string& source_ip) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (!source_ip.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr) != 1 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("bind to " + source_ip + ": " + std::strerror(error));
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect: ") + std::strerror(error));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

LineClient::~LineClient() {
  close();
}

LineClient::LineClient(LineClient&& other) noexcept
    : fd_(other.fd_),
      closed_(other.closed_),
      buffer_(std::move(other.buffer_)),
      head_(other.head_),
      scanned_(other.scanned_),
      next_sync_(other.next_sync_) {
  other.fd_ = -1;
}

void LineClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void LineClient::send(const json& frame) {
  send_raw(frame.dump() + "\n");
}

void LineClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool LineClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && errno == ECONNRESET) reset_ = true;
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<std::string> LineClient::recv_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(head_, newline - head_);
      head_ = scanned_ = newline + 1;
      // Consumed bytes are dropped in bulk, not line by line.
      if (head_ > 64 * 1024 && head_ * 2 > buffer_.size()) {
        buffer_.erase(0, head_);
        scanned_ -= head_;
        head_ = 0;
      }
      return line;
    }
    scanned_ = buffer_.size();
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<json> LineClient::try_recv(std::chrono::milliseconds timeout) {
  auto line = recv_line(timeout);
  if (!line) return std::nullopt;
  return json::parse(*line);
}

json LineClient::recv(std::chrono::milliseconds timeout) {
  auto frame = try_recv(timeout);
  if (!frame)
    throw std::runtime_error(closed_ ? "connection closed while waiting for a frame"
                                     : "no frame in time");
  return *frame;
}

json LineClient::expect(const json& partial, std::chrono::milliseconds timeout) {
  const json frame = recv(timeout);
  if (!matches(frame, partial)) {
    throw std::runtime_error("expected a frame matching " + partial.dump() + ", got " +
                             frame.dump());
  }
  return frame;
}

std::vector<json> LineClient::sync() {
  const std::string id = "sync-" + std::to_string(next_sync_++);
  send({{"op", "ping"}, {"id", id}});
  std::vector<json> before;
  while (true) {
    json frame = recv();
    if (frame.value("op", "") == "pong" && frame.value("id", json()) == id) return before;
    before.push_back(std::move(frame));
  }
}

void LineClient::expect_nothing() {
  const auto frames = sync();
  if (!frames.empty()) throw std::runtime_error("expected nothing, got " + json(frames).dump());
}

std::vector<json> LineClient::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<json> frames;
  while (true) {
    const auto newline = buffer_.find('\n', head_);
    if (newline != std::string::npos) {
      frames.push_back(json::parse(buffer_.substr(head_, newline - head_)));
      head_ = scanned_ = newline + 1;
      continue;
    }
    if (!fill(deadline)) break;
  }
  if (!closed_) throw std::runtime_error("the server did not close the connection in time");
  return frames;
}

json LineClient::hello(const std::string& name, json extra) {
  extra["op"] = "hello";
  extra["name"] = name;
  extra["id"] = "hello";
  send(extra);
  return expect({{"op", "welcome"}, {"id", "hello"}, {"name", name}});
}

void LineClient::abort() {
  linger hard{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close();
}

void LineClient::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace parley::test
