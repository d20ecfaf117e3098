// parley: the Parley client. Parses the command line and runs one subcommand on one event
// loop; the subcommands live in their own files.
#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <optional>

#include "bench.hpp"
#include "bench_stats.hpp"
#include "chat.hpp"
#include "commands.hpp"
#include "script.hpp"

namespace {

using namespace parley::client;

// Runs one subcommand coroutine to completion; Ctrl-C ends it with exit code 130.
int run(const std::function<asio::awaitable<int>()>& command) {
  asio::io_context io(1);
  int exit_code = kServerError;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    exit_code = 130;
    io.stop();
  });
  asio::co_spawn(io, command(), [&](const std::exception_ptr& error, int code) {
    exit_code = code;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "parley: %s\n", e.what());
        exit_code = kServerError;
      }
    }
    io.stop();
  });
  io.run();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"parley: chat, publish, subscribe and script against a Parley server"};
  app.set_version_flag("--version", "parley 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand: parley ping --server X
  CommonOptions common;
  app.add_option("--server", common.server, "Server address HOST:PORT")
      ->envname("PARLEY_SERVER")
      ->capture_default_str();
  app.add_option("--name", common.name, "Name to say hello with");
  app.add_option("--token", common.token, "The server's shared token")->envname("PARLEY_TOKEN");
  OutputOptions output;

  auto* chat = app.add_subcommand("chat", "Interactive chat (plain lines when not on a terminal)");
  std::vector<std::string> joins;
  chat->add_option("--join", joins, "Rooms to join at start (repeatable)");

  auto* pub = app.add_subcommand("pub", "Publish DATA, or each stdin line, to TOPIC");
  std::string topic;
  std::optional<std::string> data;
  pub->add_option("topic", topic, "Topic")->required();
  pub->add_option("data", data, "JSON value, or text sent as a string");

  auto* sub = app.add_subcommand("sub", "Print messages on topics matching PATTERN");
  std::string pattern;
  std::optional<std::string> group;
  std::optional<long> count;
  sub->add_option("pattern", pattern, "Pattern (* one token, > the rest)")->required();
  sub->add_option("--group", group, "Queue group");
  sub->add_option("--count", count, "Exit after N messages")->check(CLI::PositiveNumber);
  sub->add_flag("--json", output.json, "Print raw frames");

  auto* tell = app.add_subcommand("tell", "Send DATA to one user");
  std::string to;
  std::string tell_data;
  tell->add_option("name", to, "Recipient")->required();
  tell->add_option("data", tell_data, "JSON value or text")->required();

  auto* who = app.add_subcommand("who", "Members of a room");
  who->add_option("topic", topic, "Room")->required();
  who->add_flag("--json", output.json, "Print the raw reply");

  auto* topics = app.add_subcommand("topics", "Topics with members or history");
  std::optional<std::string> topics_pattern;
  topics->add_option("pattern", topics_pattern, "Only topics matching this pattern");
  topics->add_flag("--json", output.json, "Print the raw reply");

  auto* history = app.add_subcommand("history", "Retained messages of a topic");
  std::optional<int> limit;
  std::optional<std::uint64_t> before;
  history->add_option("topic", topic, "Topic")->required();
  history->add_option("--limit", limit, "Newest N messages (1-1000)");
  history->add_option("--before", before, "Only messages with seq below this");
  history->add_flag("--json", output.json, "Print the raw reply");

  auto* stats = app.add_subcommand("stats", "Server counters");
  stats->add_flag("--json", output.json, "Print the raw reply");

  auto* ping =
      app.add_subcommand("ping", "Exit 0 when the server answers in time (a health check)");
  double timeout_s = 2;
  ping->add_option("--timeout", timeout_s, "Seconds to wait")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  app.add_subcommand("raw", "Send stdin lines as frames, print frames received");

  auto* script = app.add_subcommand("script", "Run scenario scripts (docs/scripts.md)");
  std::vector<std::string> files;
  bool verbose = false;
  script->add_option("files", files, "Script files")->required()->check(CLI::ExistingFile);
  script->add_flag("-v,--verbose", verbose, "Print each step as it runs");

  auto* bench_cmd = app.add_subcommand(
      "bench", "Load test: publishers and subscribers on one topic, throughput and latency");
  BenchOptions bench_options;
  bench_cmd->add_option("--pubs", bench_options.pubs, "Publisher connections")
      ->capture_default_str()
      ->check(CLI::Range(1, static_cast<int>(bench::kMaxPublishers)));
  bench_cmd->add_option("--subs", bench_options.subs, "Subscriber connections")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  bench_cmd->add_option("--size", bench_options.size, "Payload bytes per message (at least 40)")
      ->capture_default_str()
      ->check(CLI::Range(bench::kHeaderSize, std::size_t{16} << 20));
  auto* bench_msgs =
      bench_cmd->add_option("--msgs", bench_options.msgs, "Messages in total, across publishers")
          ->capture_default_str()
          ->check(CLI::PositiveNumber);
  bench_cmd
      ->add_option("--duration", bench_options.duration_s, "Publish for SECONDS instead of --msgs")
      ->check(CLI::PositiveNumber)
      ->excludes(bench_msgs);
  bench_cmd->add_option("--rate", bench_options.rate, "Total publish rate cap, msgs/s (0: no cap)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench_cmd->add_option("--topic", bench_options.topic, "Topic (default bench.<random>)");
  bench_cmd
      ->add_option("--window", bench_options.window,
                   "Publishers stay at most N messages ahead of subscriber 0 (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  bench_cmd->add_flag("--json", bench_options.json, "Print one JSON object instead of the summary");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "parley: %s (see --help)\n", e.what());
    return kUsage;
  }

  if (*chat) return run([&] { return run_chat(common, joins); });
  if (*pub) return run([&] { return run_pub(common, topic, data); });
  if (*sub) return run([&] { return run_sub(common, pattern, group, count, output); });
  if (*tell) return run([&] { return run_tell(common, to, tell_data); });
  if (*who) return run([&] { return run_who(common, topic, output); });
  if (*topics) return run([&] { return run_topics(common, topics_pattern, output); });
  if (*history) return run([&] { return run_history(common, topic, limit, before, output); });
  if (*stats) return run([&] { return run_stats(common, output); });
  if (*ping) {
    const auto timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
    return run([&] { return run_ping(common, timeout); });
  }
  if (*script) return run([&] { return run_scripts(common, files, verbose); });
  if (*bench_cmd) return run([&] { return run_bench(common, bench_options); });
  return run([&] { return run_raw(common); });
}
