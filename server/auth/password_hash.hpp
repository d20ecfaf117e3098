#pragma once
// Password hashing for accounts: scrypt (RFC 7914, OpenSSL 3's EVP_PBE_scrypt) with a
// random 16-byte salt, stored as a PHC string:
//   $scrypt$ln=14,r=8,p=1$<salt>$<hash>     (unpadded standard base64, as PHC writes it)
//
// Why scrypt rather than PBKDF2: at the same time per login, scrypt also costs memory
// (16 MiB at the default cost), which makes guessing a stolen users file on GPUs or ASICs
// far more expensive; PBKDF2 costs only time. Both ship in OpenSSL 3; no other library.
//
// The default cost (ln=14, r=8, p=1) was chosen so that one verification takes about
// 50-100 ms of CPU on the project's 2-core machine (measured: 61-70 ms of CPU each).
// That is 61-70 ms during which the calling thread does nothing else: on the event loop,
// every session waits. The functions share no state and may run on a worker thread.
// parse_phc() refuses parameters outside kMinWork..kMaxWork, so that a users file can
// neither weaken a hash below a floor nor make one login cost more than ~8x the default.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::auth {

struct ScryptParams {
  std::uint32_t log2_n = 0;  // N = 2^log2_n
  std::uint32_t r = 0;       // block size
  std::uint32_t p = 0;       // parallelism
  friend bool operator==(const ScryptParams&, const ScryptParams&) = default;
};

inline constexpr ScryptParams kDefaultScrypt{14, 8, 1};
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kHashBytes = 32;
// Bounds on N*r (the memory: 128 bytes per unit) and on N*r*p (the time) that parse_phc()
// accepts: at least the default's memory, at most 8x its time and 128 MiB.
inline constexpr std::uint64_t kMinWork = std::uint64_t{1} << 17;
inline constexpr std::uint64_t kMaxWork = std::uint64_t{1} << 20;

struct ParsedHash {
  ScryptParams params;
  std::vector<unsigned char> salt;  // 16-64 bytes
  std::vector<unsigned char> hash;  // 16-64 bytes
};

// A new PHC string for `password` at kDefaultScrypt with a fresh random salt. Throws
// std::runtime_error when OpenSSL cannot provide randomness or the KDF fails.
std::string hash_password(std::string_view password);

// True when `phc` parses (see parse_phc) and `password` derives the same hash; the
// comparison takes the same time wherever the hashes differ. Never throws.
bool verify_password(std::string_view password, std::string_view phc) noexcept;

// Strict parse: only "$scrypt$ln=A,r=B,p=C$salt$hash" with parameters in that order,
// decimal without leading zeros, canonical unpadded base64, and costs within the bounds
// above. Anything else (unknown algorithm, padding, stray bits, extra fields) is empty.
std::optional<ParsedHash> parse_phc(std::string_view phc);

// The PHC string of a parsed hash; format_phc(*parse_phc(s)) == s for every accepted s.
std::string format_phc(const ParsedHash& parsed);

}  // namespace parley::auth
