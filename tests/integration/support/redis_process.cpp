#include "redis_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace parley::test {

namespace {

unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// One request and the first line of its answer; empty when nothing answers.
std::string exchange(unsigned short port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char c = 0;
    while (::recv(fd, &c, 1, 0) == 1 && c != '\n') reply += c;
  }
  ::close(fd);
  if (!reply.empty() && reply.back() == '\r') reply.pop_back();
  return reply;
}

}  // namespace

RedisProcess::RedisProcess(std::vector<std::string> extra) : extra_(std::move(extra)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "parley-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  port_ = free_port();
  start();
}

RedisProcess::~RedisProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisProcess::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + (db != 0 ? "/" + std::to_string(db) : "");
}

void RedisProcess::start() {
  if (pid_ > 0) return;
  std::vector<std::string> args{"redis-server",
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                dir_};
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/redis.log";
    if (std::freopen(log.c_str(), "a", stdout) == nullptr) std::_Exit(126);
    ::execvp("redis-server", argv.data());
    std::_Exit(127);
  }
  // Ready when it answers; a server with a password answers PING with NOAUTH, also ready.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!exchange(port_, "PING\r\n").empty()) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start (port " + std::to_string(port_) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child's start
  }
  throw std::runtime_error("redis-server did not answer within 10 s");
}

void RedisProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string RedisProcess::command(const std::string& line, const std::string& password) const {
  std::string request;
  if (!password.empty()) request += "AUTH " + password + "\r\n";
  request += line + "\r\n";
  if (password.empty()) return exchange(port_, request);
  // Two answers come back; the second is the command's.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port_);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) > 0) {
    int lines = 0;
    char c = 0;
    while (lines < 2 && ::recv(fd, &c, 1, 0) == 1) {
      if (c == '\n') {
        ++lines;
        if (lines < 2) reply.clear();
      } else if (c != '\r') {
        reply += c;
      }
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace parley::test
