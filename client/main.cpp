// parley: the Parley client. Parses the command line and runs one subcommand on one event
// loop; the subcommands live in their own files.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "bench.hpp"
#include "bench_stats.hpp"
#include "chat.hpp"
#include "cli_docs.hpp"
#include "commands.hpp"
#include "input_checks.hpp"
#include "parley/common/duration.hpp"
#include "parley/common/endpoint.hpp"
#include "parley/protocol/version.hpp"
#include "passwd.hpp"
#include "script.hpp"
#include "tls_context.hpp"

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

// Where a value came from, for error messages: the flag when the command line has it,
// else the environment variable that set it (PARLEY_TIMEOUT=abc must not be blamed on
// a --timeout nobody typed).
class ValueSource {
 public:
  ValueSource(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  std::string operator()(const std::string& flag, const char* env) const {
    for (const auto& arg : args_) {
      if (arg == flag || arg.starts_with(flag + "=")) return flag;
    }
    return env != nullptr && std::getenv(env) != nullptr ? std::string(env) : flag;
  }

 private:
  std::vector<std::string> args_;
};

struct TlsFlags {
  bool all = false;  // --tls: every address speaks TLS
  parley::client::TlsFiles files;
};

// Fills the parsed forms of the common options; a usage error's reason when one is bad.
std::optional<std::string> finish_common(CommonOptions& common, const std::string& timeout,
                                         bool timeout_given, bool name_given, const TlsFlags& tls,
                                         const ValueSource& source) {
  auto servers = parley::common::parse_endpoints(common.server, "127.0.0.1");
  if (!servers) {
    return source("--server", "PARLEY_SERVER") + ": '" + common.server +
           "' is not a server address: " + std::string(parley::common::kEndpointRule) +
           ", several separated by commas";
  }
  common.servers = std::move(*servers);
  bool any_tls = false;
  for (auto& endpoint : common.servers) {
    endpoint.tls = endpoint.tls || tls.all;
    any_tls = any_tls || endpoint.tls;
  }
  const bool tls_flags = !tls.files.ca.empty() || !tls.files.cert.empty() ||
                         !tls.files.key.empty() || tls.files.insecure;
  if (tls_flags && !any_tls)
    return "--tls-ca, --tls-cert, --tls-key and --tls-insecure need a TLS server: add --tls, or "
           "write the address as tls://HOST:PORT or wss://HOST:PORT/ws";
  if (any_tls) {
    auto context = parley::client::make_tls_context(tls.files);
    if (auto* problem = std::get_if<std::string>(&context)) return *problem;
    common.tls.context = std::get<0>(std::move(context));
    common.tls.insecure = tls.files.insecure;
    common.tls.client_cert = !tls.files.cert.empty();
  }
  if (timeout_given) {
    const auto parsed = parley::common::parse_duration(timeout);
    if (!parsed) {
      return source("--timeout", "PARLEY_TIMEOUT") + ": '" + timeout +
             "' is not a duration: " + std::string(parley::common::kDurationRule);
    }
    common.connect_timeout = *parsed;
    common.reply_timeout = *parsed;
  }
  if (name_given) {
    if (auto problem = name_problem(common.name))
      return source("--name", "PARLEY_NAME") + ": " + *problem;
  }
  return std::nullopt;
}

// The name to use when none was given: $USER when it is a name the server could accept.
void default_name(CommonOptions& common) {
  if (!common.name.empty()) return;
  const char* user = std::getenv("USER");
  if (user == nullptr || name_problem(user)) return;
  common.name = user;
  common.name_is_default = true;
}

// Colours only for a person at a capable terminal who has not said no (no-color.org).
bool colour_wanted(bool no_color) {
  const char* term = std::getenv("TERM");
  return !no_color && std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO) &&
         (term == nullptr || std::string(term) != "dumb");
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"parley: chat, publish, subscribe and script against a Parley server"};
  app.name("parley");
  app.set_version_flag("--version", "parley " + std::string(parley::protocol::kSoftwareVersion));
  app.require_subcommand(0, 1);
  app.fallthrough();  // global options may follow the subcommand: parley ping --server X
  CommonOptions common;
  app.add_option("--server", common.server,
                 "Server address HOST:PORT, or several separated by commas (tried in turn)")
      ->envname("PARLEY_SERVER")
      ->capture_default_str();
  auto* name_option =
      app.add_option("--name", common.name, "Name to say hello with (chat: default $USER)")
          ->envname("PARLEY_NAME");
  app.add_option("--token", common.token, "The server's shared token")->envname("PARLEY_TOKEN");
  app.add_option("--password", common.password,
                 "The account's password (chat asks for it when the server wants one)")
      ->envname("PARLEY_PASSWORD");
  TlsFlags tls;
  app.add_flag("--tls", tls.all, "Speak TLS to every --server address (as tls://HOST:PORT does)");
  app.add_option("--tls-ca", tls.files.ca,
                 "Trust the CA certificate in this PEM file instead of the system's")
      ->envname("PARLEY_TLS_CA");
  app.add_option("--tls-cert", tls.files.cert,
                 "Client certificate (PEM) for servers that ask for one (mutual TLS)");
  app.add_option("--tls-key", tls.files.key, "Private key (PEM) of --tls-cert");
  app.add_flag("--tls-insecure", tls.files.insecure,
               "Do not check the server's certificate or name (unsafe: for tests only)");
  std::string timeout_text;
  auto* timeout_option =
      app.add_option("--timeout", timeout_text,
                     "Wait at most this long to connect and for each reply (default 5s; 250ms, 2s)")
          ->envname("PARLEY_TIMEOUT");
  std::string output_format = "text";
  app.add_option("--output", output_format, "Output format of results and messages")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  bool no_color = false;
  app.add_flag("--no-color,--no-colour", no_color, "No colours (also NO_COLOR or TERM=dumb)");
  OutputOptions output;
  bool no_time = false;
  bool json_flag = false;

  auto* chat = app.add_subcommand("chat", "Interactive chat (plain lines when not on a terminal)");
  std::vector<std::string> joins;
  chat->add_option("--join", joins, "Rooms to join at start (repeatable)");

  auto* pub = app.add_subcommand("pub", "Publish DATA, or each stdin line, to TOPIC");
  std::string topic;
  std::optional<std::string> data;
  pub->add_option("topic", topic, "Topic")->required();
  pub->add_option("data", data, "JSON value (sent exactly as written), or text sent as a string");

  auto* sub = app.add_subcommand("sub", "Print messages on topics matching PATTERN");
  std::string pattern;
  std::optional<std::string> group;
  std::optional<std::string> count_text;
  sub->add_option("pattern", pattern, "Pattern (* one token, > the rest)")->required();
  sub->add_option("--group", group, "Queue group");
  sub->add_option("--count", count_text, "Exit after N messages (N at least 1)");
  sub->add_flag("--json", json_flag, "Print raw frames (same as --output json)");
  sub->add_flag("--no-time", no_time, "No time stamps in front of messages");

  auto* tell = app.add_subcommand("tell", "Send DATA to one user");
  std::string to;
  std::string tell_data;
  tell->add_option("name", to, "Recipient")->required();
  tell->add_option("data", tell_data, "JSON value or text")->required();

  auto* who = app.add_subcommand("who", "Members of a room");
  who->add_option("topic", topic, "Room")->required();
  who->add_flag("--json", json_flag, "Print the raw reply");

  auto* topics = app.add_subcommand("topics", "Topics with members or history");
  std::optional<std::string> topics_pattern;
  topics->add_option("pattern", topics_pattern, "Only topics matching this pattern");
  topics->add_flag("--json", json_flag, "Print the raw reply");

  auto* history = app.add_subcommand("history", "Retained messages of a topic");
  std::optional<int> limit;
  std::optional<std::uint64_t> before;
  history->add_option("topic", topic, "Topic")->required();
  history->add_option("--limit", limit, "Newest N messages (1-1000)")->check(CLI::Range(1, 1000));
  history->add_option("--before", before, "Only messages with seq below this");
  history->add_flag("--json", json_flag, "Print the raw reply");
  history->add_flag("--no-time", no_time, "No time stamps in front of messages");

  auto* stats = app.add_subcommand("stats", "Server counters");
  stats->add_flag("--json", json_flag, "Print the raw reply");

  auto* ping = app.add_subcommand(
      "ping", "Exit 0 when the server answers within --timeout (default 2s; a health check)");

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
  bench_cmd
      ->add_option("--server-pid", bench_options.server_pid,
                   "The server's process, for its CPU per delivered message (default: the one "
                   "listening on a loopback --server's port; -1: none)")
      ->check(CLI::Range(-1L, 4194304L));
  bench_cmd->add_flag("--ws", bench_options.ws,
                      "WebSocket: --server is the server's HTTP listener, /ws its path (with "
                      "--tls: wss)");

  auto* passwd = app.add_subcommand(
      "passwd", "Print the hash of a password (asked without echo, or one stdin line) for --users");

  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->group("");  // hidden: for packagers and dotfiles, not everyday use
  std::string shell;
  completion->add_option("shell", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  auto* man = app.add_subcommand("man", "Print the man page (roff)");
  man->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    // An unknown subcommand: say so, then show what there is.
    const auto extras = app.remaining();
    const std::string what = app.get_subcommands().empty() && !extras.empty()
                                 ? "unknown command '" + extras.front() + "'"
                                 : e.what();
    std::fprintf(stderr, "parley: %s\n\n%s", what.c_str(), app.help().c_str());
    return kUsage;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "parley: %s (see --help)\n", e.what());
    return kUsage;
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
    return kOk;
  }
  if (*completion) {
    std::fputs((shell == "bash" ? bash_completion(app) : zsh_completion(app)).c_str(), stdout);
    return kOk;
  }
  if (*man) {
    std::fputs(man_page(app).c_str(), stdout);
    return kOk;
  }
  if (*passwd) return run_passwd();
  const ValueSource source(argc, argv);
  if (auto problem =
          finish_common(common, timeout_text, timeout_option->count() > 0 || !timeout_text.empty(),
                        name_option->count() > 0 || !common.name.empty(), tls, source)) {
    return report(Failure{kUsage, *problem});
  }
  output.json = json_flag || output_format == "json";
  output.times = !no_time;
  output.colour = colour_wanted(no_color);
  std::optional<long> count;
  if (count_text) {
    count = parse_count(*count_text, 1, 1L << 40);
    if (!count) {
      return report(Failure{kUsage, "--count takes a whole number of messages, at least 1 ('" +
                                        *count_text + "' is not)"});
    }
  }

  if (*chat) {
    default_name(common);
    return run([&] { return run_chat(common, joins, output.colour); });
  }
  if (*pub) return run([&] { return run_pub(common, topic, data); });
  if (*sub) return run([&] { return run_sub(common, pattern, group, count, output); });
  if (*tell) return run([&] { return run_tell(common, to, tell_data); });
  if (*who) return run([&] { return run_who(common, topic, output); });
  if (*topics) return run([&] { return run_topics(common, topics_pattern, output); });
  if (*history) return run([&] { return run_history(common, topic, limit, before, output); });
  if (*stats) return run([&] { return run_stats(common, output); });
  if (*ping) {
    // A health check answers fast or not at all: 2 s unless --timeout says otherwise.
    const auto timeout =
        timeout_text.empty() ? std::chrono::milliseconds(2000) : common.reply_timeout;
    return run([&] { return run_ping(common, timeout); });
  }
  if (*script) return run([&] { return run_scripts(common, files, verbose); });
  if (*bench_cmd) return run([&] { return run_bench(common, bench_options); });
  return run([&] { return run_raw(common); });
}
