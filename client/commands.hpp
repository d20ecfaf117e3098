#pragma once
// The one-shot subcommands: each returns its exit code and prints its result on stdout,
// or one line of reason on stderr.
#include <asio.hpp>
#include <optional>
#include <string>

#include "client_session.hpp"

namespace parley::client {

struct OutputOptions {
  bool json = false;  // raw frames instead of readable lines (--output json)
  bool times = true;  // time stamps in front of messages (--no-time turns them off)
  bool colour = false;
};

asio::awaitable<int> run_ping(CommonOptions options, std::chrono::milliseconds timeout);
asio::awaitable<int> run_pub(CommonOptions options, std::string topic,
                             std::optional<std::string> data);
asio::awaitable<int> run_sub(CommonOptions options, std::string pattern,
                             std::optional<std::string> group, std::optional<long> count,
                             OutputOptions output);
asio::awaitable<int> run_tell(CommonOptions options, std::string to, std::string data);
asio::awaitable<int> run_who(CommonOptions options, std::string topic, OutputOptions output);
asio::awaitable<int> run_topics(CommonOptions options, std::optional<std::string> pattern,
                                OutputOptions output);
asio::awaitable<int> run_history(CommonOptions options, std::string topic, std::optional<int> limit,
                                 std::optional<std::uint64_t> before, OutputOptions output);
asio::awaitable<int> run_stats(CommonOptions options, OutputOptions output);
asio::awaitable<int> run_raw(CommonOptions options);

// Prints a failure's reason on stderr and returns its exit code.
int report(const Failure& failure);

}  // namespace parley::client
