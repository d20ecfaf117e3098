#pragma once
// Starts the real parley-server binary on an ephemeral loopback port and watches it:
// its log (stderr), its exit, and its memory and descriptors from /proc.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

using namespace std::chrono_literals;

struct LaunchOptions {
  LaunchOptions(std::vector<std::string> extra_args = {}, std::vector<std::string> extra_env = {},
                std::optional<unsigned long> open_files = std::nullopt)
      : args(std::move(extra_args)), env(std::move(extra_env)), max_open_files(open_files) {}
  std::vector<std::string> args;                // besides --listen 127.0.0.1:0
  std::vector<std::string> env;                 // extra NAME=value entries
  std::optional<unsigned long> max_open_files;  // hard and soft RLIMIT_NOFILE in the child
};

class ServerProcess {
 public:
  explicit ServerProcess(LaunchOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  unsigned short port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  void signal(int signal_number);
  // The exit code once the process ends within `timeout` (128+N when killed by signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s);
  // True once the log holds `needle`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 10s);
  // Waits until `needle` occurs `times` times in the log (the log is read by a thread, so
  // lines may trail the replies a client already has).
  bool wait_for_log_count(const std::string& needle, std::size_t times,
                          std::chrono::milliseconds timeout = 10s);
  std::string log() const;

  // VmRSS in KiB and the number of open descriptors, read from /proc.
  long rss_kib() const;
  int open_descriptors() const;

  // Runs the server binary with `args` to completion: exit code and stderr.
  static std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args,
                                                 const std::vector<std::string>& env = {});
  static std::string binary();

 private:
  void read_log();

  pid_t pid_ = -1;
  int log_fd_ = -1;
  unsigned short port_ = 0;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::condition_variable log_grew_;
  std::string log_;
  bool log_closed_ = false;
  std::thread log_reader_;
};

}  // namespace parley::test
