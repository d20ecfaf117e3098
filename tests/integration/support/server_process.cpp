#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <stdexcept>

#include "redis_process.hpp"

namespace parley::test {
namespace {

std::vector<char*> to_argv(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& item : items) out.push_back(item.data());
  out.push_back(nullptr);
  return out;
}

// fork + exec with stderr (and stdout) on a pipe. Only async-signal-safe calls after fork.
pid_t spawn(std::vector<std::string> argv, const std::vector<std::string>& extra_env,
            std::optional<unsigned long> max_open_files, int& read_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& e : extra_env) env.push_back(e);
  auto c_argv = to_argv(argv);
  auto c_env = to_argv(env);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    if (max_open_files) {
      rlimit limit{*max_open_files, *max_open_files};
      setrlimit(RLIMIT_NOFILE, &limit);
    }
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  close(fds[1]);
  read_fd = fds[0];
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string ServerProcess::binary() {
  if (const char* path = std::getenv("PARLEY_SERVER_BINARY")) return path;
  return PARLEY_SERVER_PATH;
}

Topology topology() {
  static const Topology chosen = [] {
    const char* value = std::getenv("PARLEY_TEST_TOPOLOGY");
    const std::string name = value != nullptr ? value : "";
    if (name.empty() || name == "single") return Topology::single;
    if (name == "cluster3") return Topology::cluster3;
    throw std::runtime_error("PARLEY_TEST_TOPOLOGY must be single or cluster3, not " + name);
  }();
  return chosen;
}

ServerProcess::ServerProcess(LaunchOptions options) {
  // No HTTP listener unless a test asks for one: parallel servers would share its port.
  std::vector<std::string> argv{binary(), "--listen", "127.0.0.1:0"};
  const bool http_asked =
      std::find(options.args.begin(), options.args.end(), "--http-listen") != options.args.end();
  if (!http_asked) argv.insert(argv.end(), {"--http-listen", "off"});
  for (auto& a : options.args) argv.push_back(a);
  std::size_t count = 1;
  if (topology() == Topology::cluster3) {
    redis_ = std::make_unique<RedisProcess>();
    argv.insert(argv.end(), {"--cluster", redis_->url()});
    count = 3;
  }
  try {
    for (std::size_t i = 0; i < count; ++i) start_node(argv, options);
    await_ready();
  } catch (...) {
    stop_all();  // no destructor runs for a half-built object: the readers must be joined
    throw;
  }
}

void ServerProcess::await_ready() {
  std::unique_lock lock(mutex_);
  const std::regex listening(R"(listening on [0-9.]+:([0-9]+))");
  for (auto& node : nodes_) {
    std::smatch match;
    await(lock, 10s, "start listening",
          [&] { return std::regex_search(node->log, match, listening) || node->log_closed; });
    if (match.empty()) await(lock, 0ms, "start listening", [] { return false; });  // exited
    node->port = static_cast<unsigned short>(std::stoi(match[1].str()));
  }
  if (nodes_.size() == 1) return;
  // Every node has its store link ready once it logs its first count (requests before that
  // are refused with unavailable); the node that registered last counts all of them.
  const std::string all = "counts " + std::to_string(nodes_.size()) + " nodes";
  await(lock, 20s, "form a cluster", [&] {
    bool everyone_counted = true;
    bool someone_sees_all = false;
    for (const auto& node : nodes_) {
      everyone_counted = everyone_counted && node->log.find(" counts ") != std::string::npos;
      someone_sees_all = someone_sees_all || node->log.find(all) != std::string::npos;
    }
    return everyone_counted && someone_sees_all;
  });
}

void ServerProcess::start_node(const std::vector<std::string>& argv, const LaunchOptions& options) {
  auto node = std::make_unique<Node>();
  node->pid = spawn(argv, options.env, options.max_open_files, node->log_fd);
  Node& started = *node;
  {
    std::lock_guard lock(mutex_);
    nodes_.push_back(std::move(node));
  }
  started.log_reader = std::thread([this, &started] { read_log(started); });
}

template <typename Ready>
void ServerProcess::await(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds timeout,
                          const std::string& what, Ready ready) {
  if (log_grew_.wait_for(lock, timeout, ready)) return;
  std::string seen;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    seen += "--- node " + std::to_string(i) + " ---\n" + nodes_[i]->log;
  lock.unlock();
  throw std::runtime_error("parley-server did not " + what + "; log:\n" + seen);
}

ServerProcess::~ServerProcess() {
  stop_all();
}

void ServerProcess::stop_all() {
  for (auto& node : nodes_) {
    if (!node->exit_code && node->pid > 0) {
      kill(node->pid, SIGKILL);
      int status = 0;
      waitpid(node->pid, &status, 0);
      node->exit_code = decode_status(status);
    }
    if (node->log_reader.joinable()) node->log_reader.join();
    if (node->log_fd >= 0) close(node->log_fd);
    node->log_fd = -1;
  }
  // redis_ is destroyed after this (member order), once every node is gone.
}

unsigned short ServerProcess::port() const noexcept {
  return nodes_[next_node_++ % nodes_.size()]->port;
}

pid_t ServerProcess::pid() const noexcept {
  return nodes_.front()->pid;
}

void ServerProcess::read_log(Node& node) {
  char buffer[4096];
  while (true) {
    const ssize_t n = read(node.log_fd, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    node.log.append(buffer, static_cast<std::size_t>(n));
    log_grew_.notify_all();
  }
  std::lock_guard lock(mutex_);
  node.log_closed = true;
  log_grew_.notify_all();
}

void ServerProcess::signal(int signal_number) {
  for (const auto& node : nodes_) kill(node->pid, signal_number);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The log pipe closes when the process exits (it holds the only write end).
  {
    std::unique_lock lock(mutex_);
    log_grew_.wait_until(lock, deadline, [&] {
      return std::all_of(nodes_.begin(), nodes_.end(),
                         [](const auto& node) { return node->log_closed; });
    });
  }
  std::optional<int> worst;
  for (auto& node : nodes_) {
    while (!node->exit_code) {
      int status = 0;
      if (waitpid(node->pid, &status, WNOHANG) == node->pid) {
        node->exit_code = decode_status(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      // The pipe closed but the kernel has not reaped yet: a short poll, bounded by the
      // deadline.
      std::this_thread::sleep_for(5ms);
    }
    if (!worst || (*worst == 0 && *node->exit_code != 0)) worst = node->exit_code;
  }
  return worst;
}

bool ServerProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return log_grew_.wait_for(lock, timeout, [&] {
    return std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& node) {
      return node->log.find(needle) != std::string::npos;
    });
  });
}

bool ServerProcess::wait_for_log_on_every_node(const std::string& needle,
                                               std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return log_grew_.wait_for(lock, timeout, [&] {
    return std::all_of(nodes_.begin(), nodes_.end(), [&](const auto& node) {
      return node->log.find(needle) != std::string::npos;
    });
  });
}

bool ServerProcess::wait_for_log_count(const std::string& needle, std::size_t times,
                                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return log_grew_.wait_for(lock, timeout, [&] {
    std::size_t found = 0;
    for (const auto& node : nodes_) {
      const std::string& log = node->log;
      for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
        ++found;
    }
    return found >= times;
  });
}

std::string ServerProcess::log() const {
  std::lock_guard lock(mutex_);
  if (nodes_.size() == 1) return nodes_.front()->log;
  std::string all;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    all += "--- node " + std::to_string(i) + " ---\n" + nodes_[i]->log;
  return all;
}

long ServerProcess::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int ServerProcess::open_descriptors() const {
  const std::string path = "/proc/" + std::to_string(pid()) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

std::pair<int, std::string> ServerProcess::run_to_exit(const std::vector<std::string>& args,
                                                       const std::vector<std::string>& env) {
  std::vector<std::string> argv{binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  int fd = -1;
  const pid_t pid = spawn(argv, env, std::nullopt, fd);
  std::string output;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0)
    output.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  return {decode_status(status), output};
}

}  // namespace parley::test
