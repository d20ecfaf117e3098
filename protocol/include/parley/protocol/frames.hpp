#pragma once
// Builders for every server-to-client frame. Each returns one complete line ending in '\n'.
// `id` arguments are the JSON text of the request's id (see Decoded::id).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/error_code.hpp"

namespace parley::protocol {

using IdText = std::optional<std::string_view>;

struct Limits {
  std::size_t max_frame;
  std::size_t max_subs;
  double ping_interval_s;  // whole seconds print without a fraction
};

struct TopicSummary {
  std::string topic;
  std::size_t members;
  std::uint64_t seq;
};

struct StatsReport {
  std::uint64_t uptime_s = 0;
  std::uint64_t connections = 0;
  std::uint64_t topics = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t msgs_in = 0;
  std::uint64_t msgs_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t slow_consumers = 0;
  // In a cluster: this node's id and the number of nodes alive (both left out otherwise).
  std::optional<std::uint64_t> nodes;
  std::string node;
};

// A stored or live `msg` frame; history entries are these lines with the '\n' removed.
std::string build_msg(std::string_view topic, std::string_view from, std::string_view data_json,
                      std::uint64_t seq, std::int64_t ts_ms, std::optional<std::string_view> reply);
std::string build_tell_msg(std::string_view to, std::string_view from, std::string_view data_json,
                           std::int64_t ts_ms);

// `node`: the answering server's id (stable for the process, unique among servers).
std::string build_welcome(IdText id, std::string_view name, std::uint64_t session,
                          const Limits& limits, std::string_view node);
std::string build_ok(IdText id);
std::string build_error(IdText id, ErrorCode code, std::string_view message);
std::string build_presence(std::string_view topic, std::string_view name, bool joined);
// One page of a topic's retained messages: msg lines without their '\n', oldest first,
// the topic's epoch, and whether something asked for was left out (`"more":true`).
struct MessagePage {
  std::span<const std::string_view> messages;
  std::string_view epoch;
  bool more = false;
};
std::string build_joined(IdText id, std::string_view topic, std::span<const std::string> members,
                         const MessagePage& history, std::optional<bool> recovered);
std::string build_who(IdText id, std::string_view topic, std::span<const std::string> members);
// `more`: further topics matched past the `limit` entries given.
std::string build_topics(IdText id, std::span<const TopicSummary> topics, bool more);
std::string build_history(IdText id, std::string_view topic, const MessagePage& messages);
std::string build_stats(IdText id, const StatsReport& stats);
std::string build_ping();
std::string build_pong(IdText id);
std::string build_bye(IdText id, std::string_view reason);

// Appends `text` as a JSON string literal (quotes included), escaping as JSON requires.
void append_json_string(std::string& out, std::string_view text);

}  // namespace parley::protocol
