// A Session over the test-only socketpair transport: the same session code the server runs
// over TCP, with the real hub and dispatcher, on an io_context this test drives. Proves the
// Transport seam and walks the close path's phases one by one.
#include <sys/socket.h>

#include <asio.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "session.hpp"
#include "stream_transport.hpp"

using namespace parley::server;
using json = nlohmann::json;
using Phase = Session::Phase;

namespace {

DispatchOptions options() {
  DispatchOptions o;
  o.limits = {.max_frame = 65536, .max_subs = 1000, .ping_interval_s = 30};
  return o;
}

// One client end of a socketpair, the session on the other end, and the loop between.
class Pair {
 public:
  explicit Pair(Hub& hub, Dispatcher& dispatcher, SessionRegistry& registry,
                const SessionSettings& settings, asio::io_context& io)
      : io_(io), client_(io) {
    asio::local::stream_protocol::socket server_end(io);
    asio::local::connect_pair(client_, server_end);
    client_.non_blocking(true);
    session = std::make_shared<Session>(
        std::make_unique<LocalTransport>(
            SocketStream<asio::local::stream_protocol::socket>(std::move(server_end))),
        hub, dispatcher, registry, settings);
    Session::start(session);
  }

  // Writes all of `bytes`, running the loop whenever the socket pushes back. Returns false
  // when the session's end stopped taking them.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      std::error_code ec;
      const std::size_t n = client_.write_some(asio::buffer(bytes), ec);
      if (ec == asio::error::would_block) {
        io_.run_for(std::chrono::milliseconds(1));
        continue;
      }
      if (ec) return false;
      bytes.remove_prefix(n);
    }
    io_.poll();
    return true;
  }

  // Runs the loop until `count` frames arrived or the stream ended (within a bound).
  std::vector<json> frames(std::size_t count) {
    std::vector<json> out;
    for (int round = 0; round < 2000 && out.size() < count && !eof_; ++round) {
      io_.run_for(std::chrono::milliseconds(1));
      take(out, count);
    }
    return out;
  }
  // Every frame until the session's end closes.
  std::vector<json> until_eof() { return frames(~std::size_t{0}); }
  bool eof() const noexcept { return eof_; }
  void shutdown_write() { client_.shutdown(asio::socket_base::shutdown_send); }
  // Runs the loop until `done()` holds (within a bound).
  template <class Done>
  bool run_until(Done done) {
    for (int round = 0; round < 2000 && !done(); ++round) io_.run_for(std::chrono::milliseconds(1));
    return done();
  }

  std::shared_ptr<Session> session;

 private:
  void take(std::vector<json>& out, std::size_t count) {
    char chunk[65536];
    while (out.size() < count) {
      std::error_code ec;
      const std::size_t n = client_.read_some(asio::buffer(chunk), ec);
      if (ec == asio::error::would_block) break;
      if (ec) {
        eof_ = true;
        break;
      }
      buffer_.append(chunk, n);
      std::size_t newline;
      while ((newline = buffer_.find('\n')) != std::string::npos) {
        out.push_back(json::parse(buffer_.substr(0, newline)));
        buffer_.erase(0, newline + 1);
      }
    }
  }

  asio::io_context& io_;
  asio::local::stream_protocol::socket client_;
  std::string buffer_;
  bool eof_ = false;
};

struct World {
  explicit World(SessionSettings s = {}) : settings(s) {}
  // Sessions keep themselves alive until closed: close what a test left open.
  ~World() {
    registry.for_each([](Session& s) { s.close(CloseReason::deadline); });
    io.poll();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  asio::io_context io{1};
  Hub hub{HubLimits{}};
  Dispatcher dispatcher{hub, options(), std::chrono::system_clock::now()};
  SessionRegistry registry;
  SessionSettings settings;
  Pair connect() { return Pair(hub, dispatcher, registry, settings, io); }
};

}  // namespace

TEST_CASE("a session over the socketpair transport answers, delivers, and closes on quit") {
  World world;
  Pair c = world.connect();
  REQUIRE(c.send(R"({"op":"hello","name":"ann","id":1})"
                 "\n"
                 R"({"op":"sub","topic":"t","id":2})"
                 "\n"
                 R"({"op":"pub","topic":"t","data":{"x":1},"id":3})"
                 "\n"
                 R"({"op":"quit","id":4})"
                 "\n"));
  const auto frames = c.until_eof();
  REQUIRE(frames.size() == 5);
  CHECK(frames[0]["op"] == "welcome");
  CHECK(frames[1] == json({{"op", "ok"}, {"id", 2}}));
  CHECK(frames[2]["op"] == "msg");
  CHECK(frames[2]["data"] == json({{"x", 1}}));
  CHECK(frames[3] == json({{"op", "ok"}, {"id", 3}}));
  CHECK(frames[4] == json({{"op", "bye"}, {"id", 4}, {"reason", "quit"}}));
  CHECK(c.eof());
  // The client has not closed its side: the session lingers, then goes at our EOF.
  CHECK(c.session->phase() == Phase::lingering);
  c.shutdown_write();
  REQUIRE(c.run_until([&] { return c.session->phase() == Phase::closed; }));
  CHECK(world.registry.size() == 0);
  REQUIRE(c.run_until([&] { return world.hub.session_count() == 0; }));
}

TEST_CASE("a line past max_frame while the client keeps writing: error, bye, then lingering") {
  SessionSettings settings;
  settings.max_frame = 1024;
  World world(settings);
  Pair c = world.connect();
  REQUIRE(c.send(std::string(200'000, 'x')));  // taken and discarded, never a reset
  const auto frames = c.until_eof();
  REQUIRE(frames.size() == 2);
  CHECK(frames[0]["code"] == "frame_too_large");
  CHECK(frames[1] == json({{"op", "bye"}, {"reason", "frame_too_large"}}));
  CHECK(c.session->phase() == Phase::lingering);
  REQUIRE(c.send(std::string(100'000, 'y')));  // still discarded while lingering
  CHECK(c.session->phase() == Phase::lingering);
  // The linger ends at its deadline even if the client never closes.
  c.session->tick(Session::Clock::now() + settings.linger_time + std::chrono::milliseconds(1));
  CHECK(c.session->phase() == Phase::closed);
}

TEST_CASE("a slow consumer: the backlog is dropped, error and bye follow the frame in flight") {
  SessionSettings settings;
  settings.outbound_limit = 64 << 10;
  World world(settings);
  Pair reader = world.connect();
  REQUIRE(reader.send(R"({"op":"sub","topic":"flood","id":1})"
                      "\n"));
  REQUIRE(reader.frames(1).size() == 1);
  Pair writer = world.connect();
  const std::string pub =
      R"({"op":"pub","topic":"flood","data":")" + std::string(1000, 'f') + "\"}\n";
  int published = 0;
  while (world.hub.counters().slow_consumers == 0 && published < 100'000) {
    std::string batch;
    for (int i = 0; i < 50; ++i) batch += pub;
    REQUIRE(writer.send(batch));
    published += 50;
  }
  REQUIRE(world.hub.counters().slow_consumers == 1);
  const auto frames = reader.until_eof();
  REQUIRE(frames.size() >= 2);
  CHECK(frames[frames.size() - 2]["code"] == "slow_consumer");
  CHECK(frames.back() == json({{"op", "bye"}, {"reason", "slow_consumer"}}));
  // Only what the kernel already held, and the frame in flight, came before the last words.
  CHECK(frames.size() - 2 < static_cast<std::size_t>(published));
  for (std::size_t i = 0; i + 2 < frames.size(); ++i) CHECK(frames[i]["op"] == "msg");
}
TEST_CASE("a reply never cuts its reader off, and input waits while replies are backed up") {
  SessionSettings settings;
  settings.outbound_limit = 4 << 10;  // far below one history reply
  World world(settings);
  Pair c = world.connect();
  std::string seed;
  for (int i = 0; i < 50; ++i) {
    seed += R"({"op":"pub","topic":"h","data":")" + std::string(500, 'h') + "\"}\n";
  }
  REQUIRE(c.send(seed));
  std::string asks;
  for (int i = 0; i < 20; ++i)
    asks += R"({"op":"history","topic":"h","limit":50,"id":)" + std::to_string(i) + "}\n";
  REQUIRE(c.send(asks));
  const auto frames = c.frames(20);
  REQUIRE(frames.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(frames[static_cast<std::size_t>(i)]["id"] == i);
  CHECK(world.hub.counters().slow_consumers == 0);
  CHECK(c.session->phase() == Phase::open);
}
