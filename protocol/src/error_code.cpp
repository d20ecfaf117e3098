#include "parley/protocol/error_code.hpp"

#include <array>
#include <utility>

namespace parley::protocol {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 19> kNames{{
    {ErrorCode::bad_json, "bad_json"},
    {ErrorCode::bad_request, "bad_request"},
    {ErrorCode::unknown_op, "unknown_op"},
    {ErrorCode::frame_too_large, "frame_too_large"},
    {ErrorCode::not_authenticated, "not_authenticated"},
    {ErrorCode::auth_failed, "auth_failed"},
    {ErrorCode::forbidden, "forbidden"},
    {ErrorCode::bad_name, "bad_name"},
    {ErrorCode::name_taken, "name_taken"},
    {ErrorCode::already_greeted, "already_greeted"},
    {ErrorCode::bad_topic, "bad_topic"},
    {ErrorCode::not_subscribed, "not_subscribed"},
    {ErrorCode::not_joined, "not_joined"},
    {ErrorCode::no_such_user, "no_such_user"},
    {ErrorCode::too_many_subscriptions, "too_many_subscriptions"},
    {ErrorCode::rate_limited, "rate_limited"},
    {ErrorCode::slow_consumer, "slow_consumer"},
    {ErrorCode::server_full, "server_full"},
    {ErrorCode::unavailable, "unavailable"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& [value, name] : kNames) {
    if (value == code) return name;
  }
  return "unknown";
}

std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept {
  for (const auto& [value, name] : kNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool closes_connection(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::frame_too_large:
    case ErrorCode::auth_failed:
    case ErrorCode::slow_consumer:
    case ErrorCode::server_full:
      return true;
    default:
      return false;
  }
}

}  // namespace parley::protocol
