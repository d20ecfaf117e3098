#include "tls_tools.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace parley::test {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

TestCerts::TestCerts() {
  // TMPDIR when set, else the system's temporary directory.
  std::string pattern =
      (std::filesystem::temp_directory_path() / "parley-tls-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  const auto [code, output] =
      run_shell(std::string("'") + PARLEY_MAKE_TEST_CERTS + "' '" + dir_ + "' 2>&1");
  if (code != 0) throw std::runtime_error("making test certificates failed:\n" + output);
}

TestCerts::~TestCerts() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void TestCerts::copy(const std::string& from, const std::string& to) const {
  std::filesystem::copy_file(path(from), path(to),
                             std::filesystem::copy_options::overwrite_existing);
}

OpensslClient::OpensslClient(const TestCerts& certs, unsigned short port,
                             std::vector<std::string> extra) {
  std::vector<std::string> argv{"openssl",    "s_client",
                                "-connect",   "127.0.0.1:" + std::to_string(port),
                                "-quiet",     "-verify_return_error",
                                "-CAfile",    certs.path("ca.pem"),
                                "-verify_ip", "127.0.0.1"};
  for (auto& e : extra) argv.push_back(std::move(e));
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  int to_child[2], from_child[2], errors[2];
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0 ||
      pipe2(errors, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    dup2(errors[1], STDERR_FILENO);
    execvp(c_argv[0], c_argv.data());
    _exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(errors[1]);
  in_ = to_child[1];
  out_ = from_child[0];
  err_ = errors[0];
  fcntl(err_, F_SETFL, O_NONBLOCK);
}

OpensslClient::~OpensslClient() {
  close_fd(in_);
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  close_fd(out_);
  close_fd(err_);
}

void OpensslClient::send(const nlohmann::json& frame) {
  const std::string line = frame.dump() + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(in_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("s_client took no input (it has ended)");
    done += static_cast<std::size_t>(n);
  }
}

bool OpensslClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    std::array<char, 16384> chunk{};
    const ssize_t n = ::read(out_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<std::string> OpensslClient::recv_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

nlohmann::json OpensslClient::expect(const nlohmann::json& partial,
                                     std::chrono::milliseconds timeout) {
  const auto line = recv_line(timeout);
  if (!line) {
    throw std::runtime_error("no line from s_client (expected " + partial.dump() + "); " +
                             diagnostics());
  }
  const auto frame = nlohmann::json::parse(*line);
  for (const auto& [key, value] : partial.items()) {
    if (!frame.contains(key) || frame[key] != value) {
      throw std::runtime_error("expected a frame matching " + partial.dump() + ", got " + *line);
    }
  }
  return frame;
}

std::vector<std::string> OpensslClient::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines;
  while (true) {
    if (auto line = recv_line(std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()))) {
      lines.push_back(std::move(*line));
      continue;
    }
    break;
  }
  if (!closed_) throw std::runtime_error("s_client's connection did not end in time");
  return lines;
}

void OpensslClient::drain_stderr() {
  std::array<char, 4096> chunk{};
  ssize_t n = 0;
  while ((n = ::read(err_, chunk.data(), chunk.size())) > 0) {
    errors_.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

std::string OpensslClient::diagnostics() {
  drain_stderr();
  return "s_client said: " + errors_;
}

std::pair<int, std::string> run_shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  std::string output;
  std::array<char, 4096> chunk{};
  std::size_t n = 0;
  while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0) output.append(chunk.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace parley::test
