#pragma once
// The error codes of PROTOCOL.md v1 and which of them end the connection.
#include <optional>
#include <string_view>

namespace parley::protocol {

enum class ErrorCode {
  bad_json,
  bad_request,
  unknown_op,
  frame_too_large,
  not_authenticated,
  auth_failed,
  forbidden,
  bad_name,
  name_taken,
  already_greeted,
  bad_topic,
  not_subscribed,
  not_joined,
  no_such_user,
  too_many_subscriptions,
  rate_limited,
  slow_consumer,
  server_full,
  unavailable,  // a cluster node cannot reach its store: nothing was done
};

std::string_view to_string(ErrorCode code) noexcept;
std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept;

// True for the codes after which the server closes the connection.
bool closes_connection(ErrorCode code) noexcept;

}  // namespace parley::protocol
