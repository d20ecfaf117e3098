#include "parley/protocol/frames.hpp"

#include <charconv>

#include "parley/protocol/version.hpp"

namespace parley::protocol {
namespace {

template <class Integer>
void append_number(std::string& out, Integer value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;  // 24 characters hold any 64-bit integer
  out.append(digits, end);
}

// Starts `{"op":"<op>"` and adds `,"id":<id>` when there is one.
std::string open_frame(std::string_view op, IdText id, std::size_t reserve = 64) {
  std::string out;
  out.reserve(reserve);
  out.append(R"({"op":")").append(op).push_back('"');
  if (id) out.append(R"(,"id":)").append(*id);
  return out;
}

void append_key(std::string& out, std::string_view key) {
  out.append(",\"").append(key).append("\":");
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

template <class Integer>
void append_number_field(std::string& out, std::string_view key, Integer value) {
  append_key(out, key);
  append_number(out, value);
}

void append_string_array(std::string& out, std::span<const std::string> values) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, values[i]);
  }
  out.push_back(']');
}

void append_raw_array(std::string& out, std::span<const std::string_view> values) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.append(values[i]);
  }
  out.push_back(']');
}

std::string close_frame(std::string out) {
  out.append("}\n");
  return out;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (byte < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string build_msg(std::string_view topic, std::string_view from, std::string_view data_json,
                      std::uint64_t seq, std::int64_t ts_ms,
                      std::optional<std::string_view> reply) {
  std::string out =
      open_frame("msg", std::nullopt, 80 + topic.size() + from.size() + data_json.size());
  append_string_field(out, "topic", topic);
  append_string_field(out, "from", from);
  append_key(out, "data");
  out.append(data_json);
  append_number_field(out, "seq", seq);
  append_number_field(out, "ts", ts_ms);
  if (reply) append_string_field(out, "reply", *reply);
  return close_frame(std::move(out));
}

std::string build_tell_msg(std::string_view to, std::string_view from, std::string_view data_json,
                           std::int64_t ts_ms) {
  std::string out =
      open_frame("msg", std::nullopt, 64 + to.size() + from.size() + data_json.size());
  append_string_field(out, "to", to);
  append_string_field(out, "from", from);
  append_key(out, "data");
  out.append(data_json);
  append_number_field(out, "ts", ts_ms);
  return close_frame(std::move(out));
}

std::string build_welcome(IdText id, std::string_view name, std::uint64_t session,
                          const Limits& limits, std::string_view node) {
  std::string out = open_frame("welcome", id, 160);
  append_string_field(out, "name", name);
  append_number_field(out, "session", session);
  append_string_field(out, "server", kServerSoftware);
  out.append(R"(,"protocol":1)");
  out.append(R"(,"limits":{"max_frame":)");
  append_number(out, limits.max_frame);
  append_number_field(out, "max_subs", limits.max_subs);
  append_key(out, "ping_interval_s");
  append_number(out, limits.ping_interval_s);
  out.push_back('}');
  append_string_field(out, "node", node);
  return close_frame(std::move(out));
}

std::string build_ok(IdText id) {
  return close_frame(open_frame("ok", id));
}

std::string build_error(IdText id, ErrorCode code, std::string_view message) {
  std::string out = open_frame("error", id, 64 + message.size());
  append_string_field(out, "code", to_string(code));
  append_string_field(out, "message", message);
  return close_frame(std::move(out));
}

std::string build_presence(std::string_view topic, std::string_view name, bool joined) {
  std::string out = open_frame("presence", std::nullopt);
  append_string_field(out, "topic", topic);
  append_string_field(out, "name", name);
  append_string_field(out, "state", joined ? "join" : "leave");
  return close_frame(std::move(out));
}

std::string build_joined(IdText id, std::string_view topic, std::span<const std::string> members,
                         const MessagePage& history, std::optional<bool> recovered) {
  std::size_t size = 96 + topic.size() + history.epoch.size();
  for (const auto& m : members) size += m.size() + 3;
  for (const auto& h : history.messages) size += h.size() + 1;
  std::string out = open_frame("joined", id, size);
  append_string_field(out, "topic", topic);
  append_string_field(out, "epoch", history.epoch);
  append_key(out, "members");
  append_string_array(out, members);
  append_key(out, "history");
  append_raw_array(out, history.messages);
  if (recovered) {
    append_key(out, "recovered");
    out.append(*recovered ? "true" : "false");
  }
  if (history.more) out.append(R"(,"more":true)");
  return close_frame(std::move(out));
}

std::string build_who(IdText id, std::string_view topic, std::span<const std::string> members) {
  std::string out = open_frame("who", id);
  append_string_field(out, "topic", topic);
  append_key(out, "members");
  append_string_array(out, members);
  return close_frame(std::move(out));
}

std::string build_topics(IdText id, std::span<const TopicSummary> topics, bool more) {
  std::string out = open_frame("topics", id, 32 + topics.size() * 48);
  append_key(out, "topics");
  out.push_back('[');
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.append(R"({"topic":)");
    append_json_string(out, topics[i].topic);
    append_number_field(out, "members", topics[i].members);
    append_number_field(out, "seq", topics[i].seq);
    out.push_back('}');
  }
  out.push_back(']');
  if (more) out.append(R"(,"more":true)");
  return close_frame(std::move(out));
}

std::string build_history(IdText id, std::string_view topic, const MessagePage& messages) {
  std::size_t size = 96 + topic.size() + messages.epoch.size();
  for (const auto& m : messages.messages) size += m.size() + 1;
  std::string out = open_frame("history", id, size);
  append_string_field(out, "topic", topic);
  append_string_field(out, "epoch", messages.epoch);
  append_key(out, "messages");
  append_raw_array(out, messages.messages);
  if (messages.more) out.append(R"(,"more":true)");
  return close_frame(std::move(out));
}

std::string build_stats(IdText id, const StatsReport& s) {
  std::string out = open_frame("stats", id, 256);
  append_number_field(out, "uptime_s", s.uptime_s);
  append_number_field(out, "connections", s.connections);
  append_number_field(out, "topics", s.topics);
  append_number_field(out, "subscriptions", s.subscriptions);
  append_number_field(out, "msgs_in", s.msgs_in);
  append_number_field(out, "msgs_out", s.msgs_out);
  append_number_field(out, "bytes_in", s.bytes_in);
  append_number_field(out, "bytes_out", s.bytes_out);
  append_number_field(out, "slow_consumers", s.slow_consumers);
  if (s.nodes) {
    append_string_field(out, "node", s.node);
    append_number_field(out, "nodes", *s.nodes);
  }
  return close_frame(std::move(out));
}

std::string build_ping() {
  return close_frame(open_frame("ping", std::nullopt));
}

std::string build_pong(IdText id) {
  return close_frame(open_frame("pong", id));
}

std::string build_bye(IdText id, std::string_view reason) {
  std::string out = open_frame("bye", id);
  append_string_field(out, "reason", reason);
  return close_frame(std::move(out));
}

}  // namespace parley::protocol
