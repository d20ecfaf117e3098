// Error codes as PROTOCOL.md spells them, and which of them close the connection.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/error_code.hpp"
#include "parley/protocol/version.hpp"

using namespace parley::protocol;

TEST_CASE("every error code has the protocol's spelling and closes as the table says",
          "[error_code]") {
  struct Row {
    ErrorCode code;
    const char* wire;
    bool closes;
  };
  // The table of PROTOCOL.md, in its order.
  const std::vector<Row> table{
      {ErrorCode::bad_json, "bad_json", false},
      {ErrorCode::bad_request, "bad_request", false},
      {ErrorCode::unknown_op, "unknown_op", false},
      {ErrorCode::frame_too_large, "frame_too_large", true},
      {ErrorCode::not_authenticated, "not_authenticated", false},
      {ErrorCode::auth_failed, "auth_failed", true},
      {ErrorCode::forbidden, "forbidden", false},
      {ErrorCode::bad_name, "bad_name", false},
      {ErrorCode::name_taken, "name_taken", false},
      {ErrorCode::already_greeted, "already_greeted", false},
      {ErrorCode::bad_topic, "bad_topic", false},
      {ErrorCode::not_subscribed, "not_subscribed", false},
      {ErrorCode::not_joined, "not_joined", false},
      {ErrorCode::no_such_user, "no_such_user", false},
      {ErrorCode::too_many_subscriptions, "too_many_subscriptions", false},
      {ErrorCode::rate_limited, "rate_limited", false},
      {ErrorCode::slow_consumer, "slow_consumer", true},
      {ErrorCode::server_full, "server_full", true},
      {ErrorCode::unavailable, "unavailable", false},
  };
  for (const auto& row : table) {
    CAPTURE(row.wire);
    CHECK(to_string(row.code) == row.wire);
    CHECK(error_code_from_string(row.wire) == row.code);
    CHECK(closes_connection(row.code) == row.closes);
  }
  // The enum has no code the table lacks: its last value is the table's last row.
  CHECK(static_cast<std::size_t>(ErrorCode::unavailable) + 1 == table.size());
  CHECK_FALSE(error_code_from_string("BAD_JSON"));
  CHECK_FALSE(error_code_from_string(""));
  CHECK_FALSE(error_code_from_string("unknown"));
}

TEST_CASE("the protocol's numbers", "[version]") {
  CHECK(kProtocolVersion == 1);
  CHECK(kMaxJsonDepth == 128);
  CHECK(kMaxHistoryLimit == 1000);
  CHECK(kDefaultHistoryLimit == 50);
  CHECK(kDefaultMaxFrame == 65536);
  CHECK(kDefaultPort == 7878);
  CHECK(kServerSoftware == "parley/" + std::string(kSoftwareVersion));
}
