#include "dispatcher.hpp"

#include <stdexcept>
#include <variant>

namespace parley::server {

using protocol::ErrorCode;
using protocol::Op;

namespace {
constexpr std::string_view kThrottled = "too many failed hellos from this address; try again later";

// The rights of the session's account, or null without accounts (everything allowed).
const auth::Permissions* rights_of(const SessionState& state) {
  return state.account ? &state.account->permissions : nullptr;
}
}  // namespace

// One request in flight: who sent it and the id its replies carry.
struct Dispatcher::Call {
  SessionState& state;
  Peer& self;
  protocol::IdText id;
  Clock::time_point now;
  std::int64_t wall_ms;
};

// A deferred request: where its reply goes once the engine has decided.
struct Dispatcher::Later {
  SessionId session;
  SessionState* state;  // valid while the hub still has the session (the session owns it)
  std::optional<std::string> id_text;
  std::uint64_t ticket;
  protocol::IdText id() const noexcept {
    return id_text ? protocol::IdText(*id_text) : std::nullopt;
  }
};

Dispatcher::Dispatcher(Hub& hub, DispatchOptions options,
                       std::chrono::system_clock::time_point started)
    : own_engine_(std::make_unique<LocalEngine>(hub)),
      engine_(*own_engine_),
      hub_(hub),
      options_(std::move(options)),
      started_(started) {}

Dispatcher::Dispatcher(Engine& engine, DispatchOptions options,
                       std::chrono::system_clock::time_point started)
    : engine_(engine), hub_(engine.hub()), options_(std::move(options)), started_(started) {}

void Dispatcher::reply(Call& call, std::string frame) {
  if (const auto held = held_.find(call.state.id); held != held_.end()) {
    held->second.push_back({++next_ticket_, make_frame(std::move(frame)), true});
    return;
  }
  call.self.reply(make_frame(std::move(frame)));
}

Dispatcher::Later Dispatcher::defer(Call& call) {
  const std::uint64_t ticket = ++next_ticket_;
  held_[call.state.id].push_back({ticket, nullptr, false});
  std::optional<std::string> id;
  if (call.id) id = std::string(*call.id);
  return Later{call.state.id, &call.state, std::move(id), ticket};
}

// An empty `frame` means the request has no reply (a successful tell without id).
void Dispatcher::complete(const Later& later, std::string frame, bool acted) {
  const auto held = held_.find(later.session);
  if (held == held_.end()) return;
  Peer* peer = hub_.contains(later.session) ? hub_.peer_of(later.session) : nullptr;
  if (peer == nullptr) {
    held_.erase(held);  // the session is gone: nobody to answer
    return;
  }
  if (acted) later.state->acted = true;
  auto& slots = held->second;
  for (Slot& slot : slots) {
    if (slot.ticket != later.ticket) continue;
    slot.ready = true;
    if (!frame.empty()) slot.frame = make_frame(std::move(frame));
    break;
  }
  while (!slots.empty() && slots.front().ready) {
    if (slots.front().frame) peer->reply(slots.front().frame);
    slots.pop_front();
  }
  if (slots.empty()) held_.erase(held);
}

void Dispatcher::complete_error(const Later& later, const HubError& error) {
  counters_.count_error(error.code);
  complete(later, protocol::build_error(later.id(), error.code, error.message), false);
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
    if (op == Op::hello && options_.users) return begin_account_hello(call, decoded);
    if (op == Op::hello) {
      if (authenticate(call, std::get<protocol::Hello>(decoded.request)) == Disposition::close)
        return Disposition::close;
    } else if (op != Op::ping && op != Op::quit) {
      fail(call, ErrorCode::not_authenticated,
           options_.users ? "say hello with your account's name and password first"
                          : "say hello with the server's token first");
      return Disposition::keep_open;
    }
  }
  if (decoded.fault) {
    fail(call, decoded.fault->code, decoded.fault->message);
    return Disposition::keep_open;
  }
  return std::visit([&](const auto& request) { return on(call, request); }, decoded.request);
}

// The token check of a hello on a server with a token. Failures are throttled per client
// address and reported to on_auth_failure; the session is closed after error and bye.
Disposition Dispatcher::authenticate(Call& call, const protocol::Hello& hello) {
  std::optional<std::string_view> name;
  if (hello.name) name = *hello.name;
  if (auth_throttle_.blocked(call.state.peer_address, call.now))
    return refuse_hello(call, name, kThrottled, true);
  if (!hello.token) return refuse_hello(call, name, "this server requires a token", false);
  if (!constant_time_equal(*options_.token, *hello.token))
    return refuse_hello(call, name, "wrong token", false);
  return Disposition::keep_open;
}

Disposition Dispatcher::refuse_hello(Call& call, std::optional<std::string_view> name,
                                     std::string_view reason, bool throttled) {
  const std::string_view address = call.state.peer_address;
  if (!throttled) auth_throttle_.record_failure(address, call.now);
  ++counters_.auth_failures;
  if (options_.on_auth_failure)
    options_.on_auth_failure(AuthFailure{call.state.id, address, name, reason, throttled});
  fail(call, ErrorCode::auth_failed, reason);
  reply(call, protocol::build_bye(std::nullopt, "auth_failed"));
  return Disposition::close;
}

// Everything that needs no hash is decided here, on the loop: a throttled address and a
// hello without name or password fail at once. The rest waits for its PasswordCheck.
Disposition Dispatcher::begin_account_hello(Call& call, const protocol::Decoded& decoded) {
  const auto& hello = std::get<protocol::Hello>(decoded.request);
  std::optional<std::string_view> name;
  if (hello.name) name = *hello.name;
  if (auth_throttle_.blocked(call.state.peer_address, call.now))
    return refuse_hello(call, name, kThrottled, true);
  if (!hello.name || !hello.password)
    return refuse_hello(call, name, "this server requires an account name and password", false);
  std::optional<std::string> id;
  if (call.id) id = std::string(*call.id);
  call.state.pending = PendingHello{std::move(id), hello, decoded.fault,
                                    PasswordCheck{options_.users, *hello.name, *hello.password}};
  return Disposition::verify;
}

std::shared_ptr<const auth::Account> PasswordCheck::run() const {
  const auth::Account* account = users->authenticate(name, password);
  if (account == nullptr) return nullptr;
  return {users, account};  // shares ownership of the whole file
}

Disposition Dispatcher::complete_hello(SessionState& state, Peer& self,
                                       std::shared_ptr<const auth::Account> account,
                                       Clock::time_point now) {
  if (!state.pending) throw std::logic_error("dispatcher: no hello is pending");
  const PendingHello pending = std::move(*state.pending);
  state.pending.reset();
  Call call{state, self, std::nullopt, now, 0};
  if (pending.id) call.id = *pending.id;
  std::optional<std::string_view> name;
  if (pending.hello.name) name = *pending.hello.name;

  // The file may have been reloaded while the password was checked: the account must
  // still exist with the same password hash, and its current rights apply.
  if (account) {
    const auth::Account* current = options_.users->find(account->name);
    account = current != nullptr && current->password == account->password
                  ? std::shared_ptr<const auth::Account>(options_.users, current)
                  : nullptr;
  }
  if (!account) return refuse_hello(call, name, "unknown account or wrong password", false);
  if (pending.fault) {
    // Authentication comes first in the fault order; the frame's later fault is still a
    // fault, so the hello does not succeed and may be retried.
    fail(call, pending.fault->code, pending.fault->message);
    return Disposition::keep_open;
  }
  // Signed in from now on, so that the requests read while the engine takes the name (a
  // remote one answers later) are served under the account's rights; undone if it fails.
  state.greeted = true;
  state.authenticated = true;
  hub_.set_permissions(state.id,
                       std::shared_ptr<const auth::Permissions>(account, &account->permissions));
  state.account = std::move(account);
  const Later later = defer(call);
  // take_over: an older session of the account, on this node or (in a cluster) another,
  // gets bye replaced and is closed.
  engine_.greet(
      state.id, pending.hello.name, pending.hello.echo, true, [this, later](const Status& status) {
        if (!hub_.contains(later.session)) return complete(later, {}, false);
        if (status) {
          later.state->greeted = false;
          later.state->authenticated = false;
          later.state->account.reset();
          hub_.set_permissions(later.session, nullptr);
          return complete_error(later, *status);
        }
        complete(later,
                 protocol::build_welcome(later.id(), hub_.name_of(later.session), later.session,
                                         options_.limits, engine_.node_id()),
                 false);
      });
  return Disposition::keep_open;
}

Reapplied Dispatcher::reapply(SessionState& state, Peer& self) {
  if (!state.account || !options_.users) return Reapplied::kept;
  const auth::Account* current = options_.users->find(state.account->name);
  if (current == nullptr || current->password != state.account->password) return Reapplied::revoked;
  state.account = std::shared_ptr<const auth::Account>(options_.users, current);
  const auth::Permissions& rights = current->permissions;
  hub_.set_permissions(state.id, std::shared_ptr<const auth::Permissions>(state.account, &rights));
  const auto removed = [&](const std::string& message) {
    self.deliver(make_frame(protocol::build_error(std::nullopt, ErrorCode::forbidden, message)));
  };
  for (const std::string& pattern : hub_.patterns_of(state.id)) {
    if (rights.allow_subscribe_pattern(pattern)) continue;
    engine_.unsubscribe(state.id, pattern);
    removed("subscription to '" + pattern + "' removed: the account may no longer subscribe to it");
  }
  for (const std::string& topic : hub_.rooms_of(state.id)) {
    if (rights.allow_subscribe_topic(topic)) continue;
    // A cluster node that cannot reach its store still drops the membership here (its
    // store is put right by the resync when the link is back), so the rights hold at once.
    if (const Status status = engine_.leave(state.id, topic);
        status && status->code == ErrorCode::unavailable) {
      hub_.exit_room(state.id, topic);
    }
    removed("left '" + topic + "': the account may no longer subscribe to it");
  }
  return Reapplied::kept;
}

bool Dispatcher::permitted(Call& call, bool allowed, std::string_view what,
                           std::string_view topic) {
  if (!allowed) {
    fail(call, ErrorCode::forbidden,
         "the account '" + call.state.account->name + "' may not " + std::string(what) + " '" +
             std::string(topic) + "'");
  }
  return allowed;
}

Disposition Dispatcher::on(Call& call, const protocol::Hello& request) {
  SessionState& state = call.state;
  if (state.greeted || state.acted) {
    fail(call, ErrorCode::already_greeted, "hello must come first, and only once");
    return Disposition::keep_open;
  }
  // Greeted and authenticated from now on, so that a second hello is refused and later
  // requests are served while a remote engine decides on the name; undone if it refuses.
  const bool was_authenticated = state.authenticated;
  state.greeted = true;
  state.authenticated = true;
  const Later later = defer(call);
  engine_.greet(state.id, request.name, request.echo, false,
                [this, later, was_authenticated](const Status& status) {
                  if (!hub_.contains(later.session))
                    return complete(later, {}, false);  // gone: dropped
                  if (status) {
                    later.state->greeted = false;
                    later.state->authenticated = was_authenticated;
                    return complete_error(later, *status);
                  }
                  complete(
                      later,
                      protocol::build_welcome(later.id(), hub_.name_of(later.session),
                                              later.session, options_.limits, engine_.node_id()),
                      false);
                });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Sub& request) {
  if (const auth::Permissions* rights = rights_of(call.state);
      rights != nullptr && !permitted(call, rights->allow_subscribe_pattern(request.pattern),
                                      "subscribe to", request.pattern)) {
    return Disposition::keep_open;
  }
  const Later later = defer(call);
  engine_.subscribe(
      call.state.id, request.pattern, request.group, [this, later](const Status& status) {
        if (status) return complete_error(later, *status);
        // Without an id a successful sub has no reply; its slot is released.
        complete(later, later.id_text ? protocol::build_ok(later.id()) : std::string{}, true);
      });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Unsub& request) {
  return finish(call, engine_.unsubscribe(call.state.id, request.pattern));
}

Disposition Dispatcher::on(Call& call, const protocol::Pub& request) {
  if (const auth::Permissions* rights = rights_of(call.state); rights != nullptr) {
    if (!permitted(call, rights->allow_publish(request.topic), "publish to", request.topic))
      return Disposition::keep_open;
    if (request.reply &&
        !permitted(call, rights->allow_publish(*request.reply), "name as reply", *request.reply))
      return Disposition::keep_open;
  }
  if (!within_rate(call, call.state.rate.allow_publish(call.now))) return Disposition::keep_open;
  std::optional<std::string_view> reply_to;
  if (request.reply) reply_to = *request.reply;
  return finish(
      call, engine_.publish(call.state.id, request.topic, request.data, reply_to, call.wall_ms));
}

Disposition Dispatcher::on(Call& call, const protocol::Join& request) {
  if (const auth::Permissions* rights = rights_of(call.state);
      rights != nullptr &&
      !permitted(call, rights->allow_subscribe_topic(request.topic), "join", request.topic)) {
    return Disposition::keep_open;
  }
  const Later later = defer(call);
  engine_.join(call.state.id, request.topic, request.history, request.since, request.epoch,
               [this, later, topic = request.topic](const std::pair<Status, JoinView>& result) {
                 const auto& [status, view] = result;
                 if (status) return complete_error(later, *status);
                 complete(later,
                          protocol::build_joined(later.id(), topic, view.members,
                                                 view.history.page(), view.recovered),
                          true);
               });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Leave& request) {
  return finish(call, engine_.leave(call.state.id, request.topic));
}

Disposition Dispatcher::on(Call& call, const protocol::Tell& request) {
  if (const auth::Permissions* rights = rights_of(call.state);
      rights != nullptr && !rights->allow_tell()) {
    fail(call, ErrorCode::forbidden,
         "the account '" + call.state.account->name + "' may not use tell");
    return Disposition::keep_open;
  }
  if (!within_rate(call, call.state.rate.allow_tell(call.now))) return Disposition::keep_open;
  const Later later = defer(call);
  engine_.tell(
      call.state.id, request.to, request.data, call.wall_ms, [this, later](const Status& status) {
        if (status) return complete_error(later, *status);
        // Without an id a successful tell has no reply; its slot is released.
        complete(later, later.id_text ? protocol::build_ok(later.id()) : std::string{}, true);
      });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Who& request) {
  if (const auth::Permissions* rights = rights_of(call.state);
      rights != nullptr && !permitted(call, rights->allow_subscribe_topic(request.topic),
                                      "see the members of", request.topic)) {
    return Disposition::keep_open;
  }
  const Later later = defer(call);
  engine_.who(request.topic, [this, later, topic = request.topic](
                                 const std::pair<Status, std::vector<std::string>>& result) {
    if (result.first) return complete_error(later, *result.first);
    complete(later, protocol::build_who(later.id(), topic, result.second), true);
  });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Topics& request) {
  // The account's rights travel with the request (a remote engine answers later, maybe
  // after the session has gone): topics it may not subscribe to are never listed.
  std::shared_ptr<const auth::Permissions> rights;
  if (call.state.account)
    rights = std::shared_ptr<const auth::Permissions>(call.state.account,
                                                      &call.state.account->permissions);
  const Later later = defer(call);
  engine_.topics(request.pattern, request.limit, request.after, std::move(rights),
                 [this, later](const std::pair<Status, TopicsView>& result) {
                   if (result.first) return complete_error(later, *result.first);
                   complete(
                       later,
                       protocol::build_topics(later.id(), result.second.topics, result.second.more),
                       true);
                 });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::History& request) {
  if (const auth::Permissions* rights = rights_of(call.state);
      rights != nullptr && !permitted(call, rights->allow_subscribe_topic(request.topic),
                                      "read the history of", request.topic)) {
    return Disposition::keep_open;
  }
  const Later later = defer(call);
  engine_.history(
      request.topic, request.limit, request.before, request.after,
      [this, later, topic = request.topic](const std::pair<Status, MessagesView>& result) {
        if (result.first) return complete_error(later, *result.first);
        complete(later, protocol::build_history(later.id(), topic, result.second.page()), true);
      });
  return Disposition::keep_open;
}

Disposition Dispatcher::on(Call& call, const protocol::Stats& /*request*/) {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_);
  return answer(call,
                protocol::build_stats(
                    call.id, engine_.stats_report(static_cast<std::uint64_t>(uptime.count()))));
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
