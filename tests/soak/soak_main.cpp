// Soak and fault test. Hundreds of chaotic clients join and leave rooms, publish, subscribe
// with wildcards, send garbage, oversize and half-written frames, reset connections and
// stop reading, while well-behaved checkers verify that every message meant for them
// arrives exactly once and in order per publisher, and that presence matches `who`. At the
// end the server's descriptors must be back at their baseline and its memory near it.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using asio::experimental::as_tuple;
using namespace std::chrono_literals;

constexpr int kRooms = 4;
constexpr int kPublishers = 6;
constexpr int kCheckers = 6;
#ifdef PARLEY_SANITIZED
constexpr int kChaosSlots = 150;  // the instrumented test process must keep its checkers fed
#else
constexpr int kChaosSlots = 300;
#endif

struct Figures {
  long chaos_actions = 0;
  long chaos_connects_failed = 0;
  long garbage_lines = 0;
  long resets = 0;
  long stallers = 0;
  long oversize = 0;
  long published = 0;
  long delivered_to_checkers = 0;
  long violations = 0;
  std::vector<std::string> problems;
  void problem(std::string text) {
    ++violations;
    if (problems.size() < 20) problems.push_back(std::move(text));
  }
};

// One line-protocol connection driven by coroutines.
class Line {
 public:
  explicit Line(asio::io_context& io) : socket_(io) {}
  awaitable<bool> connect(unsigned short port) {
    auto [ec] = co_await socket_.async_connect({asio::ip::address_v4::loopback(), port},
                                               as_tuple(use_awaitable));
    co_return !ec;
  }
  awaitable<bool> send(std::string text) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(text), as_tuple(use_awaitable));
    co_return !ec;
  }
  awaitable<bool> send(const json& frame) {
    std::string text = frame.dump() + "\n";
    co_return co_await send(std::move(text));
  }
  // The next line, or empty when the connection ended.
  awaitable<std::optional<std::string>> read_line() {
    auto [ec, n] = co_await asio::async_read_until(socket_, asio::dynamic_buffer(buffer_), '\n',
                                                   as_tuple(use_awaitable));
    if (ec) co_return std::nullopt;
    std::string line = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    co_return line;
  }
  awaitable<std::optional<json>> read_frame() {
    auto line = co_await read_line();
    if (!line) co_return std::nullopt;
    co_return json::parse(*line, nullptr, false);
  }
  // Reads until a frame matches op (and id, when given); returns it or nothing.
  awaitable<std::optional<json>> until(std::string_view op, json id = nullptr) {
    while (true) {
      auto frame = co_await read_frame();
      if (!frame) co_return std::nullopt;
      if ((*frame)["op"] == op && (id.is_null() || (*frame)["id"] == id)) co_return frame;
    }
  }
  void reset() {
    std::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }
  void close() {
    std::error_code ec;
    socket_.close(ec);
  }
  tcp::socket& socket() { return socket_; }

 private:
  tcp::socket socket_;
  std::string buffer_;
};

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(as_tuple(use_awaitable));
}

std::string room_name(int r) {
  return "soak.room." + std::to_string(r);
}

struct Published {
  std::vector<long> feed = std::vector<long>(kPublishers, 0);
  std::vector<std::vector<long>> room =
      std::vector<std::vector<long>>(kPublishers, std::vector<long>(kRooms, 0));
};

// Publishes to its feed topic and, every fifth message, into one room, until the deadline.
struct Checker;
bool checkers_behind(const std::vector<Checker>& checkers, int p, long published);

// Publishes to its feed topic and, every fifth message, into one room, until the deadline,
// never more than a window ahead of the slowest checker: the checkers share this process
// with hundreds of chaos clients and must stay fast consumers.
awaitable<void> publisher(asio::io_context& io, unsigned short port, int p,
                          Clock::time_point deadline, Published& published, Figures& figures,
                          const std::vector<Checker>& checkers) {
  Line line(io);
  if (!co_await line.connect(port)) {
    figures.problem("publisher could not connect");
    co_return;
  }
  const json frame_1 =
      json{{"op", "hello"}, {"name", "pub-" + std::to_string(p)}, {"echo", false}, {"id", 0}};
  co_await line.send(frame_1);
  co_await line.until("welcome");
  long i = 0;
  while (Clock::now() < deadline) {
    if (checkers_behind(checkers, p, published.feed[static_cast<std::size_t>(p)])) {
      co_await pause(2ms);
      continue;
    }
    std::string batch;
    for (int k = 0; k < 32; ++k, ++i) {
      json frame{{"op", "pub"},
                 {"topic", "soak.feed." + std::to_string(p)},
                 {"data", {{"p", p}, {"i", published.feed[static_cast<std::size_t>(p)]++}}}};
      batch += frame.dump() + "\n";
      if (i % 5 == 0) {
        const int r = static_cast<int>(i / 5) % kRooms;
        auto& count = published.room[static_cast<std::size_t>(p)][static_cast<std::size_t>(r)];
        batch += json{{"op", "pub"}, {"topic", room_name(r)}, {"data", {{"p", p}, {"k", count++}}}}
                     .dump() +
                 "\n";
      }
    }
    // An acknowledged ping per batch paces the publisher to what the server takes.
    batch += json{{"op", "ping"}, {"id", i}}.dump() + "\n";
    if (!co_await line.send(batch) || !co_await line.until("pong", i)) {
      figures.problem("publisher " + std::to_string(p) + " lost its connection");
      co_return;
    }
    figures.published += 32;
  }
  const json frame_2 = json{{"op", "ping"}, {"id", "done"}};
  co_await line.send(frame_2);
  co_await line.until("pong", "done");
  line.close();
}

struct Checker {
  int index = 0;
  std::string name;
  int room = 0;
  std::vector<long> next_feed = std::vector<long>(kPublishers, 0);
  std::vector<long> next_room = std::vector<long>(kPublishers, 0);
  std::set<std::string> members;  // as presence told it
  bool connected = false;
  Clock::time_point last_keepalive = Clock::now();
};

bool checkers_behind(const std::vector<Checker>& checkers, int p, long published) {
  constexpr long kWindow = 1000;
  for (const Checker& c : checkers) {
    if (c.connected && c.next_feed[static_cast<std::size_t>(p)] + kWindow < published) return true;
  }
  return false;
}

awaitable<void> checker_loop(Line& line, Checker& c, Figures& figures, const json& stop_id) {
  while (true) {
    auto frame = co_await line.read_frame();
    if (!frame || frame->is_discarded()) {
      figures.problem(c.name + " lost its connection");
      c.connected = false;
      co_return;
    }
    const json& f = *frame;
    const std::string op = f.value("op", "");
    // Its own heartbeat: a checker far behind in its reading must still look alive.
    if (Clock::now() - c.last_keepalive > 2s) {
      c.last_keepalive = Clock::now();
      const json keepalive = json{{"op", "ping"}, {"id", "keepalive"}};
      co_await line.send(keepalive);
    }
    if (op == "pong" && f.value("id", json()) == stop_id) co_return;
    if (op == "ping") {
      const json frame_3 = json{{"op", "pong"}};
      co_await line.send(frame_3);
    } else if (op == "presence") {
      if (f["topic"] != room_name(c.room)) continue;
      const std::string who = f["name"];
      if (f["state"] == "join") {
        if (!c.members.insert(who).second)
          figures.problem(c.name + ": presence join for a member: " + who);
      } else if (c.members.erase(who) == 0) {
        figures.problem(c.name + ": presence leave for a non-member: " + who);
      }
    } else if (op == "msg") {
      const std::string topic = f.value("topic", "");
      const std::string from = f.value("from", "");
      if (from.rfind("pub-", 0) != 0) continue;  // chaos traffic is not checked
      const int p = f["data"]["p"];
      if (topic.rfind("soak.feed.", 0) == 0) {
        const long i = f["data"]["i"];
        auto& next = c.next_feed[static_cast<std::size_t>(p)];
        if (i != next)
          figures.problem(c.name + ": feed " + std::to_string(p) + " got " + std::to_string(i) +
                          " expected " + std::to_string(next));
        next = i + 1;
        ++figures.delivered_to_checkers;
      } else if (topic == room_name(c.room)) {
        const long k = f["data"]["k"];
        auto& next = c.next_room[static_cast<std::size_t>(p)];
        if (k != next)
          figures.problem(c.name + ": room message " + std::to_string(k) + " expected " +
                          std::to_string(next));
        next = k + 1;
        ++figures.delivered_to_checkers;
      } else {
        figures.problem(c.name + ": a message it never asked for on " + topic);
      }
    }
  }
}

std::string random_garbage(std::mt19937& rng) {
  std::string out;
  const int length = 1 + static_cast<int>(rng() % 300);
  for (int i = 0; i < length; ++i) {
    char ch = static_cast<char>(rng() % 256);
    if (ch == '\n') ch = '{';
    out.push_back(ch);
  }
  return out + "\n";
}

// Drains whatever arrives until the connection ends, answering pings.
awaitable<void> drain(Line& line) {
  while (auto frame = co_await line.read_line()) {
    if (frame->rfind(R"({"op":"ping")", 0) == 0)
      co_await line.send(std::string(R"({"op":"pong"})"
                                     "\n"));
  }
}

// One chaos slot: starts action after action until the deadline.
awaitable<void> chaos(asio::io_context& io, unsigned short port, int slot,
                      Clock::time_point deadline, Figures& figures) {
  std::mt19937 rng(static_cast<unsigned>(slot) * 7919U + 17U);
  long generation = 0;
  while (Clock::now() < deadline) {
    ++figures.chaos_actions;
    const auto shared = std::make_shared<Line>(io);
    Line& line = *shared;
    if (!co_await line.connect(port)) {
      ++figures.chaos_connects_failed;
      co_await pause(50ms);
      continue;
    }
    const auto dwell = std::chrono::milliseconds(50 + rng() % 1500);
    const std::string name = "chaos-" + std::to_string(slot) + "-" + std::to_string(generation++);
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {  // a member: joins rooms, subscribes, publishes, reads, then leaves some way
        const json frame_4 = json{{"op", "hello"}, {"name", name}};
        co_await line.send(frame_4);
        const json frame_5 = json{{"op", "join"},
                                  {"topic", room_name(static_cast<int>(rng() % kRooms))},
                                  {"history", rng() % 5}};
        co_await line.send(frame_5);
        // Narrow patterns: chaos members read in this process too, and must not starve the
        // checkers.
        static const char* patterns[] = {"soak.feed.0", "soak.*.x", "soak.chaos.>", "soak.chaos.*",
                                         "soak.room.*"};
        const json frame_6 = json{{"op", "sub"},
                                  {"topic", patterns[rng() % 5]},
                                  {"group", (rng() % 2) ? json("g") : json(nullptr)}};
        co_await line.send(frame_6);
        for (int k = 0; k < static_cast<int>(rng() % 20); ++k) {
          const json frame_7 =
              json{{"op", "pub"}, {"topic", "soak.chaos." + std::to_string(slot)}, {"data", k}};
          co_await line.send(frame_7);
        }
        // The drain owns the connection too, so it may outlive this action.
        asio::co_spawn(
            io, [shared]() -> awaitable<void> { co_await drain(*shared); }, asio::detached);
        co_await pause(dwell);
        switch (rng() % 3) {
          case 0: {
            const json frame_8 = json{{"op", "quit"}};
            co_await line.send(frame_8);
            break;
          }
          case 1:
            ++figures.resets;
            line.reset();
            break;
          default:
            line.close();
        }
        break;
      }
      case 3: {  // garbage, then gone
        for (int k = 0; k < static_cast<int>(1 + rng() % 10); ++k) {
          co_await line.send(random_garbage(rng));
          ++figures.garbage_lines;
        }
        const json frame_9 = json{{"op", "ping"}, {"id", "after-garbage"}};
        co_await line.send(frame_9);
        co_await line.until("pong", "after-garbage");
        line.close();
        break;
      }
      case 4: {  // half a frame, then a reset
        const json frame_10 = json{{"op", "join"}, {"topic", room_name(0)}, {"id", 1}};
        co_await line.send(frame_10);
        co_await line.send(std::string(R"({"op":"pub","topic":"soak.room.0","data":"never fini)"));
        ++figures.resets;
        line.reset();
        break;
      }
      case 5: {  // stops reading while subscribed to everything: a slow consumer
        ++figures.stallers;
        const json frame_11 = json{{"op", "hello"}, {"name", name}};
        co_await line.send(frame_11);
        const json frame_12 = json{{"op", "sub"}, {"topic", "soak.>"}};
        co_await line.send(frame_12);
        co_await pause(dwell + 1000ms);
        line.close();
        break;
      }
      case 6: {  // an oversize frame
        ++figures.oversize;
        co_await line.send(std::string(20 * 1024, 'o'));
        co_await line.until("bye");
        line.close();
        break;
      }
      default: {  // a frame dribbled byte by byte
        const std::string frame = json{{"op", "ping"}, {"id", "drip"}}.dump() + "\n";
        for (char ch : frame) co_await line.send(std::string(1, ch));
        co_await line.until("pong", "drip");
        const json frame_13 = json{{"op", "quit"}};
        co_await line.send(frame_13);
        co_await line.until("bye");
        line.close();
      }
    }
  }
}

awaitable<json> request(Line& line, json frame) {
  const json id = frame["id"];
  co_await line.send(frame);
  // Named, not a temporary: GCC 12 mishandles temporaries inside co_await expressions.
  static const std::map<std::string, std::string> replies = {
      {"ping", "pong"}, {"hello", "welcome"}, {"sub", "ok"}, {"join", "joined"}};
  const std::string op = frame["op"].get<std::string>();
  const std::string reply_op = replies.contains(op) ? replies.at(op) : op;
  auto reply = co_await line.until(reply_op, id);
  co_return reply ? *reply : json();
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 40;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--seconds") seconds = std::stoi(argv[i + 1]);
  }
  parley::test::ServerProcess server(
      {{"--outbound-limit", "256KiB", "--max-frame", "16KiB", "--history", "20", "--ping-interval",
        "10s", "--ping-timeout", "10s", "--max-connections-per-ip", "0"}});
  const unsigned short port = server.port();
  asio::io_context io(1);
  Figures figures;
  Published published;
  std::vector<Checker> checkers(kCheckers);
  std::vector<std::unique_ptr<Line>> checker_lines;
  Line monitor(io);
  Line long_staller(io);
  long rss_start = 0;
  int fds_start = 0;
  bool finished = false;
  std::string stage = "starting";
  // A soak that hangs is a failure with a reason, not a stuck CI job.
  asio::steady_timer watchdog(io, std::chrono::seconds(seconds + 60));
  watchdog.async_wait([&](std::error_code ec) {
    if (ec) return;
    figures.problem("the soak hung at stage '" + stage + "' after " +
                    std::to_string(figures.chaos_actions) + " chaos actions");
    io.stop();
  });

  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        if (!co_await monitor.connect(port)) throw std::runtime_error("monitor could not connect");
        const json frame_14 = json{{"op", "ping"}, {"id", "warm"}};
        co_await request(monitor, frame_14);
        rss_start = server.rss_kib();
        fds_start = server.open_descriptors();

        // Checkers first, so that they see every publish.
        for (int c = 0; c < kCheckers; ++c) {
          Checker& checker = checkers[static_cast<std::size_t>(c)];
          checker.index = c;
          checker.name = "checker-" + std::to_string(c);
          checker.room = c % kRooms;
          checker_lines.push_back(std::make_unique<Line>(io));
          Line& line = *checker_lines.back();
          if (!co_await line.connect(port)) throw std::runtime_error("checker could not connect");
          const json frame_15 = json{{"op", "hello"}, {"name", checker.name}, {"id", 1}};
          co_await request(line, frame_15);
          const json frame_16 = json{{"op", "sub"}, {"topic", "soak.feed.>"}, {"id", 2}};
          co_await request(line, frame_16);
          const json frame_17 = json{{"op", "join"}, {"topic", room_name(checker.room)}, {"id", 3}};
          co_await line.send(frame_17);
          const auto joined = co_await line.until("joined", 3);
          for (const auto& m : (*joined)["members"]) checker.members.insert(m.get<std::string>());
          checker.connected = true;
        }
        // A subscriber to everything that never reads, for the whole run: the server must
        // cut it off as a slow consumer. The chaos slots' short stallers alone may all fit
        // in the kernel's socket buffers when this machine publishes slowly.
        if (!co_await long_staller.connect(port))
          throw std::runtime_error("the long staller could not connect");
        std::error_code buffer_error;  // a small window keeps the kernel from absorbing much
        long_staller.socket().set_option(asio::socket_base::receive_buffer_size(4096),
                                         buffer_error);
        const json staller_hello = json{{"op", "hello"}, {"name", "long-staller"}};
        co_await long_staller.send(staller_hello);
        const json staller_sub = json{{"op", "sub"}, {"topic", "soak.>"}};
        co_await long_staller.send(staller_sub);

        const auto deadline = Clock::now() + std::chrono::seconds(seconds);
        int running = 0;
        asio::steady_timer all_done(io);
        const auto spawn = [&](awaitable<void> work) {
          ++running;
          asio::co_spawn(io, std::move(work), [&](std::exception_ptr error) {
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const std::exception& e) {
                figures.problem(std::string("a client coroutine failed: ") + e.what());
              }
            }
            --running;
          });
        };
        std::vector<json> stop_ids;
        for (int c = 0; c < kCheckers; ++c) {
          stop_ids.push_back("stop-" + std::to_string(c));
        }
        int checkers_running = kCheckers;
        asio::steady_timer checkers_done(io, Clock::time_point::max());
        for (int c = 0; c < kCheckers; ++c) {
          asio::co_spawn(io,
                         checker_loop(*checker_lines[static_cast<std::size_t>(c)],
                                      checkers[static_cast<std::size_t>(c)], figures,
                                      stop_ids[static_cast<std::size_t>(c)]),
                         [&](std::exception_ptr) {
                           if (--checkers_running == 0) checkers_done.cancel();
                         });
        }
        for (int p = 0; p < kPublishers; ++p)
          spawn(publisher(io, port, p, deadline, published, figures, checkers));
        for (int s = 0; s < kChaosSlots; ++s) spawn(chaos(io, port, s, deadline, figures));
        stage = "load";
        // The monitor keeps its own session alive through the server's heartbeat meanwhile.
        while (running > 0) {
          const json keepalive = json{{"op", "ping"}, {"id", "keepalive"}};
          if ((co_await request(monitor, keepalive)).is_null())
            throw std::runtime_error("the monitor lost its connection");
          all_done.expires_after(500ms);
          co_await all_done.async_wait(as_tuple(use_awaitable));
        }
        long_staller.close();
        stage = "checkers catching up";

        // Every publisher has had its last pong: whatever it sent is already queued for the
        // checkers, ahead of their stop pings' pongs.
        for (int c = 0; c < kCheckers; ++c) {
          const json frame_18 = json{{"op", "ping"}, {"id", stop_ids[static_cast<std::size_t>(c)]}};
          co_await checker_lines[static_cast<std::size_t>(c)]->send(frame_18);
        }
        if (checkers_running > 0) co_await checkers_done.async_wait(as_tuple(use_awaitable));

        for (const Checker& c : checkers) {
          for (int p = 0; p < kPublishers; ++p) {
            if (c.next_feed[static_cast<std::size_t>(p)] !=
                published.feed[static_cast<std::size_t>(p)]) {
              figures.problem(c.name + " got " +
                              std::to_string(c.next_feed[static_cast<std::size_t>(p)]) +
                              " of feed " + std::to_string(p) + "'s " +
                              std::to_string(published.feed[static_cast<std::size_t>(p)]));
            }
            if (c.next_room[static_cast<std::size_t>(p)] !=
                published.room[static_cast<std::size_t>(p)][static_cast<std::size_t>(c.room)]) {
              figures.problem(c.name + " missed room messages from pub-" + std::to_string(p));
            }
          }
        }

        stage = "settling";
        // The chaos clients are gone from our side; wait (bounded) until the server agrees.
        const auto settle = Clock::now() + 20s;
        json stats;
        while (Clock::now() < settle) {
          const json frame_19 = json{{"op", "stats"}, {"id", "s"}};
          stats = co_await request(monitor, frame_19);
          if (!stats.is_object()) throw std::runtime_error("the monitor lost its connection");
          if (stats.value("connections", 0) == 1 + kCheckers) break;
          co_await pause(20ms);
        }
        if (stats.value("connections", 0) != 1 + kCheckers)
          figures.problem("sessions left over: " + stats.dump());

        stage = "presence";
        // Presence as each checker saw it must match `who`, and `who` only the checkers.
        for (int c = 0; c < kCheckers; ++c) {
          Checker& checker = checkers[static_cast<std::size_t>(c)];
          Line& line = *checker_lines[static_cast<std::size_t>(c)];
          // Presence events that arrived after the stop ping are still to be read.
          const json frame_20 =
              json{{"op", "who"}, {"topic", room_name(checker.room)}, {"id", "who"}};
          co_await line.send(frame_20);
          json who;
          while (true) {
            auto f = co_await line.read_frame();
            if (!f) break;
            if ((*f)["op"] == "presence" && (*f)["topic"] == room_name(checker.room)) {
              if ((*f)["state"] == "join")
                checker.members.insert((*f)["name"].get<std::string>());
              else
                checker.members.erase((*f)["name"].get<std::string>());
            }
            if ((*f)["op"] == "who") {
              who = *f;
              break;
            }
          }
          std::set<std::string> told;
          for (const auto& m : who["members"]) told.insert(m.get<std::string>());
          std::set<std::string> expected;
          for (const Checker& other : checkers) {
            if (other.room == checker.room) expected.insert(other.name);
          }
          if (told != expected)
            figures.problem(checker.name + ": who " + who.dump() +
                            " is not the checkers of its room");
          if (checker.members != told)
            figures.problem(checker.name + ": presence disagrees with who");
        }
        std::printf("soak: server stats %s\n", stats.dump().c_str());
#ifndef PARLEY_SANITIZED
        // Instrumented, the publishers are too slow to fill a staller's queue in its time.
        if (stats.value("slow_consumers", 0) == 0 && figures.stallers > 0)
          figures.problem("no slow consumer was cut off");
#endif

        for (auto& line : checker_lines) line->close();
        const auto empty = Clock::now() + 20s;
        while (Clock::now() < empty) {
          const json frame_21 = json{{"op", "stats"}, {"id", "s"}};
          stats = co_await request(monitor, frame_21);
          if (!stats.is_object()) throw std::runtime_error("the monitor lost its connection");
          if (stats.value("connections", 0) == 1) break;
          co_await pause(20ms);
        }
        finished = true;
        watchdog.cancel();
      },
      [&](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            figures.problem(std::string("soak driver failed: ") + e.what());
          }
        }
      });
  io.run();

  const long rss_end = server.rss_kib();
  const int fds_end = server.open_descriptors();
  std::printf(
      "soak: %d s, %d chaos slots, %ld chaos actions (%ld resets, %ld garbage lines, %ld stallers, "
      "%ld oversize), "
      "%ld published, %ld checked deliveries\n",
      seconds, kChaosSlots, figures.chaos_actions, figures.resets, figures.garbage_lines,
      figures.stallers, figures.oversize, figures.published, figures.delivered_to_checkers);
  std::printf(
      "soak: server RSS %ld KiB at start, %ld KiB at end; descriptors %d at start, %d at end\n",
      rss_start, rss_end, fds_start, fds_end);
  if (!finished) figures.problem("the soak did not finish");
  if (fds_end > fds_start) figures.problem("descriptors did not return to the baseline");
#ifndef PARLEY_SANITIZED
  // Retained history (20 messages on each chaos topic) and allocator caches stay; a leak
  // of per-session state over thousands of sessions would not fit in this.
  if (rss_end - rss_start > 48 * 1024) figures.problem("server RSS grew by more than 48 MiB");
#endif
  if (server.wait_exit(0ms)) figures.problem("the server exited during the soak");
  for (const auto& p : figures.problems) std::printf("soak: PROBLEM %s\n", p.c_str());
  if (figures.violations != 0) {
    std::istringstream log(server.log());
    for (std::string line; std::getline(log, line);) {
      if (line.find("checker") != std::string::npos || line.find("pub-") != std::string::npos ||
          line.find("warn") != std::string::npos || line.find("error") != std::string::npos) {
        std::printf("soak: server log: %s\n", line.c_str());
      }
    }
  }
  std::printf("soak: %s (%ld problems)\n", figures.violations == 0 ? "passed" : "FAILED",
              figures.violations);
  return figures.violations == 0 ? 0 : 1;
}
