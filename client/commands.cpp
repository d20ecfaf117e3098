#include "commands.hpp"

#include <cstdio>
#include <iostream>

#include "input_lines.hpp"
#include "render.hpp"

namespace parley::client {
namespace {

using Clock = std::chrono::steady_clock;

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Connects (and greets when asked); on failure reports and returns the exit code.
asio::awaitable<std::optional<int>> open_session(Session& session, bool always_hello = false) {
  if (auto failed = co_await session.open(always_hello)) co_return report(*failed);
  co_return std::nullopt;
}

// Runs one request and prints its reply with `render`, or the raw frame.
template <class Render>
asio::awaitable<int> one_request(CommonOptions options, json frame, OutputOptions output,
                                 Render render) {
  Session session(co_await asio::this_coro::executor, std::move(options));
  if (auto code = co_await open_session(session)) co_return *code;
  auto reply = co_await session.request(std::move(frame));
  if (auto* failed = std::get_if<Failure>(&reply)) co_return report(*failed);
  const json& result = std::get<json>(reply);
  if (output.json) {
    print_line(session.last_reply_line());
  } else {
    render(result);
  }
  co_return kOk;
}

}  // namespace

int report(const Failure& failure) {
  std::fprintf(stderr, "parley: %s\n", failure.reason.c_str());
  return failure.exit_code;
}

asio::awaitable<int> run_ping(CommonOptions options, std::chrono::milliseconds timeout) {
  const auto started = Clock::now();
  options.connect_timeout = timeout;
  options.reply_timeout = timeout;
  Session session(co_await asio::this_coro::executor, options);
  if (auto failed = co_await session.open()) {
    std::fprintf(stderr, "parley: ping failed: %s\n", failed->reason.c_str());
    co_return kServerError;  // a health check knows only healthy or not
  }
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_1 = json{{"op", "ping"}};
  auto reply = co_await session.request(std::move(request_1));
  if (auto* failed = std::get_if<Failure>(&reply)) {
    std::fprintf(stderr, "parley: ping failed: %s\n", failed->reason.c_str());
    co_return kServerError;
  }
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  print_line("pong from " + options.server + " in " +
             std::to_string(static_cast<double>(took.count()) / 1000.0).substr(0, 5) + " ms");
  co_return kOk;
}

asio::awaitable<int> run_pub(CommonOptions options, std::string topic,
                             std::optional<std::string> data) {
  Session session(co_await asio::this_coro::executor, std::move(options));
  if (auto code = co_await open_session(session)) co_return *code;
  if (data) {
    // Named first: GCC 12 miscompiles braced lists inside co_await.
    json request_2 = json{{"op", "pub"}, {"topic", topic}, {"data", parse_data(*data)}};
    auto reply = co_await session.request(std::move(request_2));
    if (auto* failed = std::get_if<Failure>(&reply)) co_return report(*failed);
    co_return kOk;
  }
  // One message per input line; each is acknowledged so that errors surface per line.
  InputLines input(co_await asio::this_coro::executor);
  long line_number = 0;
  while (auto line = co_await input.next()) {
    ++line_number;
    if (line->empty()) continue;
    // Named first: GCC 12 miscompiles braced lists inside co_await.
    json request_3 = json{{"op", "pub"}, {"topic", topic}, {"data", parse_data(*line)}};
    auto reply = co_await session.request(std::move(request_3));
    if (auto* failed = std::get_if<Failure>(&reply)) {
      failed->reason = "line " + std::to_string(line_number) + ": " + failed->reason;
      co_return report(*failed);
    }
  }
  co_return kOk;
}

asio::awaitable<int> run_sub(CommonOptions options, std::string pattern,
                             std::optional<std::string> group, std::optional<long> count,
                             OutputOptions output) {
  auto executor = co_await asio::this_coro::executor;
  long received = 0;
  auto backoff = std::chrono::milliseconds(100);
  bool connected_once = false;
  while (true) {
    Session session(executor, options);
    if (auto failed = co_await session.open()) {
      if (!connected_once) co_return report(*failed);
      // The server went away under us: keep trying, more slowly each time.
      asio::steady_timer pause(executor, backoff);
      co_await pause.async_wait(asio::use_awaitable);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    if (connected_once) std::fprintf(stderr, "parley: reconnected to %s\n", options.server.c_str());
    json sub = {{"op", "sub"}, {"topic", pattern}};
    if (group) sub["group"] = *group;
    auto reply = co_await session.request(sub);
    if (auto* failed = std::get_if<Failure>(&reply)) {
      // A refusal is final; a connection that dies before the reply (a server restarting
      // again) is one more reason to reconnect, once we have been connected.
      if (!connected_once || !failed->connection_lost) co_return report(*failed);
      std::fprintf(stderr, "parley: %s, reconnecting\n", failed->reason.c_str());
      asio::steady_timer pause(executor, backoff);
      co_await pause.async_wait(asio::use_awaitable);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    connected_once = true;
    backoff = std::chrono::milliseconds(100);
    std::string line;
    while (!count || received < *count) {
      const auto read = co_await session.connection().read(line, std::chrono::hours(24));
      if (read == Connection::Read::timeout) continue;
      if (read == Connection::Read::closed) break;
      const json frame = json::parse(line, nullptr, false);
      if (frame.is_discarded()) continue;
      const std::string op = frame.value("op", "");
      if (op == "ping") {
        co_await session.connection().send(R"({"op":"pong"})");
        continue;
      }
      if (op == "bye") {
        std::fprintf(stderr, "parley: the server said bye (%s)\n",
                     frame.value("reason", "").c_str());
        continue;
      }
      if (op != "msg") continue;
      print_line(output.json ? line : render_event(frame));
      ++received;
    }
    if (count && received >= *count) co_return kOk;
    std::fprintf(stderr, "parley: lost the connection to %s, reconnecting\n",
                 options.server.c_str());
  }
}

asio::awaitable<int> run_tell(CommonOptions options, std::string to, std::string data) {
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_4 = json{{"op", "tell"}, {"to", to}, {"data", parse_data(data)}};
  co_return co_await one_request(std::move(options), std::move(request_4), OutputOptions{},
                                 [](const json&) {});
}

asio::awaitable<int> run_who(CommonOptions options, std::string topic, OutputOptions output) {
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_5 = json{{"op", "who"}, {"topic", topic}};
  co_return co_await one_request(std::move(options), std::move(request_5), output,
                                 [](const json& reply) {
                                   for (const auto& name : reply.value("members", json::array())) {
                                     print_line(name.get<std::string>());
                                   }
                                 });
}

asio::awaitable<int> run_topics(CommonOptions options, std::optional<std::string> pattern,
                                OutputOptions output) {
  json frame = {{"op", "topics"}};
  if (pattern) frame["pattern"] = *pattern;
  co_return co_await one_request(std::move(options), frame, output, [](const json& reply) {
    for (const auto& t : reply.value("topics", json::array())) {
      print_line(t.value("topic", "") + "  members=" + std::to_string(t.value("members", 0)) +
                 "  seq=" + std::to_string(t.value("seq", 0)));
    }
  });
}

asio::awaitable<int> run_history(CommonOptions options, std::string topic, std::optional<int> limit,
                                 std::optional<std::uint64_t> before, OutputOptions output) {
  json frame = {{"op", "history"}, {"topic", topic}};
  if (limit) frame["limit"] = *limit;
  if (before) frame["before"] = *before;
  co_return co_await one_request(std::move(options), frame, output, [](const json& reply) {
    for (const auto& m : reply.value("messages", json::array())) {
      print_line("[" + std::to_string(m.value("seq", 0)) + "] <" + m.value("from", "") + "> " +
                 render_data(m.value("data", json())));
    }
  });
}

asio::awaitable<int> run_stats(CommonOptions options, OutputOptions output) {
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_6 = json{{"op", "stats"}};
  co_return co_await one_request(std::move(options), std::move(request_6), output,
                                 [](const json& reply) {
                                   for (const auto& [key, value] : reply.items()) {
                                     if (key != "op" && key != "id")
                                       print_line(key + ": " + value.dump());
                                   }
                                 });
}

asio::awaitable<int> run_raw(CommonOptions options) {
  auto executor = co_await asio::this_coro::executor;
  Session session(executor, std::move(options));
  if (auto code = co_await open_session(session)) co_return *code;
  Connection& connection = session.connection();
  // Server frames are printed as they come while stdin lines go out; at the end of input
  // the client closes its side and prints what is still on the way.
  bool input_done = false;
  asio::co_spawn(
      executor,
      [&]() -> asio::awaitable<void> {
        InputLines input(executor);
        while (auto line = co_await input.next()) {
          if (!line->empty() && !co_await connection.send(*line)) break;
        }
        input_done = true;
        connection.shutdown_send();
      },
      asio::detached);
  std::string line;
  while (true) {
    const auto read = co_await connection.read(line, std::chrono::hours(24));
    if (read == Connection::Read::closed) break;
    if (read == Connection::Read::frame) print_line(line);
  }
  if (!input_done) std::fprintf(stderr, "parley: the server closed the connection\n");
  co_return kOk;
}

}  // namespace parley::client
