// Password hashes: round trip, wrong and tampered inputs, a hash made by another scrypt
// implementation, and a table of PHC strings the strict parser must refuse.
#include <catch2/catch.hpp>
#include <string>

#include "password_hash.hpp"

using namespace parley::auth;

namespace {

// Made with Python's hashlib.scrypt (salt 00 01 .. 0f): proves the encoding and the KDF
// call agree with an independent implementation.
const std::string kForeign =
    "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU";
// Other accepted parameters and a 20-byte hash (empty password).
const std::string kForeignEmpty =
    "$scrypt$ln=15,r=4,p=2$AAECAwQFBgcICQoLDA0ODw$gPAvt3M9R9nCdyb0bsogs7J0hlU";

}  // namespace

TEST_CASE("a fresh hash verifies its password and no other", "[auth][hash]") {
  const auto phc = hash_password("correct horse battery staple");
  CHECK(phc.rfind("$scrypt$ln=14,r=8,p=1$", 0) == 0);
  const auto parsed = parse_phc(phc);
  REQUIRE(parsed);
  CHECK(parsed->params == kDefaultScrypt);
  CHECK(parsed->salt.size() == kSaltBytes);
  CHECK(parsed->hash.size() == kHashBytes);
  CHECK(format_phc(*parsed) == phc);
  CHECK(verify_password("correct horse battery staple", phc));
  CHECK_FALSE(verify_password("correct horse battery stapl", phc));
  CHECK_FALSE(verify_password("Correct horse battery staple", phc));
  CHECK_FALSE(verify_password("", phc));
}

TEST_CASE("two hashes of one password differ by their salt", "[auth][hash]") {
  const auto a = hash_password("pw");
  const auto b = hash_password("pw");
  CHECK(a != b);
  CHECK(verify_password("pw", a));
  CHECK(verify_password("pw", b));
}

TEST_CASE("an empty password and one with NUL bytes hash like any other", "[auth][hash]") {
  const std::string with_nul("a\0b", 3);
  const auto phc = hash_password(with_nul);
  CHECK(verify_password(with_nul, phc));
  CHECK_FALSE(verify_password("a", phc));
  CHECK(verify_password("", kForeignEmpty));
  CHECK_FALSE(verify_password("x", kForeignEmpty));
}

TEST_CASE("a hash from another scrypt implementation verifies", "[auth][hash]") {
  CHECK(verify_password("correct horse battery staple", kForeign));
  CHECK_FALSE(verify_password("correct horse battery stapler", kForeign));
}

TEST_CASE("a tampered hash verifies nothing", "[auth][hash]") {
  const std::string password = "correct horse battery staple";
  // Flip one character of the salt, then of the hash (to another valid base64 digit).
  for (const std::size_t at : {kForeign.find("AAEC") + 1, kForeign.size() - 5}) {
    std::string tampered = kForeign;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    INFO(tampered);
    CHECK(parse_phc(tampered));
    CHECK_FALSE(verify_password(password, tampered));
  }
  // Other parameters with the same salt and hash.
  std::string cost = kForeign;
  cost.replace(cost.find("p=1"), 3, "p=2");
  CHECK(parse_phc(cost));
  CHECK_FALSE(verify_password(password, cost));
}

TEST_CASE("parse_phc refuses anything but a strict, bounded scrypt string", "[auth][hash]") {
  const std::string salt = "AAECAwQFBgcICQoLDA0ODw";
  const std::string hash = "11kKyiyYAc8G7rp3KmncMc44YlkdllIqxOa7pq0fMaU";
  const auto make = [&](const std::string& params) {
    return "$scrypt$" + params + "$" + salt + "$" + hash;
  };
  REQUIRE(parse_phc(make("ln=14,r=8,p=1")));
  CHECK(parse_phc(make("ln=17,r=8,p=1")));  // the ceiling: 128 MiB, 8x the time
  CHECK(parse_phc(make("ln=15,r=8,p=4")));
  CHECK(parse_phc(make("ln=12,r=32,p=1")));
  const auto bad = GENERATE_COPY(
      // Algorithms, shapes.
      std::string(), std::string("$"), std::string("scrypt$ln=14,r=8,p=1$") + salt + "$" + hash,
      "$pbkdf2-sha256$i=600000$" + salt + "$" + hash,
      "$argon2id$v=19$m=65536,t=3,p=4$" + salt + "$" + hash,
      "$SCRYPT$ln=14,r=8,p=1$" + salt + "$" + hash, make("ln=14,r=8,p=1") + "$",
      make("ln=14,r=8,p=1") + "$x", "$scrypt$ln=14,r=8,p=1$" + salt,
      "$scrypt$ln=14,r=8,p=1$$" + hash, "$scrypt$ln=14,r=8,p=1$" + salt + "$",
      "$scrypt$$" + salt + "$" + hash,
      // Parameters: order, names, numbers.
      make("r=8,ln=14,p=1"), make("ln=14,r=8"), make("ln=14,r=8,p=1,"), make("ln=14,r=8,p=1,x=2"),
      make("ln=014,r=8,p=1"), make("ln=+14,r=8,p=1"), make("ln=-14,r=8,p=1"), make("ln=,r=8,p=1"),
      make("ln=14 ,r=8,p=1"), make("n=16384,r=8,p=1"), make("ln=99999999999,r=8,p=1"),
      // Costs: below the floor (too little memory), above the ceiling (a slow login).
      make("ln=13,r=8,p=1"), make("ln=10,r=8,p=16"), make("ln=14,r=4,p=2"), make("ln=0,r=8,p=1"),
      make("ln=14,r=0,p=1"), make("ln=14,r=8,p=0"), make("ln=18,r=8,p=1"), make("ln=15,r=8,p=5"),
      make("ln=20,r=1,p=2"), make("ln=21,r=1,p=1"), make("ln=14,r=64,p=1"), make("ln=14,r=8,p=17"),
      make("ln=30,r=8,p=1"),
      // Base64: padding, other alphabets, stray bits, impossible lengths, short and long.
      "$scrypt$ln=14,r=8,p=1$" + salt + "==$" + hash,
      "$scrypt$ln=14,r=8,p=1$" + salt + "$" + hash + "=",
      "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0OD-$" + hash,
      "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0OD_$" + hash,
      "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0ODx$" + hash,          // low bits set
      "$scrypt$ln=14,r=8,p=1$" + salt + "AAA$" + hash,                 // 4n+1 digits
      "$scrypt$ln=14,r=8,p=1$AAECAwQFBgcICQoLDA0O$" + hash,            // 15 bytes
      "$scrypt$ln=14,r=8,p=1$" + salt + "$" + "AAECAwQFBgcICQoLDA0O",  // 15-byte hash
      "$scrypt$ln=14,r=8,p=1$" + std::string(88, 'A') + "$" + hash,    // 66 bytes
      "$scrypt$ln=14,r=8,p=1$" + salt + " $" + hash,
      "$scrypt$ln=14,r=8,p=1$" + salt + "$" + hash + "\n");
  INFO(bad);
  CHECK_FALSE(parse_phc(bad));
  CHECK_FALSE(verify_password("correct horse battery staple", bad));
}
