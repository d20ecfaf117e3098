#include "dispatcher.hpp"

#include <variant>

namespace parley::server {

using protocol::ErrorCode;
using protocol::Op;

// One request in flight: who sent it and the id its replies carry.
struct Dispatcher::Call {
  SessionState& state;
  Peer& self;
  protocol::IdText id;
  Clock::time_point now;
  std::int64_t wall_ms;
};

Dispatcher::Dispatcher(Hub& hub, DispatchOptions options,
                       std::chrono::system_clock::time_point started)
    : hub_(hub), options_(std::move(options)), started_(started) {}

void Dispatcher::reply(Call& call, std::string frame) {
  call.self.deliver(make_frame(std::move(frame)));
}

void Dispatcher::fail(Call& call, ErrorCode code, std::string_view message) {
  reply(call, protocol::build_error(call.id, code, message));
}

bool Dispatcher::check(Call& call, const Status& status) {
  if (!status) return true;
  fail(call, status->code, status->message);
  return false;
}

Disposition Dispatcher::handle(SessionState& state, Peer& self, std::string_view frame,
                               Clock::time_point now, std::int64_t wall_ms) {
  protocol::Decoded decoded = protocol::decode_request(frame);
  if (decoded.op == Op::pong) return Disposition::keep_open;  // never answered, changes nothing
  Call call{state, self, std::nullopt, now, wall_ms};
  if (decoded.id) call.id = *decoded.id;

  using protocol::FaultStage;
  if (decoded.fault &&
      (decoded.fault->stage == FaultStage::json || decoded.fault->stage == FaultStage::op)) {
    fail(call, decoded.fault->code, decoded.fault->message);
    return Disposition::keep_open;
  }
  const Op op = *decoded.op;
  if (!state.authenticated) {
    if (op == Op::hello) {
      const auto& hello = std::get<protocol::Hello>(decoded.request);
      if (!hello.token || *hello.token != *options_.token) {
        fail(call, ErrorCode::auth_failed,
             hello.token ? "wrong token" : "this server requires a token");
        reply(call, protocol::build_bye(std::nullopt, "auth_failed"));
        return Disposition::close;
      }
    } else if (op != Op::ping && op != Op::quit) {
      fail(call, ErrorCode::not_authenticated, "say hello with the server's token first");
      return Disposition::keep_open;
    }
  }
  if (decoded.fault) {
    fail(call, decoded.fault->code, decoded.fault->message);
    return Disposition::keep_open;
  }
  return dispatch(call, decoded);
}

Disposition Dispatcher::dispatch(Call& call, protocol::Decoded& decoded) {
  SessionState& state = call.state;
  const SessionId id = state.id;
  // Every successful request but ping (pong never gets here) closes the hello window.
  const auto acted = [&](bool ok) {
    state.acted = state.acted || ok;
    return Disposition::keep_open;
  };
  const auto ok_reply = [&](bool ok) {
    if (ok && call.id) reply(call, protocol::build_ok(call.id));
    return acted(ok);
  };

  return std::visit(
      [&](auto& request) -> Disposition {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, protocol::Hello>) {
          if (state.greeted || state.acted) {
            fail(call, ErrorCode::already_greeted, "hello must come first, and only once");
            return Disposition::keep_open;
          }
          if (!check(call, hub_.greet(id, request.name, request.echo)))
            return Disposition::keep_open;
          state.greeted = true;
          state.authenticated = true;
          reply(call, protocol::build_welcome(call.id, hub_.name_of(id), id, options_.limits));
          return Disposition::keep_open;
        } else if constexpr (std::is_same_v<T, protocol::Sub>) {
          return ok_reply(check(call, hub_.subscribe(id, request.pattern, request.group)));
        } else if constexpr (std::is_same_v<T, protocol::Unsub>) {
          return ok_reply(check(call, hub_.unsubscribe(id, request.pattern)));
        } else if constexpr (std::is_same_v<T, protocol::Pub>) {
          if (!state.rate.allow_publish(call.now)) {
            fail(call, ErrorCode::rate_limited, "publish rate exceeded; the message was dropped");
            return Disposition::keep_open;
          }
          std::optional<std::string_view> reply_to;
          if (request.reply) reply_to = *request.reply;
          hub_.publish(id, request.topic, request.data, reply_to, call.wall_ms);
          return ok_reply(true);
        } else if constexpr (std::is_same_v<T, protocol::Join>) {
          JoinView view;
          if (!check(call, hub_.join(id, request.topic, request.history, request.since, view))) {
            return Disposition::keep_open;
          }
          reply(call, protocol::build_joined(call.id, request.topic, view.members, view.history,
                                             view.recovered));
          return acted(true);
        } else if constexpr (std::is_same_v<T, protocol::Leave>) {
          return ok_reply(check(call, hub_.leave(id, request.topic)));
        } else if constexpr (std::is_same_v<T, protocol::Tell>) {
          if (!state.rate.allow_tell(call.now)) {
            fail(call, ErrorCode::rate_limited, "publish rate exceeded; the message was dropped");
            return Disposition::keep_open;
          }
          return ok_reply(check(call, hub_.tell(id, request.to, request.data, call.wall_ms)));
        } else if constexpr (std::is_same_v<T, protocol::Who>) {
          reply(call, protocol::build_who(call.id, request.topic, hub_.who(request.topic)));
          return acted(true);
        } else if constexpr (std::is_same_v<T, protocol::Topics>) {
          reply(call, protocol::build_topics(call.id, hub_.topics(request.pattern)));
          return acted(true);
        } else if constexpr (std::is_same_v<T, protocol::History>) {
          reply(call, protocol::build_history(
                          call.id, request.topic,
                          hub_.history(request.topic, request.limit, request.before)));
          return acted(true);
        } else if constexpr (std::is_same_v<T, protocol::Stats>) {
          const auto& c = hub_.counters();
          protocol::StatsReport report;
          report.uptime_s =
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now() - started_)
                                             .count());
          report.connections = hub_.session_count();
          report.topics = hub_.topic_count();
          report.subscriptions = hub_.subscription_count();
          report.msgs_in = c.msgs_in;
          report.msgs_out = c.msgs_out;
          report.bytes_in = c.bytes_in;
          report.bytes_out = c.bytes_out;
          report.slow_consumers = c.slow_consumers;
          reply(call, protocol::build_stats(call.id, report));
          return acted(true);
        } else if constexpr (std::is_same_v<T, protocol::Ping>) {
          reply(call, protocol::build_pong(call.id));
          return Disposition::keep_open;
        } else if constexpr (std::is_same_v<T, protocol::Quit>) {
          reply(call, protocol::build_bye(call.id, "quit"));
          return Disposition::close;
        } else {
          return Disposition::keep_open;  // Pong: handled before dispatch
        }
      },
      decoded.request);
}

}  // namespace parley::server
