// The failed-hello throttle with a controlled clock, and the constant-time comparison.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "auth_throttle.hpp"

using namespace parley::server;
using namespace std::chrono_literals;
using Clock = AuthThrottle::Clock;

TEST_CASE("ten failures within the window block an address until the window passes",
          "[auth_throttle]") {
  AuthThrottle throttle;  // 10 within 60 s
  const Clock::time_point t0 = Clock::time_point{} + 1000h;
  for (int i = 0; i < 9; ++i) {
    CHECK_FALSE(throttle.blocked("10.0.0.1", t0 + i * 1s));
    throttle.record_failure("10.0.0.1", t0 + i * 1s);
  }
  CHECK_FALSE(throttle.blocked("10.0.0.1", t0 + 9s));
  throttle.record_failure("10.0.0.1", t0 + 9s);  // the tenth, 9 s after the first
  CHECK(throttle.blocked("10.0.0.1", t0 + 9s));
  CHECK(throttle.blocked("10.0.0.1", t0 + 59s));
  CHECK_FALSE(throttle.blocked("10.0.0.2", t0 + 10s));  // per address
  // The oldest of the ten is 60 s old: one slot is free again.
  CHECK_FALSE(throttle.blocked("10.0.0.1", t0 + 60s));
  throttle.record_failure("10.0.0.1", t0 + 60s);
  CHECK(throttle.blocked("10.0.0.1", t0 + 60s));  // ten within 60 s again (1 s .. 60 s)
  CHECK_FALSE(throttle.blocked("10.0.0.1", t0 + 61s));
}

TEST_CASE("failures spread wider than the window never block", "[auth_throttle]") {
  AuthThrottle throttle(3, 10s);
  const Clock::time_point t0 = Clock::time_point{} + 1000h;
  for (int i = 0; i < 100; ++i) {
    CHECK_FALSE(throttle.blocked("a", t0 + i * 5s));
    throttle.record_failure("a", t0 + i * 5s);
  }
}

TEST_CASE("an unknown (empty) address is never throttled", "[auth_throttle]") {
  AuthThrottle throttle(1, 10s);
  const Clock::time_point t0 = Clock::time_point{} + 1000h;
  for (int i = 0; i < 5; ++i) throttle.record_failure("", t0);
  CHECK_FALSE(throttle.blocked("", t0));
  CHECK(throttle.tracked() == 0);
}

TEST_CASE("memory is bounded: expired and surplus addresses are forgotten", "[auth_throttle]") {
  AuthThrottle throttle(2, 10s, 100);
  const Clock::time_point t0 = Clock::time_point{} + 1000h;
  for (int i = 0; i < 1000; ++i) throttle.record_failure("a" + std::to_string(i), t0);
  CHECK(throttle.tracked() == 100);
  throttle.record_failure("x", t0 + 10s);  // everything older is a window old
  CHECK(throttle.tracked() == 1);
}

TEST_CASE("constant_time_equal compares whole strings", "[auth_throttle][token]") {
  CHECK(constant_time_equal("secret", "secret"));
  CHECK(constant_time_equal("", ""));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret2"));
  CHECK_FALSE(constant_time_equal("secret", "secre"));
  CHECK_FALSE(constant_time_equal("secret", ""));
  CHECK_FALSE(constant_time_equal("", "x"));
  // A candidate that is the secret followed by NULs is not the secret.
  CHECK_FALSE(constant_time_equal("ab", std::string("ab\0", 3)));
  CHECK_FALSE(constant_time_equal(std::string("ab\0", 3), "ab"));
}
