#pragma once
// Failed-hello throttling per client address, and a constant-time secret comparison.
//
// AuthThrottle guarantees: once `max_failures` failed hellos from one address fall within
// `window` of each other, blocked() is true for that address until the oldest of those
// failures is `window` old; failures are counted only while not blocked (a refused hello
// does not extend the block). Memory is bounded: at most `max_addresses` addresses are
// tracked, each with at most `max_failures` times; past that the address with the oldest
// latest failure is forgotten first. An empty address (unknown) is never throttled. Every
// call costs O(max_failures) plus O(1) amortised per expired address.
#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::server {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultMaxFailures = 10;
  static constexpr Clock::duration kDefaultWindow = std::chrono::seconds(60);
  static constexpr std::size_t kDefaultMaxAddresses = 65536;

  explicit AuthThrottle(std::size_t max_failures = kDefaultMaxFailures,
                        Clock::duration window = kDefaultWindow,
                        std::size_t max_addresses = kDefaultMaxAddresses)
      : max_failures_(max_failures), window_(window), max_addresses_(max_addresses) {}

  // True when hellos from `address` must fail at once.
  bool blocked(std::string_view address, Clock::time_point now) {
    expire(now);
    const auto it = entries_.find(std::string(address));
    if (it == entries_.end()) return false;
    const auto& times = it->second.failures;
    return times.size() >= max_failures_ && now - times.front() < window_;
  }

  // Counts one failed hello from `address`.
  void record_failure(std::string_view address, Clock::time_point now) {
    if (address.empty() || max_failures_ == 0) return;
    expire(now);
    auto [it, added] = entries_.try_emplace(std::string(address));
    Entry& entry = it->second;
    if (!added) order_.erase(entry.order);
    order_.push_back(&it->first);
    entry.order = std::prev(order_.end());
    entry.failures.push_back(now);
    while (entry.failures.size() > max_failures_) entry.failures.pop_front();
    while (entries_.size() > max_addresses_) forget_oldest();
  }

  std::size_t tracked() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // oldest first, at most max_failures_
    std::list<const std::string*>::iterator order;
  };

  void forget_oldest() {
    const std::string* oldest = order_.front();
    order_.pop_front();
    entries_.erase(*oldest);
  }

  // Forgets addresses whose latest failure is a window old: they can block nothing.
  void expire(Clock::time_point now) {
    while (!order_.empty() && now - entries_.at(*order_.front()).failures.back() >= window_) {
      forget_oldest();
    }
  }

  std::size_t max_failures_;
  Clock::duration window_;
  std::size_t max_addresses_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<const std::string*> order_;  // addresses by latest failure, oldest first
};

// Compares a secret with a candidate in time that depends only on the longer length, never
// on where they differ, so that response times reveal nothing of the secret but, at most,
// its length. (No OpenSSL here for CRYPTO_memcmp.) The loop reads both up to the longer
// length (a missing byte reads as 0) and only ORs differences together, with no early exit;
// the lengths' difference is folded in, so unequal lengths never compare equal.
inline bool constant_time_equal(std::string_view secret, std::string_view candidate) noexcept {
  const std::size_t length = secret.size() > candidate.size() ? secret.size() : candidate.size();
  volatile unsigned char difference = secret.size() == candidate.size() ? 0 : 1;
  for (std::size_t i = 0; i < length; ++i) {
    const auto a = static_cast<unsigned char>(i < secret.size() ? secret[i] : 0);
    const auto b = static_cast<unsigned char>(i < candidate.size() ? candidate[i] : 0);
    difference = static_cast<unsigned char>(difference | (a ^ b));
  }
  return difference == 0;
}

}  // namespace parley::server
