#include "bench.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <parley/protocol/frames.hpp>
#include <parley/protocol/topic.hpp>
#include <random>
#include <vector>

#include "bench_frame.hpp"
#include "bench_spread.hpp"
#include "bench_stats.hpp"
#include "server_process.hpp"

namespace parley::client {
namespace {

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using bench::now_ns;

constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

constexpr std::size_t kReadChunk = std::size_t{64} << 10;  // the read buffer, and each read
// A single frame larger than this fails.
constexpr std::size_t kMaxReadBuffer = std::size_t{16} << 20;
constexpr std::uint64_t kBatch = 256;             // pub frames per write
constexpr std::int64_t kStallNs = 2'000'000'000;  // window forced open after this
constexpr std::int64_t kDrainNs = 3'000'000'000;  // give up waiting for stragglers
constexpr std::int64_t kProbeTimeoutNs = 10'000'000'000;
constexpr std::size_t kMaxErrorMessages = 10;
constexpr std::string_view kPong = "{\"op\":\"pong\"}\n";

std::shared_ptr<spdlog::logger> logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto made = std::make_shared<spdlog::logger>("parley.bench",
                                                 std::make_shared<spdlog::sinks::stderr_sink_st>());
    made->set_pattern("parley bench: [%l] %v");
    const char* level = std::getenv("SPDLOG_LEVEL");
    made->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::warn);
    return made;
  }();
  return instance;
}

std::string random_topic() {
  std::random_device device;
  std::mt19937_64 generator(device());
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string topic = "bench.";
  for (int i = 0; i < 10; ++i) topic.push_back(kAlphabet[generator() % kAlphabet.size()]);
  return topic;
}

// Wakes one waiting coroutine on the same (single-threaded) executor; a notify() before
// the wait is kept.
class Wake {
 public:
  explicit Wake(const asio::any_io_executor& executor) : timer_(executor) {}
  // True if notified, false if `timeout` passed first.
  asio::awaitable<bool> wait_for(std::int64_t timeout_ns) {
    if (!notified_) {
      timer_.expires_after(std::chrono::nanoseconds(std::max<std::int64_t>(timeout_ns, 0)));
      auto wait = timer_.async_wait(use_nothrow);
      co_await std::move(wait);
    }
    const bool was = notified_;
    notified_ = false;
    co_return was;
  }
  void notify() {
    notified_ = true;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool notified_ = false;
};

// One connection (the client's ClientSession and Connection, on any transport) with the
// bench's own read buffer; [head, tail) is received but not parsed yet.
struct Conn {
  explicit Conn(std::string conn_label) : label(std::move(conn_label)) {}
  std::unique_ptr<ClientSession> session;  // set by BenchRun::open
  std::string label;
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0, head = 0, tail = 0;
  bool closing = false;   // we are closing it: read errors are expected
  bool lost = false;      // the server closed it, or it failed, while wanted open
  bool writing = false;   // a write is in flight (publishers)
  bool pong_due = false;  // the server pinged while a write was in flight

  Connection& connection() const { return session->connection(); }
  // Room for the next read; false if one frame outgrew kMaxReadBuffer.
  bool make_space() {
    if (!buf) {
      cap = kReadChunk;
      buf = std::make_unique_for_overwrite<char[]>(cap);
    }
    if (head == tail) {
      head = tail = 0;
    } else if (head > 0 && cap - tail < cap / 4) {
      std::memmove(buf.get(), buf.get() + head, tail - head);
      tail -= head;
      head = 0;
    }
    if (tail == cap) {
      if (cap * 2 > kMaxReadBuffer) return false;
      auto grown = std::make_unique_for_overwrite<char[]>(cap * 2);
      std::memcpy(grown.get(), buf.get() + head, tail - head);
      buf = std::move(grown);
      cap *= 2;
      tail -= head;
      head = 0;
    }
    return true;
  }
  // Appends bytes received before the reader started; false if over kMaxReadBuffer.
  bool append(std::string_view bytes) {
    while (!bytes.empty()) {
      if (!make_space()) return false;
      const std::size_t n = std::min(bytes.size(), cap - tail);
      std::memcpy(buf.get() + tail, bytes.data(), n);
      tail += n;
      bytes.remove_prefix(n);
    }
    return true;
  }
  // The next complete line in the buffer (without '\n' and '\r'), consumed.
  bool next_line(std::string_view& line) {
    if (head == tail) return false;  // nothing buffered (buf may not even be allocated yet)
    const char* start = buf.get() + head;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', tail - head));
    if (newline == nullptr) return false;
    std::size_t length = static_cast<std::size_t>(newline - start);
    head += length + 1;
    if (length > 0 && start[length - 1] == '\r') --length;
    line = std::string_view(start, length);
    return true;
  }
};

struct Sub {
  Sub(std::string label, int pubs)
      : conn(std::move(label)), next(static_cast<std::size_t>(pubs), 0) {}
  Conn conn;
  std::vector<std::uint64_t> next;  // next expected sequence number per publisher
  std::uint64_t received = 0;
  std::uint64_t reordered = 0;
  std::uint64_t gaps = 0;
  std::uint64_t bad_payloads = 0;
  std::int64_t last_rx_ns = 0;
  bool probe_seen = false;
};

struct Pub {
  Pub(const asio::any_io_executor& executor, std::string label)
      : conn(std::move(label)), wake(executor) {}
  Conn conn;
  Wake wake;
  std::uint64_t sent = 0;         // data messages written (or being written)
  std::uint64_t seen = 0;         // subscriber 0's next expected sequence from this one
  std::uint64_t waiting_for = 0;  // free window slots it waits for; 0 = not waiting
  std::uint64_t stalls = 0;
  std::int64_t first_send_ns = 0;
  std::int64_t last_write_ns = 0;
  bool done = false;
};

// The server's process when it can be read on this machine: the one --server-pid names,
// or the one listening on a loopback endpoint's port.
std::optional<pid_t> server_process(const Endpoint& endpoint, long server_pid) {
  if (server_pid > 0) return static_cast<pid_t>(server_pid);
  if (server_pid < 0) return std::nullopt;
  std::error_code ec;
  const auto address = asio::ip::make_address(endpoint.host, ec);
  if (endpoint.host != "localhost" && (ec || !address.is_loopback())) return std::nullopt;
  return find_local_listener(endpoint.port);
}

class BenchRun : public std::enable_shared_from_this<BenchRun> {
 public:
  BenchRun(asio::any_io_executor executor, CommonOptions common, BenchOptions options)
      : executor_(std::move(executor)),
        common_(std::move(common)),
        options_(std::move(options)),
        main_wake_(executor_) {}

  asio::awaitable<int> run();

 private:
  // Setup, one connection at a time: connect, hello, and (subscribers) sub.
  asio::awaitable<int> open(Conn& conn, const Endpoint& endpoint, std::string name);
  asio::awaitable<int> subscribe(Conn& conn);
  asio::awaitable<bool> write(Conn& conn, std::string_view bytes);
  asio::awaitable<void> send_pong(Conn& conn);

  asio::awaitable<void> reader(Conn& conn, Sub* sub);
  asio::awaitable<void> publisher(Pub& pub, std::uint32_t index, std::uint64_t quota);
  asio::awaitable<bool> probe();
  void spawn(asio::awaitable<void> task);

  void on_payload(Sub& sub, std::string_view payload, std::int64_t now);
  bool on_msg_frame(Sub& sub, std::string_view line, std::int64_t now);
  void on_control(Conn& conn, Sub* sub, std::string_view line, std::int64_t now);
  void on_lost(Conn& conn, const std::string& why);
  void add_error(std::string text);
  void update_target();
  std::uint64_t published() const;
  void close_all();
  // False (and says why) when a pub frame would be over the server's max_frame.
  bool frame_fits() const;

  bool gated() const { return options_.window > 0 && !subs_.empty() && !window_disabled_; }
  std::uint64_t resume_free() const {
    return std::max<std::uint64_t>(1, std::min(kBatch, options_.window / 2));
  }

  asio::any_io_executor executor_;
  CommonOptions common_;
  BenchOptions options_;
  std::vector<std::unique_ptr<Sub>> subs_;
  std::vector<std::unique_ptr<Pub>> pubs_;
  std::string frame_;  // one pub frame, header still to stamp
  std::size_t payload_offset_ = 0;
  std::size_t max_frame_ = 65536;

  bench::Histogram latency_;
  Wake main_wake_;
  int tasks_ = 0;
  int pubs_running_ = 0;
  bool window_disabled_ = false;
  std::int64_t phase_start_ns_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t target_ = UINT64_MAX;  // deliveries that end the run, once known
  std::uint64_t error_count_ = 0;
  std::vector<std::string> errors_;
};

void BenchRun::spawn(asio::awaitable<void> task) {
  ++tasks_;
  auto self = shared_from_this();
  asio::co_spawn(executor_, std::move(task), [self](const std::exception_ptr& error) {
    --self->tasks_;
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      self->add_error(std::string("internal: ") + e.what());
    }
    self->main_wake_.notify();
  });
}

void BenchRun::add_error(std::string text) {
  ++error_count_;
  logger()->warn("{}", text);
  if (errors_.size() < kMaxErrorMessages) errors_.push_back(std::move(text));
}

void BenchRun::on_lost(Conn& conn, const std::string& why) {
  if (conn.closing || conn.lost) return;
  conn.lost = true;
  logger()->warn("{}: {}", conn.label, why);
  conn.connection().close();
  if (!subs_.empty() && &conn == &subs_.front()->conn && !window_disabled_) {
    // Subscriber 0 paces the publishers; without it nothing would.
    window_disabled_ = true;
    for (auto& pub : pubs_) pub->wake.notify();
  }
  update_target();
  main_wake_.notify();
}

std::uint64_t BenchRun::published() const {
  std::uint64_t total = 0;
  for (const auto& pub : pubs_) total += pub->sent;
  return total;
}

// Once the publishers are done: every subscriber still connected gets every message, one
// cut off keeps what it had.
void BenchRun::update_target() {
  if (pubs_running_ > 0) return;
  const std::uint64_t sent = published();
  std::uint64_t target = 0;
  for (const auto& sub : subs_) target += sub->conn.lost ? sub->received : sent;
  target_ = target;
  if (delivered_ >= target_) main_wake_.notify();
}

asio::awaitable<bool> BenchRun::write(Conn& conn, std::string_view bytes) {
  conn.writing = true;
  const std::error_code ec = co_await conn.connection().write(bytes);
  conn.writing = false;
  if (ec) {
    on_lost(conn, "write failed: " + ec.message());
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> BenchRun::send_pong(Conn& conn) {
  auto self = shared_from_this();
  co_await write(conn, kPong);
}

asio::awaitable<int> BenchRun::open(Conn& conn, const Endpoint& endpoint, std::string name) {
  CommonOptions options = common_;
  options.servers = {endpoint};
  options.name = std::move(name);
  options.name_is_default = false;
  conn.session = std::make_unique<ClientSession>(executor_, std::move(options));
  conn.session->on_event = [&conn](const nlohmann::json& frame) {
    if (frame.value("op", "") == "error")
      logger()->warn("{}: before the run: {}", conn.label, describe_error(frame));
  };
  const auto failed = co_await conn.session->open(true);
  if (failed) {
    std::fprintf(stderr, "parley: %s: %s\n", conn.label.c_str(), failed->reason.c_str());
    co_return failed->exit_code;
  }
  if (const std::size_t limit = conn.session->max_frame(); limit > 0) max_frame_ = limit;
  co_return kOk;
}

asio::awaitable<int> BenchRun::subscribe(Conn& conn) {
  nlohmann::json frame = {{"op", "sub"}, {"topic", options_.topic}};
  const auto reply = co_await conn.session->request(std::move(frame));
  if (const auto* failed = std::get_if<Failure>(&reply)) {
    std::fprintf(stderr, "parley: %s: sub %s refused: %s\n", conn.label.c_str(),
                 options_.topic.c_str(), failed->reason.c_str());
    co_return failed->exit_code;
  }
  co_return kOk;
}

// The hot path: one data message as a subscriber sees it.
void BenchRun::on_payload(Sub& sub, std::string_view payload, std::int64_t now) {
  bench::Header header;
  if (payload.size() != options_.size || !bench::parse_header(payload, header) ||
      header.pub >= pubs_.size()) {
    ++sub.bad_payloads;
    return;
  }
  if (header.kind == bench::kProbe) {
    sub.probe_seen = true;
    return;
  }
  ++sub.received;
  sub.last_rx_ns = now;
  latency_.record(now - header.sent_ns);
  std::uint64_t& next = sub.next[header.pub];
  if (header.seq < next) {
    ++sub.reordered;  // late or duplicate: still a delivery, shown next to `lost`
  } else {
    if (header.seq > next) ++sub.gaps;
    next = header.seq + 1;
    if (&sub == subs_.front().get()) {
      Pub& pub = *pubs_[header.pub];
      pub.seen = next;
      const std::uint64_t in_flight = pub.sent - next;
      if (pub.waiting_for > 0 && options_.window > in_flight &&
          options_.window - in_flight >= pub.waiting_for) {
        pub.waiting_for = 0;
        pub.wake.notify();
      }
    }
  }
  if (++delivered_ >= target_) main_wake_.notify();
}

// The hot path: a msg frame on our topic with the payload as a plain string. Its shape is
// checked (one JSON object), and the members are found wherever they are. False for
// anything else, which on_control then parses in full.
bool BenchRun::on_msg_frame(Sub& sub, std::string_view line, std::int64_t now) {
  bool is_msg = false;
  bool our_topic = false;
  bool has_payload = false;
  std::string_view payload;
  const bool object = bench::for_each_member(line, [&](const bench::FrameMember& member) {
    if (member.key == "op") {
      is_msg = member.is_string && member.value == "msg";
    } else if (member.key == "topic") {
      our_topic = member.is_string && member.value == options_.topic;
    } else if (member.key == "data" && member.is_string &&
               member.value.find('\\') == std::string_view::npos) {
      payload = member.value;
      has_payload = true;
    }
  });
  if (!object || !is_msg || !has_payload) return false;
  if (!our_topic) {
    ++sub.bad_payloads;
    return true;
  }
  on_payload(sub, payload, now);
  return true;
}

// Anything but the usual msg frame: parsed in full (rare).
void BenchRun::on_control(Conn& conn, Sub* sub, std::string_view line, std::int64_t now) {
  const auto frame = nlohmann::json::parse(line, nullptr, false);
  if (frame.is_discarded() || !frame.is_object()) {
    add_error(conn.label + ": unreadable frame from the server");
    return;
  }
  const std::string op = frame.value("op", "");
  if (op == "msg") {
    const auto data = frame.find("data");
    if (sub != nullptr && data != frame.end() && data->is_string()) {
      on_payload(*sub, data->get_ref<const std::string&>(), now);
    } else if (sub != nullptr) {
      ++sub->bad_payloads;
    }
  } else if (op == "ping") {
    // A publisher still running sends the pong with its next write; anyone else answers
    // right away (nobody else writes on that connection any more).
    Pub* owner = nullptr;
    for (auto& pub : pubs_) {
      if (&pub->conn == &conn) owner = pub.get();
    }
    if (owner != nullptr && !owner->done) {
      conn.pong_due = true;
      owner->wake.notify();
    } else if (!conn.writing) {
      spawn(send_pong(conn));
    }
  } else if (op == "error") {
    add_error(conn.label + ": " + describe_error(frame));
  } else if (op == "bye") {
    add_error(conn.label + ": bye (" + frame.value("reason", std::string()) + ")");
  }
  // ok, welcome, presence: nothing to do.
}

asio::awaitable<void> BenchRun::reader(Conn& conn, Sub* sub) {
  auto self = shared_from_this();  // the run outlives every read
  std::int64_t now = now_ns();
  // What the session received past its last reply is the start of the stream.
  if (!conn.append(conn.connection().take_unread())) {
    on_lost(conn, "a frame exceeds the 16 MiB read buffer");
    co_return;
  }
  while (true) {
    std::string_view line;
    while (conn.next_line(line)) {
      if (line.empty()) continue;
      if (sub != nullptr && on_msg_frame(*sub, line, now)) continue;
      on_control(conn, sub, line, now);
    }
    if (!conn.make_space()) {
      on_lost(conn, "a frame exceeds the 16 MiB read buffer");
      co_return;
    }
    auto buffer = asio::buffer(conn.buf.get() + conn.tail, conn.cap - conn.tail);
    auto [ec, n] = co_await conn.connection().read_some(buffer);
    if (ec) {
      if (!conn.closing) {
        on_lost(conn, ec == asio::error::eof ? std::string("closed by the server")
                                             : "read failed: " + ec.message());
      }
      co_return;
    }
    // Everything in this read had arrived by now: one clock read serves all of it.
    now = now_ns();
    conn.tail += n;
  }
}

asio::awaitable<bool> BenchRun::probe() {
  if (subs_.empty()) co_return true;
  Pub& pub = *pubs_.front();
  std::string frame = frame_;
  const std::int64_t deadline = now_ns() + kProbeTimeoutNs;
  asio::steady_timer pause(executor_);
  for (std::uint64_t n = 0; now_ns() < deadline; ++n) {
    const bool all_seen = std::all_of(subs_.begin(), subs_.end(), [](const auto& sub) {
      return sub->probe_seen || sub->conn.lost;
    });
    if (all_seen) co_return !subs_.front()->conn.lost;
    if (pub.conn.lost) co_return false;
    bench::stamp_header(frame.data() + payload_offset_, bench::kProbe, 0, n, now_ns());
    const bool sent = co_await write(pub.conn, frame);
    if (!sent) co_return false;
    pause.expires_after(10ms);
    auto wait = pause.async_wait(use_nothrow);
    co_await std::move(wait);
  }
  co_return false;
}

asio::awaitable<void> BenchRun::publisher(Pub& pub, std::uint32_t index, std::uint64_t quota) {
  auto self = shared_from_this();
  const double rate = options_.rate > 0 ? options_.rate / static_cast<double>(options_.pubs) : 0.0;
  const std::int64_t duration_ns = static_cast<std::int64_t>(options_.duration_s * 1e9);
  std::string batch;
  batch.reserve(static_cast<std::size_t>(kBatch) * frame_.size() + kPong.size());
  std::int64_t stuck_since = 0;
  std::uint64_t& seq = pub.sent;
  while (seq < quota && !pub.conn.lost) {
    const std::int64_t now = now_ns();
    if (duration_ns > 0 && now - phase_start_ns_ >= duration_ns) break;
    std::uint64_t n = std::min(kBatch, quota - seq);
    if (rate > 0) {
      const double elapsed = static_cast<double>(now - phase_start_ns_);
      const auto due = std::min(quota, static_cast<std::uint64_t>(elapsed * rate / 1e9) + 1);
      if (due <= seq) {
        // Sleep until the next message is due (a ping may wake it earlier).
        const auto due_ns =
            phase_start_ns_ + static_cast<std::int64_t>(static_cast<double>(seq) * 1e9 / rate);
        if (!pub.conn.pong_due) {
          co_await pub.wake.wait_for(due_ns - now);
          continue;
        }
        n = 0;
      } else {
        n = std::min(n, due - seq);
      }
    }
    if (n > 0 && gated()) {
      const std::uint64_t in_flight = seq - pub.seen;
      const std::uint64_t free = options_.window > in_flight ? options_.window - in_flight : 0;
      const std::uint64_t need = std::min(resume_free(), n);
      if (free < need) {
        if (pub.conn.pong_due) {
          n = 0;
        } else {
          const std::uint64_t seen_before = pub.seen;
          pub.waiting_for = need;
          const bool woken = co_await pub.wake.wait_for(50'000'000);
          pub.waiting_for = 0;
          if (woken || pub.seen != seen_before) {
            stuck_since = 0;
            continue;
          }
          const std::int64_t later = now_ns();
          if (stuck_since == 0) stuck_since = later;
          if (later - stuck_since < kStallNs) continue;
          // Subscriber 0 has seen nothing for a while: presume those messages lost.
          ++pub.stalls;
          stuck_since = 0;
          n = std::min(n, resume_free());
        }
      } else {
        n = std::min(n, free);
      }
    }
    batch.clear();
    if (pub.conn.pong_due) {
      batch.append(kPong);
      pub.conn.pong_due = false;
    }
    const std::int64_t stamp = now_ns();
    if (n > 0 && pub.first_send_ns == 0) pub.first_send_ns = stamp;
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::size_t base = batch.size();
      batch.append(frame_);
      bench::stamp_header(batch.data() + base + payload_offset_, bench::kData, index, seq++, stamp);
    }
    if (batch.empty()) continue;
    const bool sent = co_await write(pub.conn, batch);
    if (!sent) break;
    if (n > 0) pub.last_write_ns = now_ns();
  }
  if (pub.conn.pong_due && !pub.conn.lost) {
    pub.conn.pong_due = false;
    co_await write(pub.conn, kPong);
  }
  pub.done = true;
  --pubs_running_;
  update_target();
  main_wake_.notify();
}

bool BenchRun::frame_fits() const {
  const std::size_t frame_size = frame_.size() - 1;  // without the '\n'
  if (frame_size <= max_frame_) return true;
  std::fprintf(stderr,
               "parley: --size %zu makes pub frames of %zu bytes, over the server's max_frame "
               "of %zu\n",
               options_.size, frame_size, max_frame_);
  return false;
}

void BenchRun::close_all() {
  auto shut = [](Conn& conn) {
    conn.closing = true;
    if (conn.session) conn.connection().close();
  };
  for (auto& sub : subs_) shut(sub->conn);
  for (auto& pub : pubs_) shut(pub->conn);
  for (auto& pub : pubs_) pub->wake.notify();
}

asio::awaitable<int> BenchRun::run() {
  // With several addresses (a cluster's nodes) publishers go to the first and subscribers
  // take them in turn (bench_spread.hpp); the first is the one whose CPU is reported. With
  // --ws, each address's HTTP listener's WebSocket path.
  std::vector<Endpoint> endpoints = common_.servers;
  for (auto& endpoint : endpoints) {
    if (options_.ws && !endpoint.ws) {
      endpoint.ws = true;
      endpoint.path = "/ws";
    }
  }
  const Endpoint* endpoint = &endpoints.front();
  if (options_.topic.empty()) options_.topic = random_topic();
  if (!protocol::is_valid_topic(options_.topic) || protocol::is_system_topic(options_.topic)) {
    std::fprintf(stderr, "parley: '%s' is not a topic one can publish to\n",
                 options_.topic.c_str());
    co_return kUsage;
  }
  frame_ = R"({"op":"pub","topic":)";
  protocol::append_json_string(frame_, options_.topic);
  frame_ += R"(,"data":")";
  payload_offset_ = frame_.size();
  frame_ += bench::make_payload_template(options_.size);
  frame_ += "\"}\n";

  for (int i = 0; i < options_.subs; ++i)
    subs_.push_back(std::make_unique<Sub>("sub " + std::to_string(i), options_.pubs));
  for (int i = 0; i < options_.pubs; ++i)
    pubs_.push_back(std::make_unique<Pub>(executor_, "pub " + std::to_string(i)));

  auto name_for = [&](const char* kind, int i) {
    return common_.name.empty() ? std::string() : common_.name + "-" + kind + std::to_string(i);
  };
  for (int i = 0; i < options_.subs; ++i) {
    const std::string name = name_for("s", i);
    const Endpoint& to =
        endpoints[bench::subscriber_server(static_cast<std::size_t>(i), endpoints.size())];
    const int opened = co_await open(subs_[static_cast<std::size_t>(i)]->conn, to, name);
    if (opened != kOk) co_return opened;
    if (!frame_fits()) co_return kUsage;
    const int subscribed = co_await subscribe(subs_[static_cast<std::size_t>(i)]->conn);
    if (subscribed != kOk) co_return subscribed;
  }
  for (int i = 0; i < options_.pubs; ++i) {
    const std::string name = name_for("p", i);
    const Endpoint& to =
        endpoints[bench::publisher_server(static_cast<std::size_t>(i), endpoints.size())];
    const int opened = co_await open(pubs_[static_cast<std::size_t>(i)]->conn, to, name);
    if (opened != kOk) co_return opened;
  }
  if (!frame_fits()) co_return kUsage;
  logger()->info(
      "{} subscribers and {} publishers connected ({} server(s), publishers on {}), topic {}",
      options_.subs, options_.pubs, endpoints.size(), endpoint->text(), options_.topic);
  for (auto& sub : subs_) spawn(reader(sub->conn, sub.get()));
  for (auto& pub : pubs_) spawn(reader(pub->conn, nullptr));

  // Measure only once every subscription delivers: probes are never counted.
  const bool ready = co_await probe();
  if (!ready) {
    std::fprintf(stderr, "parley: the subscriptions did not become active (probe)\n");
    close_all();
    co_return kServerError;
  }

  const std::optional<pid_t> server = server_process(*endpoint, options_.server_pid);
  const std::optional<double> server_cpu_before =
      server ? process_cpu_seconds(*server) : std::nullopt;
  phase_start_ns_ = now_ns();
  const bool timed = options_.duration_s > 0;
  pubs_running_ = options_.pubs;
  const auto pubs = static_cast<std::uint64_t>(options_.pubs);
  for (std::uint64_t j = 0; j < pubs; ++j) {
    const std::uint64_t quota =
        timed ? UINT64_MAX : options_.msgs / pubs + (j < options_.msgs % pubs ? 1 : 0);
    spawn(publisher(*pubs_[j], static_cast<std::uint32_t>(j), quota));
  }
  while (pubs_running_ > 0) co_await main_wake_.wait_for(100'000'000);
  update_target();
  // Wait for the stragglers, as long as deliveries keep coming.
  std::uint64_t last_delivered = delivered_;
  std::int64_t last_progress = now_ns();
  while (delivered_ < target_) {
    co_await main_wake_.wait_for(100'000'000);
    const std::int64_t now = now_ns();
    if (delivered_ != last_delivered) {
      last_delivered = delivered_;
      last_progress = now;
    } else if (now - last_progress > kDrainNs) {
      logger()->warn("nothing arrived for {} s; {} of {} deliveries missing",
                     kDrainNs / 1'000'000'000, target_ - delivered_, target_);
      break;
    }
  }
  const std::optional<double> server_cpu_after =
      server ? process_cpu_seconds(*server) : std::nullopt;
  close_all();
  for (int i = 0; i < 200 && tasks_ > 0; ++i) co_await main_wake_.wait_for(10'000'000);

  bench::Counts counts;
  counts.pubs = options_.pubs;
  counts.subs = options_.subs;
  counts.size = options_.size;
  counts.topic = options_.topic;
  counts.published = published();
  counts.delivered = delivered_;
  for (const auto& sub : subs_) {
    counts.reordered += sub->reordered;
    counts.gaps += sub->gaps;
    counts.bad_payloads += sub->bad_payloads;
    counts.disconnected += sub->conn.lost ? 1 : 0;
    counts.last_rx_ns = std::max(counts.last_rx_ns, sub->last_rx_ns);
  }
  for (const auto& pub : pubs_) {
    counts.disconnected += pub->conn.lost ? 1 : 0;
    counts.window_stalls += pub->stalls;
    if (pub->first_send_ns != 0 &&
        (counts.first_send_ns == 0 || pub->first_send_ns < counts.first_send_ns))
      counts.first_send_ns = pub->first_send_ns;
    counts.last_write_ns = std::max(counts.last_write_ns, pub->last_write_ns);
  }
  counts.errors = errors_;
  counts.error_count = error_count_;
  if (server_cpu_before && server_cpu_after) {
    counts.server_pid = *server;
    counts.server_cpu_s = *server_cpu_after - *server_cpu_before;
  }
  const bench::Summary summary = bench::summarize(counts, latency_);
  const std::string out =
      options_.json ? bench::to_json(summary).dump() + "\n" : bench::to_text(summary);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  co_return summary.clean ? kOk : kServerError;
}

}  // namespace

asio::awaitable<int> run_bench(CommonOptions options, BenchOptions bench) {
  auto executor = co_await asio::this_coro::executor;
  auto run = std::make_shared<BenchRun>(executor, std::move(options), std::move(bench));
  const int code = co_await run->run();
  co_return code;
}

}  // namespace parley::client
