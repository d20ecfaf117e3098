#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "script.hpp"

namespace parley::client {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

class Runner {
 public:
  Runner(asio::any_io_executor executor, CommonOptions options, std::string file, bool verbose)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        file_(std::move(file)),
        verbose_(verbose) {}

  // Empty on success, else the failure message.
  asio::awaitable<std::string> run(const std::vector<Step>& steps) {
    for (const Step& step : steps) {
      if (verbose_)
        std::fprintf(stderr, "%s:%zu: %s\n", file_.c_str(), step.line, step.text.c_str());
      std::string problem = co_await run_step(step);
      if (!problem.empty())
        co_return file_ + ":" + std::to_string(step.line) + ": " + step.text + "\n  " + problem;
    }
    co_return std::string();
  }

 private:
  asio::awaitable<std::string> run_step(const Step& step) {
    if (step.kind == Step::Kind::sleep) {
      asio::steady_timer timer(executor_, step.time);
      co_await timer.async_wait(asio::use_awaitable);
      co_return std::string();
    }
    if (step.kind == Step::Kind::connect) co_return co_await connect(step);
    const auto it = clients_.find(step.client);
    if (it == clients_.end()) co_return "no client named '" + step.client + "' (connect it first)";
    Connection& c = *it->second;
    std::string line;
    switch (step.kind) {
      case Step::Kind::send:
        if (!co_await c.send(step.raw)) co_return std::string("the connection is closed");
        co_return std::string();
      case Step::Kind::expect: {
        const auto read = co_await c.read(line, step.time);
        if (read == Connection::Read::frame) {
          const json got = json::parse(line, nullptr, false);
          if (!got.is_discarded() && json_matches(got, step.frame)) co_return std::string();
          co_return "expected " + step.frame.dump() + "\n  got      " + line;
        }
        co_return "expected " + step.frame.dump() + "\n  got      " + describe(read, step.time);
      }
      case Step::Kind::wait: {
        const auto deadline = Clock::now() + step.time;
        std::vector<std::string> skipped;
        while (true) {
          const auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
          const auto read = co_await c.read(line, std::max(left, std::chrono::milliseconds(0)));
          if (read != Connection::Read::frame) {
            std::string text =
                "waited for " + step.frame.dump() + "\n  got      " + describe(read, step.time);
            for (const auto& s : skipped) text += "\n  skipped  " + s;
            co_return text;
          }
          const json got = json::parse(line, nullptr, false);
          if (!got.is_discarded() && json_matches(got, step.frame)) co_return std::string();
          skipped.push_back(line);
        }
      }
      case Step::Kind::silent: {
        const auto read = co_await c.read(line, step.time);
        if (read == Connection::Read::timeout) co_return std::string();
        if (read == Connection::Read::closed)
          co_return std::string("expected silence, the connection closed");
        co_return "expected nothing for " + std::to_string(step.time.count()) + " ms\n  got      " +
            line;
      }
      case Step::Kind::close:
        c.close();
        clients_.erase(it);
        co_return std::string();
      case Step::Kind::drop:
        c.reset();
        clients_.erase(it);
        co_return std::string();
      case Step::Kind::closed: {
        const auto deadline = Clock::now() + step.time;
        while (true) {
          const auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
          const auto read = co_await c.read(line, std::max(left, std::chrono::milliseconds(0)));
          if (read == Connection::Read::closed) co_return std::string();
          if (read == Connection::Read::timeout) {
            co_return "expected the server to close within " + std::to_string(step.time.count()) +
                " ms";
          }
        }
      }
      default:
        co_return std::string("unhandled step");
    }
  }

  asio::awaitable<std::string> connect(const Step& step) {
    if (clients_.contains(step.client))
      co_return "a client named '" + step.client + "' is already connected";
    const Endpoint* endpoint = &options_.servers.front();
    auto connection = std::make_unique<Connection>(executor_);
    connection->set_answer_pings(false);  // a script sees every frame, as written
    const std::string failure =
        co_await connection->connect(*endpoint, options_.connect_timeout, options_.tls);
    if (!failure.empty()) {
      cannot_connect_ = true;
      co_return failure;
    }
    if (step.user || step.token) {
      json hello = {{"op", "hello"}, {"id", "script-hello"}};
      if (step.user) hello["name"] = *step.user;
      if (step.token) hello["token"] = *step.token;
      co_await connection->send(hello.dump());
      std::string line;
      const auto read = co_await connection->read(line, options_.reply_timeout);
      if (read != Connection::Read::frame)
        co_return "no welcome: " + describe(read, options_.reply_timeout);
      if (json::parse(line, nullptr, false).value("op", "") != "welcome")
        co_return "hello refused: " + line;
    }
    clients_.emplace(step.client, std::move(connection));
    co_return std::string();
  }

  static std::string describe(Connection::Read read, std::chrono::milliseconds time) {
    if (read == Connection::Read::closed) return "the connection closed";
    return "nothing within " + std::to_string(time.count()) + " ms";
  }

 public:
  bool cannot_connect_ = false;

 private:
  asio::any_io_executor executor_;
  CommonOptions options_;
  std::string file_;
  bool verbose_;
  std::map<std::string, std::unique_ptr<Connection>> clients_;
};

// A token for ${run}: letters and digits, valid in names and topics alike.
std::string run_token() {
  static std::mt19937_64 random(std::random_device{}());
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string token = "r";
  for (int i = 0; i < 7; ++i) token.push_back(kDigits[random() % 36]);
  return token;
}

}  // namespace

bool json_matches(const json& actual, const json& partial) {
  if (partial.is_object()) {
    if (!actual.is_object()) return false;
    // nlohmann's items() view is not a std::ranges range, so all_of cannot take it.
    for (const auto& [key, value] : partial.items()) {  // NOLINT(readability-use-anyofallof)
      const auto it = actual.find(key);
      if (it == actual.end() || !json_matches(*it, value)) return false;
    }
    return true;
  }
  if (partial.is_array()) {
    // Same length, each element matching: a history can be checked without its ts.
    if (!actual.is_array() || actual.size() != partial.size()) return false;
    for (std::size_t i = 0; i < partial.size(); ++i) {
      if (!json_matches(actual[i], partial[i])) return false;
    }
    return true;
  }
  return actual == partial;
}

asio::awaitable<int> run_scripts(CommonOptions options, std::vector<std::string> files,
                                 bool verbose) {
  auto executor = co_await asio::this_coro::executor;
  int failed = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) {
      std::fprintf(stderr, "parley: cannot read %s\n", file.c_str());
      co_return kUsage;
    }
    std::stringstream source;
    source << in.rdbuf();
    const ParsedScript parsed = parse_script(source.str(), run_token());
    if (!parsed.error.empty()) {
      std::fprintf(stderr, "parley: %s:%s\n", file.c_str(), parsed.error.substr(4).c_str());
      co_return kUsage;
    }
    Runner runner(executor, options, file, verbose);
    const std::string problem = co_await runner.run(parsed.steps);
    if (problem.empty()) {
      std::printf("ok   %s (%zu steps)\n", file.c_str(), parsed.steps.size());
    } else {
      std::printf("FAIL %s\n", file.c_str());
      std::fprintf(stderr, "%s\n", problem.c_str());
      if (!parsed.server_flags.empty())
        std::fprintf(stderr, "  (this script needs a server started with %s)\n",
                     parsed.server_flags.c_str());
      if (runner.cannot_connect_) co_return kCannotConnect;
      ++failed;
    }
    std::fflush(stdout);
  }
  co_return failed == 0 ? kOk : kServerError;
}

}  // namespace parley::client
