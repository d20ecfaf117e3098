#pragma once
// Turns one client frame into hub calls and a reply, in the protocol's fault order.
// No I/O: replies go to the requesting session's Peer::reply, events through the hub.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth_throttle.hpp"
#include "engine.hpp"
#include "hub.hpp"
#include "parley/protocol/decode.hpp"
#include "parley/protocol/frames.hpp"
#include "rate_limiter.hpp"

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
  protocol::Limits limits;           // announced in welcome
  double rate = 0;                   // publishes per second per session, 0 = unlimited
  double rate_burst = 0;             // publishes allowed at once
  // Called for every hello refused with auth_failed; may be empty. Must not call back into
  // the dispatcher or the hub.
  std::function<void(const AuthFailure&)> on_auth_failure;
};

// What the dispatcher keeps per connection besides the hub's session.
struct SessionState {
  SessionState(SessionId session_id, const DispatchOptions& options,
               RateLimiter::Clock::time_point now)
      : id(session_id),
        authenticated(!options.token),
        rate(options.rate, options.rate_burst, now) {}
  SessionId id;
  bool authenticated;  // no token configured, or a hello gave it
  bool greeted = false;
  bool acted = false;  // did something other than ping, pong or a refused request
  RateLimiter rate;
  std::string peer_address;  // the client's address, for the failed-hello throttle and log
};

enum class Disposition { keep_open, close };

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

  const DispatchOptions& options() const noexcept { return options_; }

 private:
  struct Call;
  struct Later;
  // A request whose reply the engine may give later: its place in the session's replies is
  // kept, so replies stay in request order while the session goes on being served.
  Later defer(Call& call);
  // The deferred request's reply, sent once every earlier reply of its session has gone.
  void complete(const Later& later, std::string frame, bool acted);
  Disposition authenticate(Call& call, const protocol::Hello& hello);
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
};

}  // namespace parley::server
