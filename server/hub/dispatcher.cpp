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
  call.self.reply(make_frame(std::move(frame)));
}

void Dispatcher::fail(Call& call, ErrorCode code, std::string_view message) {
  counters_.count_error(code);
  reply(call, protocol::build_error(call.id, code, message));
}

Disposition Dispatcher::answer(Call& call, std::string frame) {
  call.state.acted = true;
  reply(call, std::move(frame));
  return Disposition::keep_open;
}

Disposition Dispatcher::finish(Call& call, const Status& status) {
  if (status) {
    fail(call, status->code, status->message);
    return Disposition::keep_open;
  }
  call.state.acted = true;
  if (call.id) reply(call, protocol::build_ok(call.id));
  return Disposition::keep_open;
}

bool Dispatcher::within_rate(Call& call, bool allowed) {
  if (!allowed)
    fail(call, ErrorCode::rate_limited, "publish rate exceeded; the message was dropped");
  return allowed;
}

Disposition Dispatcher::handle(SessionState& state, Peer& self, std::string_view frame,
                               Clock::time_point now, std::int64_t wall_ms) {
  protocol::Decoded decoded = protocol::decode_request(frame);
  if (decoded.op) ++counters_.requests[static_cast<std::size_t>(*decoded.op)];
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
      if (authenticate(call, std::get<protocol::Hello>(decoded.request)) == Disposition::close)
        return Disposition::close;
    } else if (op != Op::ping && op != Op::quit) {
      fail(call, ErrorCode::not_authenticated, "say hello with the server's token first");
      return Disposition::keep_open;
    }
  }
  if (decoded.fault) {
    fail(call, decoded.fault->code, decoded.fault->message);
    return Disposition::keep_open;
  }
  return std::visit([&](const auto& request) { return on(call, request); }, decoded.request);
}

// The token check of a hello on a server with a token (a password alone counts for nothing
// until accounts exist). Failures are throttled per client address and reported to
// on_auth_failure; the session is closed after error and bye.
Disposition Dispatcher::authenticate(Call& call, const protocol::Hello& hello) {
  const std::string_view address = call.state.peer_address;
  std::string_view reason;
  const bool throttled = auth_throttle_.blocked(address, call.now);
  if (throttled) {
    reason = "too many failed hellos from this address; try again later";
  } else if (!hello.token) {
    reason = "this server requires a token";
  } else if (!constant_time_equal(*options_.token, *hello.token)) {
    reason = "wrong token";
  } else {
    return Disposition::keep_open;
  }
  if (!throttled) auth_throttle_.record_failure(address, call.now);
  ++counters_.auth_failures;
  if (options_.on_auth_failure) {
    std::optional<std::string_view> name;
    if (hello.name) name = *hello.name;
    options_.on_auth_failure(AuthFailure{call.state.id, address, name, reason, throttled});
  }
  fail(call, ErrorCode::auth_failed, reason);
  reply(call, protocol::build_bye(std::nullopt, "auth_failed"));
  return Disposition::close;
}

Disposition Dispatcher::on(Call& call, const protocol::Hello& request) {
  SessionState& state = call.state;
  if (state.greeted || state.acted) {
    fail(call, ErrorCode::already_greeted, "hello must come first, and only once");
    return Disposition::keep_open;
  }
  if (const Status status = hub_.greet(state.id, request.name, request.echo)) {
    fail(call, status->code, status->message);
    return Disposition::keep_open;
  }
  state.greeted = true;
  state.authenticated = true;
  reply(call, protocol::build_welcome(call.id, hub_.name_of(state.id), state.id, options_.limits,
                                      hub_.node_id()));
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Sub& request) {
  return finish(call, hub_.subscribe(call.state.id, request.pattern, request.group));
}

Disposition Dispatcher::on(Call& call, const protocol::Unsub& request) {
  return finish(call, hub_.unsubscribe(call.state.id, request.pattern));
}

Disposition Dispatcher::on(Call& call, const protocol::Pub& request) {
  if (!within_rate(call, call.state.rate.allow_publish(call.now))) return Disposition::keep_open;
  std::optional<std::string_view> reply_to;
  if (request.reply) reply_to = *request.reply;
  hub_.publish(call.state.id, request.topic, request.data, reply_to, call.wall_ms);
  return finish(call, std::nullopt);
}

Disposition Dispatcher::on(Call& call, const protocol::Join& request) {
  JoinView view;
  if (const Status status = hub_.join(call.state.id, request.topic, request.history, request.since,
                                      request.epoch, view)) {
    fail(call, status->code, status->message);
    return Disposition::keep_open;
  }
  return answer(call, protocol::build_joined(call.id, request.topic, view.members,
                                             view.history.page(), view.recovered));
}

Disposition Dispatcher::on(Call& call, const protocol::Leave& request) {
  return finish(call, hub_.leave(call.state.id, request.topic));
}

Disposition Dispatcher::on(Call& call, const protocol::Tell& request) {
  if (!within_rate(call, call.state.rate.allow_tell(call.now))) return Disposition::keep_open;
  return finish(call, hub_.tell(call.state.id, request.to, request.data, call.wall_ms));
}

Disposition Dispatcher::on(Call& call, const protocol::Who& request) {
  return answer(call, protocol::build_who(call.id, request.topic, hub_.who(request.topic)));
}

Disposition Dispatcher::on(Call& call, const protocol::Topics& request) {
  const TopicsView view = hub_.topics(request.pattern, request.limit, request.after);
  return answer(call, protocol::build_topics(call.id, view.topics, view.more));
}

Disposition Dispatcher::on(Call& call, const protocol::History& request) {
  const MessagesView view =
      hub_.history(request.topic, request.limit, request.before, request.after);
  return answer(call, protocol::build_history(call.id, request.topic, view.page()));
}

Disposition Dispatcher::on(Call& call, const protocol::Stats& /*request*/) {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_);
  return answer(call, protocol::build_stats(
                          call.id, hub_.stats_report(static_cast<std::uint64_t>(uptime.count()))));
}

// ping keeps the hello window open: it is not "doing something".
Disposition Dispatcher::on(Call& call, const protocol::Ping& /*request*/) {
  reply(call, protocol::build_pong(call.id));
  return Disposition::keep_open;
}

// Never reached: handle() drops pong before dispatching.
Disposition Dispatcher::on(Call& /*call*/, const protocol::Pong& /*request*/) {
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Quit& /*request*/) {
  reply(call, protocol::build_bye(call.id, "quit"));
  return Disposition::close;
}

}  // namespace parley::server
