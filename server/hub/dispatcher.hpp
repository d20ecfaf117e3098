#pragma once
// Turns one client frame into hub calls and a reply, in the protocol's fault order.
// No I/O: replies go to the requesting session's Peer::reply, events through the hub.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "auth_throttle.hpp"
#include "engine.hpp"
#include "hub.hpp"
#include "parley/protocol/decode.hpp"
#include "parley/protocol/frames.hpp"
#include "rate_limiter.hpp"
#include "users_file.hpp"

namespace parley::server {

// A hello refused for authentication, for the session side to log (never the token).
struct AuthFailure {
  SessionId session;
  std::string_view address;              // the peer address the session gave, maybe empty
  std::optional<std::string_view> name;  // the name the hello asked for
  std::string_view reason;               // the message the client got
  bool throttled;                        // refused unchecked: too many failures from address
};

struct DispatchOptions {
  std::optional<std::string> token;  // shared secret for hello; none disables auth
  // Accounts (the users file); never together with a token. Replaced on reload through
  // Dispatcher::set_users, never changed in place (worker threads read it).
  std::shared_ptr<const auth::Users> users;
  protocol::Limits limits;  // announced in welcome
  double rate = 0;          // publishes per second per session, 0 = unlimited
  double rate_burst = 0;    // publishes allowed at once
  // Called for every hello refused with auth_failed; may be empty. Must not call back into
  // the dispatcher or the hub.
  std::function<void(const AuthFailure&)> on_auth_failure;
};

// The password check of an account hello, run off the event loop (it costs one scrypt
// verification): it only reads an immutable Users, so any thread may run it.
struct PasswordCheck {
  std::shared_ptr<const auth::Users> users;
  std::string name;
  std::string password;
  // The account when the name exists and the password verifies, else null. An unknown name
  // costs a verification too (Users::authenticate), so timing does not reveal names.
  std::shared_ptr<const auth::Account> run() const;
};

// An account hello whose password is being checked: what its answer needs afterwards.
struct PendingHello {
  std::optional<std::string> id;  // the request's id as JSON text
  protocol::Hello hello;
  std::optional<protocol::Fault> fault;  // a later fault of the frame, reported on success
  PasswordCheck check;
};

// What the dispatcher keeps per connection besides the hub's session.
struct SessionState {
  SessionState(SessionId session_id, const DispatchOptions& options,
               RateLimiter::Clock::time_point now)
      : id(session_id),
        authenticated(!options.token && !options.users),
        rate(options.rate, options.rate_burst, now) {}
  SessionId id;
  bool authenticated;  // no auth configured, or a hello passed it
  // With accounts: the session's account once its hello succeeded (it keeps the Users it
  // came from alive), and the hello being verified meanwhile.
  std::shared_ptr<const auth::Account> account;
  std::optional<PendingHello> pending;
  bool greeted = false;
  bool acted = false;  // did something other than ping, pong or a refused request
  RateLimiter rate;
  std::string peer_address;  // the client's address, for the failed-hello throttle and log
};

// keep_open: go on; close: the last frames are queued, close the session; verify: an account
// hello waits in SessionState::pending for its PasswordCheck to run off the loop, and the
// session must handle none of its later frames until complete_hello() has answered it.
enum class Disposition { keep_open, close, verify };

// What a users-file reload means for one session.
enum class Reapplied { kept, revoked };

// What the dispatcher has seen, for /metrics: plain counters bumped on the loop.
struct DispatchCounters {
  static constexpr std::size_t kOps = std::variant_size_v<protocol::Request>;
  static constexpr std::size_t kErrorCodes =
      static_cast<std::size_t>(protocol::ErrorCode::unavailable) + 1;
  std::array<std::uint64_t, kOps> requests{};       // decoded requests, by protocol::Op
  std::array<std::uint64_t, kErrorCodes> errors{};  // error frames sent, by protocol::ErrorCode
  std::uint64_t auth_failures = 0;                  // hellos refused with auth_failed
  void count_error(protocol::ErrorCode code) noexcept { ++errors[static_cast<std::size_t>(code)]; }
};

class Dispatcher {
 public:
  using Clock = RateLimiter::Clock;

  // Decides everything in this process (a LocalEngine over `hub`).
  Dispatcher(Hub& hub, DispatchOptions options, std::chrono::system_clock::time_point started);
  // Decides through `engine` (which must outlive the dispatcher).
  Dispatcher(Engine& engine, DispatchOptions options,
             std::chrono::system_clock::time_point started);

  // Handles one frame of `state`'s session. `now` drives rate limits and the failed-hello
  // throttle; `wall_ms` is the receive time stamped on published messages.
  Disposition handle(SessionState& state, Peer& self, std::string_view frame, Clock::time_point now,
                     std::int64_t wall_ms);

  // Answers the pending account hello of `state` with the PasswordCheck's result: welcome
  // (taking the name over from an older session of the account) or auth_failed (close).
  Disposition complete_hello(SessionState& state, Peer& self,
                             std::shared_ptr<const auth::Account> account, Clock::time_point now);

  // Takes a reloaded users file (accounts configured only). Sessions still verifying are
  // checked against it when their result comes back; greeted ones through reapply().
  void set_users(std::shared_ptr<const auth::Users> users) { options_.users = std::move(users); }
  // Brings one greeted session in line with the current users file: revoked when its
  // account is gone or its password changed (the caller closes it with bye auth_revoked);
  // otherwise its new rights apply, and each subscription or membership they no longer
  // allow is removed (members see presence leave) with one `error` `forbidden` event each.
  Reapplied reapply(SessionState& state, Peer& self);

  const DispatchOptions& options() const noexcept { return options_; }
  DispatchCounters& counters() noexcept { return counters_; }
  const DispatchCounters& counters() const noexcept { return counters_; }

 private:
  struct Call;
  struct Later;
  // A request whose reply the engine may give later: its place in the session's replies is
  // kept, so replies stay in request order while the session goes on being served.
  Later defer(Call& call);
  // The deferred request's reply, sent once every earlier reply of its session has gone.
  void complete(const Later& later, std::string frame, bool acted);
  // complete() with an error frame, counted as fail() counts it.
  void complete_error(const Later& later, const HubError& error);
  Disposition authenticate(Call& call, const protocol::Hello& hello);
  // The account variant: refuses at once what needs no hash (throttled, no name or
  // password), else parks the hello in state.pending and returns verify.
  Disposition begin_account_hello(Call& call, const protocol::Decoded& decoded);
  Disposition refuse_hello(Call& call, std::optional<std::string_view> name,
                           std::string_view reason, bool throttled);
  // False, with `forbidden` sent, when the account may not do this to `topic`.
  bool permitted(Call& call, bool allowed, std::string_view what, std::string_view topic);
  void reply(Call& call, std::string frame);
  void fail(Call& call, protocol::ErrorCode code, std::string_view message);
  // Reply `frame` to a request that succeeded (which closes the hello window).
  Disposition answer(Call& call, std::string frame);
  // ok (when the request has an id) on success, the error otherwise.
  Disposition finish(Call& call, const Status& status);
  // False, with the rate_limited error sent, when the session is over its publish rate.
  bool within_rate(Call& call, bool allowed);

  // One handler per request type.
  Disposition on(Call& call, const protocol::Hello& request);
  Disposition on(Call& call, const protocol::Sub& request);
  Disposition on(Call& call, const protocol::Unsub& request);
  Disposition on(Call& call, const protocol::Pub& request);
  Disposition on(Call& call, const protocol::Join& request);
  Disposition on(Call& call, const protocol::Leave& request);
  Disposition on(Call& call, const protocol::Tell& request);
  Disposition on(Call& call, const protocol::Who& request);
  Disposition on(Call& call, const protocol::Topics& request);
  Disposition on(Call& call, const protocol::History& request);
  Disposition on(Call& call, const protocol::Stats& request);
  Disposition on(Call& call, const protocol::Ping& request);
  Disposition on(Call& call, const protocol::Pong& request);
  Disposition on(Call& call, const protocol::Quit& request);

  // Replies held back behind a deferred one, per session; only sessions with a deferred
  // request pending have an entry.
  struct Slot {
    std::uint64_t ticket;
    SharedFrame frame;  // the reply; none when the request has none
    bool ready;         // the reply is known
  };
  std::unique_ptr<LocalEngine> own_engine_;
  Engine& engine_;
  Hub& hub_;
  std::unordered_map<SessionId, std::deque<Slot>> held_;
  std::uint64_t next_ticket_ = 0;
  DispatchOptions options_;
  std::chrono::system_clock::time_point started_;
  AuthThrottle auth_throttle_;
  DispatchCounters counters_;
};

}  // namespace parley::server
