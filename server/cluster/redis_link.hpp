#pragma once
// One connection to Redis, driven by the server's one event loop: hiredis's async context
// with its read and write interest (the addRead/delRead/addWrite/delWrite/cleanup hooks)
// mapped onto asio::posix::stream_descriptor::async_wait. No thread and no blocking call:
// the host is resolved asynchronously, the connect is non-blocking, and AUTH and SELECT are
// pipelined ahead of everything else. A lost link is retried with backoff (100 ms doubling
// up to 5 s) and logged once when it goes and once when it is back.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace parley::server::cluster {

struct RedisTarget {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  int db = 0;
  std::optional<std::string> user;
  std::optional<std::string> password;
};

// redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; throws std::invalid_argument with a reason.
RedisTarget parse_redis_url(std::string_view url);

class RedisLink {
 public:
  // A command's answer; nullptr when the link went down before it came.
  using OnReply = std::function<void(redisReply* reply)>;

  RedisLink(asio::io_context& io, RedisTarget target, std::string name);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Connects, and reconnects whenever the link is lost, until stop().
  void start();
  // Closes the link (answering what is pending with nullptr) and stops reconnecting.
  void stop();
  // Connected, authenticated and on its database.
  bool up() const noexcept { return up_; }

  // Queues a command; false, with nothing queued, while the link is down. Answers come in
  // the order the commands were queued (Redis answers one connection in order).
  bool command(const std::vector<std::string_view>& args, OnReply on_reply);
  // SUBSCRIBE / PSUBSCRIBE / UNSUBSCRIBE / PUNSUBSCRIBE on a subscriber link: every message
  // (and the confirmations) goes to the push handler. False while the link is down.
  bool subscribe_command(const std::vector<std::string_view>& args);
  // Writes what is queued now, as far as the socket takes it without waiting: for the
  // last words of a stopping node, before the loop ends.
  void flush_now();

  // Called each time the link becomes usable (after AUTH and SELECT), and each time it
  // is lost after having been up.
  void on_up(std::function<void()> handler) { on_up_ = std::move(handler); }
  void on_down(std::function<void()> handler) { on_down_ = std::move(handler); }
  // Messages of a subscriber link; nullptr when the link went down.
  void on_push(std::function<void(redisReply*)> handler) { on_push_ = std::move(handler); }

  const std::string& name() const noexcept { return name_; }
  std::uint64_t outages() const noexcept { return outages_; }

 private:
  struct Watch;
  void connect();
  void connect_to(const std::string& address);
  void handshake();
  void lost(std::string_view why);
  void retry_later();
  static void on_connected(const redisAsyncContext* context, int status);
  static void on_disconnected(const redisAsyncContext* context, int status);
  static void on_command_reply(redisAsyncContext* context, void* reply, void* privdata);
  static void on_push_reply(redisAsyncContext* context, void* reply, void* privdata);

  asio::io_context& io_;
  RedisTarget target_;
  std::string name_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_{100};
  redisAsyncContext* context_ = nullptr;
  std::shared_ptr<Watch> watch_;
  bool running_ = false;
  bool up_ = false;
  bool in_outage_ = false;  // logged as lost, not yet back
  std::chrono::steady_clock::time_point outage_started_{};
  std::uint64_t outages_ = 0;
  std::function<void()> on_up_;
  std::function<void()> on_down_;
  std::function<void(redisReply*)> on_push_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace parley::server::cluster
