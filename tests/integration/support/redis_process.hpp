#pragma once
// A real redis-server for tests: started on a free loopback port in a temporary directory
// (no persistence: --save '' --appendonly no), ready when it answers PING, stopped and
// its directory removed on destruction.
#include <sys/types.h>

#include <string>
#include <vector>

namespace parley::test {

class RedisProcess {
 public:
  // `extra` goes after the standard arguments (for example --requirepass).
  explicit RedisProcess(std::vector<std::string> extra = {});
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  unsigned short port() const noexcept { return port_; }
  std::string url(int db = 0) const;
  // Stops the server (SIGTERM, then waits for it); start() brings it back on the same port.
  void stop();
  void start();
  bool running() const noexcept { return pid_ > 0; }
  // Sends one command inline (no spaces inside arguments) and returns the first reply line.
  std::string command(const std::string& line, const std::string& password = {}) const;

 private:
  std::vector<std::string> extra_;
  std::string dir_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace parley::test
