#pragma once
// Turns one frame into a typed request, or into the first fault PROTOCOL.md's order names.
#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/error_code.hpp"
#include "parley/protocol/request.hpp"

namespace parley::protocol {

// Where in the protocol's fault order a fault belongs. Authentication sits between `op`
// and `fields`; the server checks it, since only it knows the session's state.
enum class FaultStage { json, op, fields, names, permissions };

struct Fault {
  FaultStage stage;
  ErrorCode code;
  std::string message;
};

struct Decoded {
  std::optional<std::string> id;  // the request's id as JSON text, when it has a valid one
  std::optional<Op> op;           // absent only when the fault is at stage json or op
  // Without a fault, the whole request. With a fault past stage `op`, the request of that
  // op filled as far as decoding got before the fault (a hello's token is read first, so
  // the server can check it before reporting a later field's fault); otherwise empty.
  Request request;
  std::optional<Fault> fault;  // the first fault decode can see
};

// Never throws on any input.
Decoded decode_request(std::string_view frame);

}  // namespace parley::protocol
