#include "commands.hpp"

#include <cstdio>

#include "backoff.hpp"
#include "input_checks.hpp"
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

RenderStyle style_of(const OutputOptions& output, const std::string& me) {
  RenderStyle style;
  style.colour = output.colour;
  style.times = output.times;
  style.me = me;
  return style;
}

int usage_error(const std::string& reason) {
  return report(Failure{kUsage, reason});
}

// Connects (and greets when asked); on failure reports and returns the exit code.
asio::awaitable<std::optional<int>> open_session(ClientSession& session,
                                                 bool always_hello = false) {
  if (auto failed = co_await session.open(always_hello)) co_return report(*failed);
  co_return std::nullopt;
}

// Runs one request and prints its reply with `render`, or the raw frame.
template <class Render>
asio::awaitable<int> one_request(CommonOptions options, json frame, OutputOptions output,
                                 Render render) {
  ClientSession session(co_await asio::this_coro::executor, std::move(options));
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

// The frame for publishing DATA: JSON DATA goes out exactly as written (key order and
// number spelling kept), anything else as a string.
std::string pub_frame(const std::string& topic, const std::string& data, std::uint64_t id) {
  const json head = {{"op", "pub"}, {"topic", topic}, {"id", "c" + std::to_string(id)}};
  if (json::parse(data, nullptr, false).is_discarded()) {
    json frame = head;
    frame["data"] = data;
    return frame.dump();
  }
  return with_raw_data(head, data);
}

// Publishes one DATA, refusing locally what the server would refuse for its size (it
// would close the connection over it). Empty on success, else the reason.
asio::awaitable<std::optional<Failure>> publish(ClientSession& session, const std::string& topic,
                                                const std::string& data) {
  const json head = {{"op", "pub"}, {"topic", topic}};
  const bool is_json = !json::parse(data, nullptr, false).is_discarded();
  const std::size_t size = pub_frame(topic, data, 999999).size();
  if (session.max_frame() != 0 && size > session.max_frame()) {
    co_return Failure{kServerError, "not sent: the message is " + std::to_string(size) +
                                        " bytes as a frame and the server takes at most " +
                                        std::to_string(session.max_frame())};
  }
  std::variant<json, Failure> reply;
  if (is_json) {
    reply = co_await session.request(head, data);
  } else {
    json frame = head;
    frame["data"] = data;
    reply = co_await session.request(std::move(frame));
  }
  if (auto* failed = std::get_if<Failure>(&reply)) co_return *failed;
  co_return std::nullopt;
}

}  // namespace

int report(const Failure& failure) {
  std::fprintf(stderr, "parley: %s\n", failure.reason.c_str());
  return failure.exit_code;
}

asio::awaitable<int> run_ping(CommonOptions options, std::chrono::milliseconds timeout) {
  const auto started = Clock::now();
  options.connect_timeout = std::max(timeout, std::chrono::milliseconds(1));
  options.reply_timeout = options.connect_timeout;
  ClientSession session(co_await asio::this_coro::executor, options);
  if (auto failed = co_await session.open()) {
    std::fprintf(stderr, "parley: ping failed: %s\n", failed->reason.c_str());
    co_return failed->exit_code;
  }
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_1 = json{{"op", "ping"}};
  auto reply = co_await session.request(std::move(request_1));
  if (auto* failed = std::get_if<Failure>(&reply)) {
    // Reached but not answered in time (or refused): unhealthy, not unreachable.
    std::fprintf(stderr, "parley: ping failed: %s\n", failed->reason.c_str());
    co_return kServerError;
  }
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  const std::string ms = std::to_string(static_cast<double>(took.count()) / 1000.0).substr(0, 5);
  if (took > timeout) {
    // A health check: an answer later than asked for is no answer.
    std::fprintf(stderr, "parley: ping failed: the pong took %s ms, over the %lld ms timeout\n",
                 ms.c_str(), static_cast<long long>(timeout.count()));
    co_return kServerError;
  }
  print_line("pong from " + session.endpoint().text() + " in " + ms + " ms");
  co_return kOk;
}

asio::awaitable<int> run_pub(CommonOptions options, std::string topic,
                             std::optional<std::string> data) {
  if (auto problem = topic_problem(topic)) co_return usage_error(*problem);
  ClientSession session(co_await asio::this_coro::executor, std::move(options));
  // Always greeted: the welcome says how large a frame may be.
  if (auto code = co_await open_session(session, true)) co_return *code;
  if (data) {
    if (auto failed = co_await publish(session, topic, *data)) co_return report(*failed);
    co_return kOk;
  }
  // One message per input line; each is acknowledged so that errors surface per line. A
  // line refused for its size is reported and skipped; the exit code says so at the end.
  InputLines input(co_await asio::this_coro::executor);
  long line_number = 0;
  int exit_code = kOk;
  while (auto line = co_await input.next()) {
    ++line_number;
    if (line->empty()) continue;
    if (auto failed = co_await publish(session, topic, *line)) {
      failed->reason = "line " + std::to_string(line_number) + ": " + failed->reason;
      if (failed->connection_lost || !failed->code.empty()) co_return report(*failed);
      exit_code = report(*failed);
    }
  }
  co_return exit_code;
}

asio::awaitable<int> run_sub(CommonOptions options, std::string pattern,
                             std::optional<std::string> group, std::optional<long> count,
                             OutputOptions output) {
  if (auto problem = pattern_problem(pattern)) co_return usage_error(*problem);
  auto executor = co_await asio::this_coro::executor;
  long received = 0;
  Backoff backoff;
  bool connected_once = false;
  std::size_t server = 0;
  // Built by a plain function: GCC 12 miscompiles braced aggregates in coroutine frames.
  const RenderStyle style = style_of(output, options.name);
  while (true) {
    ClientSession session(executor, options, server);
    auto failed = co_await session.open();
    json sub = {{"op", "sub"}, {"topic", pattern}};
    if (group) sub["group"] = *group;
    if (!failed) {
      auto reply = co_await session.request(sub);
      if (auto* refused = std::get_if<Failure>(&reply)) failed = *refused;
    }
    if (failed) {
      // A refusal is final; a server that is away (restarting, or one of several) is a
      // reason to try again, once we have been connected.
      if (!connected_once || !failed->connection_lost) co_return report(*failed);
      std::fprintf(stderr, "parley: %s, trying again\n", failed->reason.c_str());
      server = session.server_index() + 1;  // the next address, when there are several
      co_await backoff.wait();
      continue;
    }
    if (connected_once)
      std::fprintf(stderr, "parley: reconnected to %s\n", session.endpoint().text().c_str());
    connected_once = true;
    backoff.reset();
    std::string line;
    while (!count || received < *count) {
      const auto read = co_await session.connection().read(line, std::chrono::hours(24));
      if (read == Connection::Read::timeout) continue;
      if (read == Connection::Read::closed) break;
      const json frame = json::parse(line, nullptr, false);
      if (frame.is_discarded()) continue;
      const std::string op = frame.value("op", "");
      if (op == "bye") {
        std::fprintf(stderr, "parley: %s\n", render_event(frame, style).c_str());
        continue;
      }
      if (op != "msg") continue;
      print_line(output.json ? line : render_event(frame, style));
      ++received;
    }
    if (count && received >= *count) co_return kOk;
    std::fprintf(stderr, "parley: lost the connection to %s, reconnecting\n",
                 session.endpoint().text().c_str());
    server = session.server_index() + 1;
  }
}

asio::awaitable<int> run_tell(CommonOptions options, std::string to, std::string data) {
  if (auto problem = name_problem(to, true)) co_return usage_error(*problem);
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_4 = json{{"op", "tell"}, {"to", to}, {"data", parse_data(data)}};
  co_return co_await one_request(std::move(options), std::move(request_4), OutputOptions{},
                                 [](const json&) {});
}

asio::awaitable<int> run_who(CommonOptions options, std::string topic, OutputOptions output) {
  topic = strip_room_mark(topic);
  if (auto problem = topic_problem(topic)) co_return usage_error(*problem);
  // Named first: GCC 12 miscompiles braced lists inside co_await.
  json request_5 = json{{"op", "who"}, {"topic", topic}};
  co_return co_await one_request(std::move(options), std::move(request_5), output,
                                 [](const json& reply) {
                                   for (const auto& name : reply.value("members", json::array())) {
                                     print_line(render_name(name.get<std::string>(), false));
                                   }
                                 });
}

asio::awaitable<int> run_topics(CommonOptions options, std::optional<std::string> pattern,
                                OutputOptions output) {
  if (pattern) {
    if (auto problem = pattern_problem(*pattern)) co_return usage_error(*problem);
  }
  json frame = {{"op", "topics"}};
  if (pattern) frame["pattern"] = *pattern;
  co_return co_await one_request(std::move(options), frame, output, [](const json& reply) {
    for (const auto& t : reply.value("topics", json::array())) {
      print_line(render_name(t.value("topic", ""), false) +
                 "  members=" + std::to_string(t.value("members", 0)) +
                 "  seq=" + std::to_string(t.value("seq", 0)));
    }
  });
}

asio::awaitable<int> run_history(CommonOptions options, std::string topic, std::optional<int> limit,
                                 std::optional<std::uint64_t> before, OutputOptions output) {
  topic = strip_room_mark(topic);
  if (auto problem = topic_problem(topic)) co_return usage_error(*problem);
  json frame = {{"op", "history"}, {"topic", topic}};
  if (limit) frame["limit"] = *limit;
  if (before) frame["before"] = *before;
  // Named first: GCC 12 destroys a capturing lambda built inside co_await twice.
  const auto render = [style = style_of(output, "")](const json& reply) {
    for (const auto& m : reply.value("messages", json::array())) {
      print_line("[" + std::to_string(m.value("seq", 0)) + "] " + render_event(m, style));
    }
  };
  co_return co_await one_request(std::move(options), frame, output, render);
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
  ClientSession session(executor, std::move(options));
  if (auto code = co_await open_session(session)) co_return *code;
  Connection& connection = session.connection();
  connection.set_answer_pings(false);  // raw shows and sends exactly what the user does
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
