#pragma once
// A blocking protocol client for tests: sends frames, waits for frames with a deadline,
// and tells a closed connection from a quiet one.
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

// True when every field of `partial` is in `actual` with an equal value (recursively for
// objects; arrays and scalars compare whole).
bool matches(const json& actual, const json& partial);

class LineClient {
 public:
  explicit LineClient(unsigned short port);
  // Connects from `source_ip` (any 127.x.y.z works on Linux loopback), so that tests can
  // play several client addresses.
  LineClient(unsigned short port, const std::string& source_ip);
  ~LineClient();
  LineClient(LineClient&& other) noexcept;
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  void send(const json& frame);
  void send_raw(std::string_view bytes);
  // The next frame; throws when none arrives within `timeout` or the connection closed.
  json recv(std::chrono::milliseconds timeout = 5s);
  std::optional<json> try_recv(std::chrono::milliseconds timeout);
  // The next line unparsed, for readers that must keep up with a flood.
  std::optional<std::string> recv_line(std::chrono::milliseconds timeout);
  // The next frame, which must match `partial` (throws with both shown otherwise).
  json expect(const json& partial, std::chrono::milliseconds timeout = 5s);
  // A ping with a fresh id, then everything that arrives before its pong. Since the server
  // answers in order on one loop, this shows what was queued for us so far, without sleeps.
  std::vector<json> sync();
  // sync() that must see nothing else.
  void expect_nothing();
  // Reads until the server closes; returns the frames that came first.
  std::vector<json> read_until_closed(std::chrono::milliseconds timeout = 5s);
  bool closed() const noexcept { return closed_; }
  // True when the connection ended with a reset (ECONNRESET) rather than a clean EOF.
  bool was_reset() const noexcept { return reset_; }

  // hello with a name; returns the welcome.
  json hello(const std::string& name, json extra = json::object());

  // Resets the connection (RST) instead of closing it cleanly.
  void abort();
  void shutdown_write();
  void close();
  int fd() const noexcept { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool closed_ = false;
  bool reset_ = false;
  std::string buffer_;
  std::size_t head_ = 0;     // start of the first unread line in buffer_
  std::size_t scanned_ = 0;  // end of the bytes known to hold no newline
  std::uint64_t next_sync_ = 0;
};

}  // namespace parley::test
