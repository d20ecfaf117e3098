#include "redis_link.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <stdexcept>

namespace parley::server::cluster {

namespace {

int parse_number(std::string_view text, int max, const char* what) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < 0 || value > max) {
    throw std::invalid_argument(std::string("bad ") + what + " in the cluster URL: '" +
                                std::string(text) + "'");
  }
  return value;
}

}  // namespace

RedisTarget parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme))
    throw std::invalid_argument("the cluster URL must start with redis://");
  std::string_view rest = url.substr(scheme.size());
  RedisTarget target;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      target.password = std::string(credentials);  // redis://secret@host
    } else {
      if (colon > 0) target.user = std::string(credentials.substr(0, colon));
      target.password = std::string(credentials.substr(colon + 1));
    }
  }
  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) target.db = parse_number(db, 1 << 20, "database number");
  }
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("bad host in the cluster URL");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw std::invalid_argument("bad host in the cluster URL");
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw std::invalid_argument("the cluster URL names no host");
  target.host = std::string(host);
  if (!port.empty() || authority.ends_with(':')) {
    target.port = static_cast<std::uint16_t>(parse_number(port, 65535, "port"));
    if (target.port == 0) throw std::invalid_argument("bad port in the cluster URL: 0");
  }
  return target;
}

// The descriptor hiredis owns, watched by Asio: hiredis says which readiness it wants
// (the hooks below) and gets its Handle{Read,Write} call when the socket is ready. The
// waits hold a reference, so a context freed inside a handler leaves nothing dangling.
struct RedisLink::Watch : std::enable_shared_from_this<Watch> {
  Watch(asio::io_context& io, int fd, redisAsyncContext* c) : stream(io, fd), context(c) {}
  asio::posix::stream_descriptor stream;
  redisAsyncContext* context;
  bool want_read = false;
  bool want_write = false;
  bool read_armed = false;
  bool write_armed = false;
  bool closed = false;

  void arm_read() {
    if (read_armed || closed) return;
    read_armed = true;
    stream.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](const std::error_code& ec) {
                        self->read_armed = false;
                        if (ec || self->closed || !self->want_read) return;
                        redisAsyncHandleRead(self->context);
                        if (!self->closed && self->want_read) self->arm_read();
                      });
  }
  void arm_write() {
    if (write_armed || closed) return;
    write_armed = true;
    stream.async_wait(asio::posix::stream_descriptor::wait_write,
                      [self = shared_from_this()](const std::error_code& ec) {
                        self->write_armed = false;
                        if (ec || self->closed || !self->want_write) return;
                        redisAsyncHandleWrite(self->context);
                        if (!self->closed && self->want_write) self->arm_write();
                      });
  }

  static Watch& of(void* data) { return *static_cast<Watch*>(data); }
  static void add_read(void* data) {
    of(data).want_read = true;
    of(data).arm_read();
  }
  static void del_read(void* data) { of(data).want_read = false; }
  static void add_write(void* data) {
    of(data).want_write = true;
    of(data).arm_write();
  }
  static void del_write(void* data) { of(data).want_write = false; }
  // hiredis frees the context: stop watching and give the descriptor back unclosed
  // (hiredis closes it).
  static void cleanup(void* data) {
    Watch& w = of(data);
    w.closed = true;
    std::error_code ignored;
    w.stream.cancel(ignored);
    (void)w.stream.release();
    w.context->ev.data = nullptr;
  }
};

RedisLink::RedisLink(asio::io_context& io, RedisTarget target, std::string name)
    : io_(io),
      target_(std::move(target)),
      name_(std::move(name)),
      resolver_(io),
      retry_timer_(io) {}

RedisLink::~RedisLink() {
  *alive_ = false;
  stop();
}

void RedisLink::start() {
  running_ = true;
  spdlog::info("cluster: {} link to redis {}:{} db {}", name_, target_.host, target_.port,
               target_.db);
  connect();
}

void RedisLink::stop() {
  running_ = false;
  retry_timer_.cancel();
  resolver_.cancel();
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    up_ = false;
    // Frees at once, answering what is pending with nullptr; no disconnect callback runs
    // for us then (context_ is already cleared).
    context->data = nullptr;
    redisAsyncFree(context);
  }
  watch_.reset();
}

void RedisLink::connect() {
  // Resolved off the loop (Asio's resolver), so a slow DNS never stalls the server.
  resolver_.async_resolve(
      target_.host, std::to_string(target_.port),
      [this, alive = alive_](const std::error_code& ec,
                             const asio::ip::tcp::resolver::results_type& r) {
        if (!*alive || !running_) return;
        if (ec || r.empty()) {
          lost("cannot resolve " + target_.host + ": " + (ec ? ec.message() : "no address"));
          retry_later();
          return;
        }
        connect_to(r.begin()->endpoint().address().to_string());
      });
}

void RedisLink::connect_to(const std::string& address) {
  redisAsyncContext* context = redisAsyncConnect(address.c_str(), target_.port);
  if (context == nullptr) {
    lost("out of memory");
    retry_later();
    return;
  }
  if (context->err != 0) {
    const std::string why = context->errstr;
    redisAsyncFree(context);
    lost(why);
    retry_later();
    return;
  }
  context_ = context;
  context->data = this;
  watch_ = std::make_shared<Watch>(io_, context->c.fd, context);
  context->ev.data = watch_.get();
  context->ev.addRead = &Watch::add_read;
  context->ev.delRead = &Watch::del_read;
  context->ev.addWrite = &Watch::add_write;
  context->ev.delWrite = &Watch::del_write;
  context->ev.cleanup = &Watch::cleanup;
  // Set after the hooks: hiredis asks for writability here to learn that connect finished.
  redisAsyncSetConnectCallback(context, &RedisLink::on_connected);
  redisAsyncSetDisconnectCallback(context, &RedisLink::on_disconnected);
  handshake();
}

// AUTH, SELECT and a PING, pipelined; the link is up when the PING is answered, and a
// refused AUTH or SELECT drops the connection to be tried again later.
void RedisLink::handshake() {
  const auto send = [this](const std::vector<std::string>& args, const std::string& what) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    auto* handler = new OnReply([this, what](redisReply* reply) {
      if (reply == nullptr || context_ == nullptr) return;
      if (reply->type == REDIS_REPLY_ERROR) {
        lost(what + " refused: " + std::string(reply->str, reply->len));
        redisAsyncDisconnect(context_);
        return;
      }
      if (what == "PING") {
        up_ = true;
        backoff_ = std::chrono::milliseconds(100);
        if (in_outage_) {
          in_outage_ = false;
          const auto down = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - outage_started_);
          spdlog::info("cluster: {} link to {}:{} is back after {} ms", name_, target_.host,
                       target_.port, down.count());
        }
        if (on_up_) on_up_();
      }
    });
    redisAsyncCommandArgv(context_, &RedisLink::on_command_reply, handler,
                          static_cast<int>(argv.size()), argv.data(), lengths.data());
  };
  if (target_.password) {
    if (target_.user) {
      send({"AUTH", *target_.user, *target_.password}, "AUTH");
    } else {
      send({"AUTH", *target_.password}, "AUTH");
    }
  }
  if (target_.db != 0) send({"SELECT", std::to_string(target_.db)}, "SELECT");
  send({"PING"}, "PING");
}

// One warning per outage: the first failure logs, the retries are silent until it is back.
void RedisLink::lost(std::string_view why) {
  if (in_outage_) return;
  in_outage_ = true;
  ++outages_;
  outage_started_ = std::chrono::steady_clock::now();
  spdlog::warn("cluster: {} link to {}:{} is down ({}); retrying with backoff", name_, target_.host,
               target_.port, why);
}

void RedisLink::retry_later() {
  if (!running_) return;
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  retry_timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
    if (ec || !*alive || !running_) return;
    connect();
  });
}

void RedisLink::on_connected(const redisAsyncContext* context, int status) {
  auto* link = static_cast<RedisLink*>(context->data);
  if (link == nullptr || status == REDIS_OK) return;
  // hiredis frees the context after this returns; no disconnect callback follows.
  link->context_ = nullptr;
  link->watch_.reset();
  link->up_ = false;
  link->lost(context->errstr);
  link->retry_later();
}

void RedisLink::on_disconnected(const redisAsyncContext* context, int status) {
  auto* link = static_cast<RedisLink*>(context->data);
  if (link == nullptr) return;
  const bool was_up = link->up_;
  link->context_ = nullptr;
  link->watch_.reset();
  link->up_ = false;
  link->lost(status == REDIS_OK ? "closed" : context->errstr);
  if (was_up && link->on_down_) link->on_down_();
  link->retry_later();
}

void RedisLink::on_command_reply(redisAsyncContext* /*context*/, void* reply, void* privdata) {
  std::unique_ptr<OnReply> handler(static_cast<OnReply*>(privdata));
  (*handler)(static_cast<redisReply*>(reply));
}

void RedisLink::on_push_reply(redisAsyncContext* context, void* reply, void* /*privdata*/) {
  auto* link = static_cast<RedisLink*>(context->data);
  if (link != nullptr && link->on_push_) link->on_push_(static_cast<redisReply*>(reply));
}

bool RedisLink::command(const std::vector<std::string_view>& args, OnReply on_reply) {
  if (!up_ || context_ == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto handler = std::make_unique<OnReply>(std::move(on_reply));
  if (redisAsyncCommandArgv(context_, &RedisLink::on_command_reply, handler.get(),
                            static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    return false;
  }
  (void)handler.release();  // on_command_reply owns it now
  return true;
}

void RedisLink::flush_now() {
  if (context_ != nullptr) redisAsyncHandleWrite(context_);
}

bool RedisLink::subscribe_command(const std::vector<std::string_view>& args) {
  if (!up_ || context_ == nullptr) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return redisAsyncCommandArgv(context_, &RedisLink::on_push_reply, nullptr,
                               static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) == REDIS_OK;
}

}  // namespace parley::server::cluster
