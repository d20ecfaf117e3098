#include "password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <stdexcept>

namespace parley::auth {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kPrefix = "$scrypt$";
constexpr std::size_t kMinBytes = 16;
constexpr std::size_t kMaxBytes = 64;

std::string b64_encode(const std::vector<unsigned char>& bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            std::uint32_t{bytes[i + 2]};
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

int b64_value(char c) noexcept {
  const auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

// Canonical unpadded base64 only: no '=', no other characters, unused low bits zero.
std::optional<std::vector<unsigned char>> b64_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = b64_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xFF));
    }
  }
  if ((acc & ((1U << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// "key=value" with a decimal value, no sign, no leading zero, at most `max`.
std::optional<std::uint32_t> parse_param(std::string_view text, std::string_view key,
                                         std::uint32_t max) {
  if (text.size() <= key.size() + 1 || text.substr(0, key.size()) != key ||
      text[key.size()] != '=') {
    return std::nullopt;
  }
  const auto digits = text.substr(key.size() + 1);
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  std::uint32_t value = 0;
  const auto* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec != std::errc{} || ptr != end || value > max) return std::nullopt;
  return value;
}

bool acceptable(const ScryptParams& params) noexcept {
  if (params.log2_n < 1 || params.log2_n > 20 || params.r < 1 || params.r > 32 || params.p < 1 ||
      params.p > 16) {
    return false;
  }
  const std::uint64_t memory = (std::uint64_t{1} << params.log2_n) * params.r;
  const std::uint64_t work = memory * params.p;
  return memory >= kMinWork && memory <= kMaxWork && work <= kMaxWork;
}

// scrypt of `password` into out (sized by the caller). False when OpenSSL refuses.
bool derive(std::string_view password, const std::vector<unsigned char>& salt,
            const ScryptParams& params, std::vector<unsigned char>& out) noexcept {
  const std::uint64_t n = std::uint64_t{1} << params.log2_n;
  // OpenSSL's own estimate of what it allocates (V and B), plus room to spare.
  const std::uint64_t maxmem = std::uint64_t{128} * params.r * (n + 2) +
                               128 * std::uint64_t{params.r} * params.p + (std::uint64_t{1} << 20);
  const char* pass = password.empty() ? "" : password.data();
  return EVP_PBE_scrypt(pass, password.size(), salt.data(), salt.size(), n, params.r, params.p,
                        maxmem, out.data(), out.size()) == 1;
}

}  // namespace

std::optional<ParsedHash> parse_phc(std::string_view phc) {
  if (phc.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  phc.remove_prefix(kPrefix.size());
  std::array<std::string_view, 3> fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto dollar = phc.find('$');
    const bool last = i + 1 == fields.size();
    if (last != (dollar == std::string_view::npos)) return std::nullopt;
    fields[i] = phc.substr(0, dollar);
    if (!last) phc.remove_prefix(dollar + 1);
  }
  // fields[0] is "ln=A,r=B,p=C".
  std::array<std::string_view, 3> parts;
  std::string_view params_text = fields[0];
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto comma = params_text.find(',');
    const bool last = i + 1 == parts.size();
    if (last != (comma == std::string_view::npos)) return std::nullopt;
    parts[i] = params_text.substr(0, comma);
    if (!last) params_text.remove_prefix(comma + 1);
  }
  const auto ln = parse_param(parts[0], "ln", 64);
  const auto r = parse_param(parts[1], "r", 1024);
  const auto p = parse_param(parts[2], "p", 1024);
  if (!ln || !r || !p) return std::nullopt;
  ParsedHash out;
  out.params = ScryptParams{*ln, *r, *p};
  if (!acceptable(out.params)) return std::nullopt;
  auto salt = b64_decode(fields[1]);
  auto hash = b64_decode(fields[2]);
  if (!salt || !hash) return std::nullopt;
  if (salt->size() < kMinBytes || salt->size() > kMaxBytes || hash->size() < kMinBytes ||
      hash->size() > kMaxBytes) {
    return std::nullopt;
  }
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

std::string format_phc(const ParsedHash& parsed) {
  std::string out(kPrefix);
  out += "ln=" + std::to_string(parsed.params.log2_n) + ",r=" + std::to_string(parsed.params.r) +
         ",p=" + std::to_string(parsed.params.p) + "$";
  out += b64_encode(parsed.salt);
  out += '$';
  out += b64_encode(parsed.hash);
  return out;
}

std::string hash_password(std::string_view password) {
  ParsedHash parsed;
  parsed.params = kDefaultScrypt;
  parsed.salt.resize(kSaltBytes);
  parsed.hash.resize(kHashBytes);
  if (RAND_bytes(parsed.salt.data(), static_cast<int>(parsed.salt.size())) != 1) {
    throw std::runtime_error("no random bytes for a password salt");
  }
  if (!derive(password, parsed.salt, parsed.params, parsed.hash)) {
    throw std::runtime_error("scrypt failed");
  }
  return format_phc(parsed);
}

bool verify_password(std::string_view password, std::string_view phc) noexcept {
  try {
    const auto parsed = parse_phc(phc);
    if (!parsed) return false;
    std::vector<unsigned char> derived(parsed->hash.size());
    if (!derive(password, parsed->salt, parsed->params, derived)) return false;
    return CRYPTO_memcmp(derived.data(), parsed->hash.data(), derived.size()) == 0;
  } catch (...) {  // allocation failure: a refusal, never an escape
    return false;
  }
}

}  // namespace parley::auth
