#pragma once
// How the hub sees a connection: an id and a queue it can push frames into, events
// (deliver) apart from replies to the peer's own requests (reply). Nothing here does I/O,
// so the hub can be driven by fake peers in tests.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley::server {

using SessionId = std::uint64_t;

// One serialised frame, built once and shared by every recipient's queue.
using SharedFrame = std::shared_ptr<const std::string>;

inline SharedFrame make_frame(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

class Peer {
 public:
  virtual ~Peer() = default;
  // Queues a frame for sending. False when the peer cannot take it: it is being cut off
  // (over its outbound limit) or closing. Must not call back into the hub.
  virtual bool deliver(const SharedFrame& frame) = 0;
  // Queues a reply (or error) to one of this peer's own requests. Unlike deliver(), a
  // reply must never by itself make the peer a slow consumer while it keeps reading: the
  // session exempts replies from its outbound limit and pauses reading instead while its
  // output is backed up. Must not call back into the hub.
  virtual void reply(const SharedFrame& frame) = 0;
  // The hub has ended this peer's session on purpose (its account logged in again
  // elsewhere: "replaced"; its account was revoked: "auth_revoked") and already removed it,
  // announcing its leave. The peer sends `bye` with that reason and closes. Must not call
  // back into the hub.
  virtual void evict(std::string_view bye_reason) = 0;
};

}  // namespace parley::server
