#pragma once
// Starts the real parley-server binary on an ephemeral loopback port and watches it:
// its log (stderr), its exit, and its memory and descriptors from /proc.
//
// The topology comes from the environment, PARLEY_TEST_TOPOLOGY: unset or "single" is one
// server; "cluster3" is one redis-server and three parley-server nodes on it, each with the
// test's arguments plus --cluster (PROTOCOL.md § Clusters), so that the same test runs
// against a cluster. In cluster3 the methods mean:
//   port()          the nodes' ports in turn, so consecutive clients land on different nodes
//   pid(), rss_kib(), open_descriptors()   node 0 (tests of them are single-node by nature)
//   signal()        every node
//   wait_exit()     every node has exited; the first non-zero code in node order, else 0
//   wait_for_log()  any node's log holds the needle; wait_for_log_count() sums the nodes;
//                   wait_for_log_on_every_node() waits for all of them
//   log()           every node's log, each after a "--- node N ---" line
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

using namespace std::chrono_literals;

class RedisProcess;

// How many parley-server processes a ServerProcess starts.
enum class Topology { single, cluster3 };
// PARLEY_TEST_TOPOLOGY, read once; an unknown value throws (a typo must not run single).
Topology topology();

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

  // One node's port; in cluster3 the next node's on each call (see the top of this file).
  unsigned short port() const noexcept;
  pid_t pid() const noexcept;
  std::size_t node_count() const noexcept { return nodes_.size(); }

  void signal(int signal_number);
  // The exit code once the process ends within `timeout` (128+N when killed by signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 10s);
  // True once the log holds `needle`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = 10s);
  // True once every node's log holds `needle` (one server: as wait_for_log). For what each
  // node does on its own, such as handling a signal.
  bool wait_for_log_on_every_node(const std::string& needle,
                                  std::chrono::milliseconds timeout = 10s);
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
  // One parley-server process; `log` and `log_closed` are guarded by the ServerProcess's
  // mutex_ (its reader thread appends), the rest belongs to the test's thread.
  struct Node {
    pid_t pid = -1;
    int log_fd = -1;
    unsigned short port = 0;
    std::optional<int> exit_code;
    std::string log;
    bool log_closed = false;
    std::thread log_reader;
  };

  void start_node(const std::vector<std::string>& argv, const LaunchOptions& options);
  // Waits for every node to listen (and, in a cluster, to be registered in the store).
  void await_ready();
  // Kills what still runs and joins the log readers.
  void stop_all();
  void read_log(Node& node);
  // Waits on log_grew_ (lock held) until `ready` or the deadline; throws with every log.
  template <typename Ready>
  void await(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout,
             const std::string& what, Ready ready);

  std::unique_ptr<RedisProcess> redis_;  // cluster3 only
  std::vector<std::unique_ptr<Node>> nodes_;
  mutable std::atomic<std::size_t> next_node_{0};
  mutable std::mutex mutex_;
  std::condition_variable log_grew_;
};

}  // namespace parley::test
