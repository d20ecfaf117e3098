#pragma once
// Turns one client frame into hub calls and a reply, in the protocol's fault order.
// No I/O: replies are queued on the session's Peer like any other frame.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hub.hpp"
#include "parley/protocol/decode.hpp"
#include "parley/protocol/frames.hpp"
#include "rate_limiter.hpp"

namespace parley::server {

struct DispatchOptions {
  std::optional<std::string> token;  // shared secret for hello; none disables auth
  protocol::Limits limits;           // announced in welcome
  double rate = 0;                   // publishes per second per session, 0 = unlimited
  double rate_burst = 0;             // publishes allowed at once
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
};

enum class Disposition { keep_open, close };

class Dispatcher {
 public:
  using Clock = RateLimiter::Clock;

  Dispatcher(Hub& hub, DispatchOptions options, std::chrono::system_clock::time_point started);

  // Handles one frame of `state`'s session. `now` drives rate limits; `wall_ms` is the
  // receive time stamped on published messages.
  Disposition handle(SessionState& state, Peer& self, std::string_view frame, Clock::time_point now,
                     std::int64_t wall_ms);

  const DispatchOptions& options() const noexcept { return options_; }

 private:
  struct Call;
  Disposition dispatch(Call& call, protocol::Decoded& decoded);
  void reply(Call& call, std::string frame);
  void fail(Call& call, protocol::ErrorCode code, std::string_view message);
  bool check(Call& call, const Status& status);

  Hub& hub_;
  DispatchOptions options_;
  std::chrono::system_clock::time_point started_;
};

}  // namespace parley::server
