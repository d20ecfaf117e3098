#pragma once
// /metrics: the Prometheus text exposition format (version 0.0.4) of what the server
// counts. The counters themselves are plain integers bumped on the event loop by the hub,
// the dispatcher and the sessions; this only reads them, at scrape time.
#include <cstdint>
#include <string>

#include "dispatcher.hpp"
#include "hub.hpp"
#include "loop_lag.hpp"

namespace parley::server {

struct MetricsSnapshot {
  const HubCounters* hub = nullptr;
  const DispatchCounters* dispatch = nullptr;
  const LoopLagProbe::Histogram* loop_lag = nullptr;
  std::uint64_t tcp_connections = 0;   // protocol sessions over plain TCP
  std::uint64_t ws_connections = 0;    // protocol sessions over WebSocket
  std::uint64_t tls_connections = 0;   // protocol sessions over TLS
  std::uint64_t wss_connections = 0;   // protocol sessions over WebSocket over TLS
  std::uint64_t http_connections = 0;  // HTTP connections not (yet) upgraded
  std::uint64_t http_requests = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t topics = 0;
  std::uint64_t history_bytes = 0;
  std::uint64_t uptime_seconds = 0;
  bool draining = false;
};

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace parley::server
