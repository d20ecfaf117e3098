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

ServerProcess::ServerProcess(LaunchOptions options) {
  // No HTTP listener unless a test asks for one: parallel servers would share its port.
  std::vector<std::string> argv{binary(), "--listen", "127.0.0.1:0"};
  const bool http_asked =
      std::find(options.args.begin(), options.args.end(), "--http-listen") != options.args.end();
  if (!http_asked) argv.insert(argv.end(), {"--http-listen", "off"});
  for (auto& a : options.args) argv.push_back(a);
  pid_ = spawn(argv, options.env, options.max_open_files, log_fd_);
  log_reader_ = std::thread([this] { read_log(); });

  std::unique_lock lock(mutex_);
  const std::regex listening(R"(listening on [0-9.]+:([0-9]+))");
  std::smatch match;
  const bool ready = log_grew_.wait_for(
      lock, 10s, [&] { return std::regex_search(log_, match, listening) || log_closed_; });
  if (!ready || match.empty()) {
    const std::string seen = log_;
    lock.unlock();
    throw std::runtime_error("parley-server did not start listening; log:\n" + seen);
  }
  port_ = static_cast<unsigned short>(std::stoi(match[1].str()));
}

ServerProcess::~ServerProcess() {
  if (!exit_code_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (log_reader_.joinable()) log_reader_.join();
  if (log_fd_ >= 0) close(log_fd_);
}

void ServerProcess::read_log() {
  char buffer[4096];
  while (true) {
    const ssize_t n = read(log_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    log_.append(buffer, static_cast<std::size_t>(n));
    log_grew_.notify_all();
  }
  std::lock_guard lock(mutex_);
  log_closed_ = true;
  log_grew_.notify_all();
}

void ServerProcess::signal(int signal_number) {
  kill(pid_, signal_number);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The log pipe closes when the process exits (it holds the only write end).
  {
    std::unique_lock lock(mutex_);
    log_grew_.wait_until(lock, deadline, [&] { return log_closed_; });
  }
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = decode_status(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // The pipe closed but the kernel has not reaped yet: a short poll, bounded by the deadline.
    std::this_thread::sleep_for(5ms);
  }
}

bool ServerProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return log_grew_.wait_for(lock, timeout, [&] { return log_.find(needle) != std::string::npos; });
}

bool ServerProcess::wait_for_log_count(const std::string& needle, std::size_t times,
                                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return log_grew_.wait_for(lock, timeout, [&] {
    std::size_t found = 0;
    for (auto at = log_.find(needle); at != std::string::npos; at = log_.find(needle, at + 1))
      ++found;
    return found >= times;
  });
}

std::string ServerProcess::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

long ServerProcess::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int ServerProcess::open_descriptors() const {
  const std::string path = "/proc/" + std::to_string(pid_) + "/fd";
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
