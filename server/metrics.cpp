#include "metrics.hpp"

#include <fmt/format.h>

#include <iterator>

#include "parley/protocol/error_code.hpp"
#include "parley/protocol/request.hpp"

namespace parley::server {
namespace {

class Writer {
 public:
  // One metric family: its HELP and TYPE lines.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  void sample(std::string_view name, std::uint64_t value, std::string_view labels = {}) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
    } else {
      fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
    }
  }
  void one(std::string_view name, std::string_view type, std::string_view help,
           std::uint64_t value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string take() { return std::move(out_); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

}  // namespace

std::string render_metrics(const MetricsSnapshot& s) {
  Writer w;
  w.family("parley_connections", "gauge", "Open protocol sessions by transport.");
  w.sample("parley_connections", s.tcp_connections, "transport=\"tcp\"");
  w.sample("parley_connections", s.ws_connections, "transport=\"websocket\"");
  w.sample("parley_connections", s.tls_connections, "transport=\"tls\"");
  w.sample("parley_connections", s.wss_connections, "transport=\"wss\"");
  w.one("parley_http_connections", "gauge", "Open HTTP connections not upgraded to WebSocket.",
        s.http_connections);
  w.one("parley_http_requests_total", "counter", "HTTP requests answered.", s.http_requests);
  w.one("parley_sessions_total", "counter", "Protocol sessions opened since start.",
        s.hub->sessions_total);
  w.one("parley_frames_received_total", "counter", "Protocol frames (requests) received.",
        s.frames_in);
  w.one("parley_frames_sent_total", "counter", "Protocol frames written to clients.", s.frames_out);
  w.one("parley_messages_received_total", "counter", "Messages published (pub and tell).",
        s.hub->msgs_in);
  w.one("parley_deliveries_total", "counter", "Messages delivered to recipients.", s.hub->msgs_out);
  w.one("parley_received_bytes_total", "counter", "Bytes received from clients.", s.hub->bytes_in);
  w.one("parley_sent_bytes_total", "counter", "Bytes sent to clients, framing included.",
        s.hub->bytes_out);
  w.one("parley_slow_consumers_total", "counter", "Sessions cut off as slow consumers.",
        s.hub->slow_consumers);
  w.one("parley_subscriptions", "gauge", "Subscriptions and room joins.", s.subscriptions);
  w.one("parley_topics", "gauge", "Topics with members or history.", s.topics);
  w.one("parley_history_bytes", "gauge", "Memory charged to topic records and history.",
        s.history_bytes);
  w.family("parley_requests_total", "counter", "Decoded requests by op.");
  for (std::size_t i = 0; i < s.dispatch->requests.size(); ++i) {
    w.sample("parley_requests_total", s.dispatch->requests[i],
             fmt::format("op=\"{}\"", protocol::to_string(static_cast<protocol::Op>(i))));
  }
  w.family("parley_errors_total", "counter", "Error frames sent, by code.");
  for (std::size_t i = 0; i < s.dispatch->errors.size(); ++i) {
    w.sample("parley_errors_total", s.dispatch->errors[i],
             fmt::format("code=\"{}\"", protocol::to_string(static_cast<protocol::ErrorCode>(i))));
  }
  w.one("parley_auth_failures_total", "counter", "Hellos refused with auth_failed.",
        s.dispatch->auth_failures);
  w.one("parley_draining", "gauge", "1 while the server drains for shutdown.", s.draining ? 1 : 0);
  w.one("parley_uptime_seconds", "gauge", "Seconds since the server started.", s.uptime_seconds);

  const auto& lag = *s.loop_lag;
  w.family("parley_event_loop_lag_seconds", "histogram",
           "How late a periodic timer fires: the time a ready handler waits for the loop.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LoopLagProbe::kBounds.size(); ++i) {
    cumulative += lag.counts[i];
    fmt::format_to(std::back_inserter(w.out()),
                   "parley_event_loop_lag_seconds_bucket{{le=\"{}\"}} {}\n",
                   LoopLagProbe::kBounds[i], cumulative);
  }
  fmt::format_to(std::back_inserter(w.out()),
                 "parley_event_loop_lag_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "parley_event_loop_lag_seconds_sum {}\n"
                 "parley_event_loop_lag_seconds_count {}\n",
                 lag.count, lag.sum_seconds, lag.count);
  return w.take();
}

}  // namespace parley::server
