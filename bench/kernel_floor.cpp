// The kernel's floor for a fan-out: what a server that does nothing but copy pre-built
// frames to its subscribers' sockets costs on this machine. One thread writes the same
// frame, `--batch` copies per gathered write (one iovec per frame, as the server's shared
// frames go out), to each of `--subs` loopback TCP connections in turn; another thread
// reads them all and throws the bytes away. The writer's own CPU time per delivered frame
// is the floor the server's CPU per delivery is compared with (docs/performance.md).
//
// Usage: parley-kernel-floor [--subs N=10] [--frame BYTES=215] [--batch N=256]
//                            [--msgs N=1000000] [--json]
// Loopback only; no protocol, no parsing, no allocation in the loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  int subs = 10;
  std::size_t frame = 215;  // a `msg` frame for a 128-byte payload, '\n' included
  std::size_t batch = 256;
  std::uint64_t msgs = 1'000'000;
  bool json = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "parley-kernel-floor: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

std::uint64_t number(const char* text, const char* flag) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value == 0) {
    std::fprintf(stderr, "parley-kernel-floor: %s wants a positive number, not '%s'\n", flag, text);
    std::exit(2);
  }
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&](const char* flag) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "parley-kernel-floor: %s needs a value\n", flag);
        std::exit(2);
      }
      return number(argv[++i], flag);
    };
    if (arg == "--subs")
      o.subs = static_cast<int>(std::min<std::uint64_t>(value("--subs"), 1000));
    else if (arg == "--frame")
      o.frame = value("--frame");
    else if (arg == "--batch")
      o.batch = std::min<std::uint64_t>(value("--batch"), IOV_MAX);
    else if (arg == "--msgs")
      o.msgs = value("--msgs");
    else if (arg == "--json")
      o.json = true;
    else {
      std::fprintf(stderr,
                   "usage: parley-kernel-floor [--subs N] [--frame BYTES] [--batch N] "
                   "[--msgs N] [--json]\n");
      std::exit(2);
    }
  }
  return o;
}

// A connected pair of loopback TCP sockets: {writer's end, reader's end}.
std::pair<int, int> loopback_pair() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0) die("bind");
  if (listen(listener, 1) != 0) die("listen");
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    die("getsockname");
  const int reader = socket(AF_INET, SOCK_STREAM, 0);
  if (reader < 0 || connect(reader, reinterpret_cast<sockaddr*>(&address), length) != 0)
    die("connect");
  const int writer = accept(listener, nullptr, nullptr);
  if (writer < 0) die("accept");
  close(listener);
  const int on = 1;
  setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // as the server's sockets
  return {writer, reader};
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Writes every byte of `count` iovecs (blocking socket), resuming after partial writes.
void write_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    const ssize_t n = writev(fd, iov, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("writev");
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

// Reads every socket until `expected` bytes in all have arrived.
void drain(const std::vector<int>& sockets, std::uint64_t expected) {
  const int epoll = epoll_create1(0);
  if (epoll < 0) die("epoll_create1");
  for (const int fd : sockets) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) die("epoll_ctl");
  }
  std::vector<char> buffer(256 * 1024);
  std::vector<epoll_event> ready(sockets.size());
  std::uint64_t got = 0;
  while (got < expected) {
    const int n = epoll_wait(epoll, ready.data(), static_cast<int>(ready.size()), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const ssize_t r =
          read(ready[static_cast<std::size_t>(i)].data.fd, buffer.data(), buffer.size());
      if (r < 0 && errno != EINTR && errno != EAGAIN) die("read");
      if (r == 0) throw std::runtime_error("a writer closed early");
      if (r > 0) got += static_cast<std::uint64_t>(r);
    }
  }
  close(epoll);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<int> writers;
  std::vector<int> readers;
  for (int i = 0; i < o.subs; ++i) {
    const auto [writer, reader] = loopback_pair();
    writers.push_back(writer);
    readers.push_back(reader);
  }
  const std::string frame(o.frame, 'x');
  const std::uint64_t batches = (o.msgs + o.batch - 1) / o.batch;
  const std::uint64_t frames_per_sub = batches * o.batch;
  const std::uint64_t expected = frames_per_sub * o.frame * static_cast<std::uint64_t>(o.subs);

  std::thread reader([&] {
    try {
      drain(readers, expected);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parley-kernel-floor: %s\n", e.what());
      std::exit(1);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  std::vector<iovec> iov(o.batch);
  for (std::uint64_t b = 0; b < batches; ++b) {
    for (const int fd : writers) {
      for (auto& v : iov) v = {const_cast<char*>(frame.data()), frame.size()};
      write_all(fd, iov.data(), static_cast<int>(iov.size()));
    }
  }
  const double cpu = thread_cpu_seconds() - cpu_start;
  reader.join();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double delivered = static_cast<double>(frames_per_sub) * o.subs;
  if (o.json) {
    std::printf(
        "{\"tool\":\"parley-kernel-floor\",\"subs\":%d,\"frame\":%zu,\"batch\":%zu,"
        "\"delivered\":%.0f,\"wall_s\":%.4f,\"writer_cpu_s\":%.4f,\"cpu_ns_per_delivery\":%.1f,"
        "\"delivered_msgs_s\":%.0f}\n",
        o.subs, o.frame, o.batch, delivered, wall, cpu, cpu * 1e9 / delivered, delivered / wall);
  } else {
    std::printf(
        "%d subscribers, %zu-byte frames, %zu per write: %.0f delivered in %.3f s (%.0f/s)\n"
        "writer CPU %.3f s: %.1f ns per delivered frame\n",
        o.subs, o.frame, o.batch, delivered, wall, delivered / wall, cpu, cpu * 1e9 / delivered);
  }
  for (const int fd : writers) close(fd);
  for (const int fd : readers) close(fd);
  return 0;
}
