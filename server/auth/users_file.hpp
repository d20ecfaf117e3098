#pragma once
// The users file of PROTOCOL.md ("hello and authentication"), parsed from its text:
//   {"users":[{"name":…,"password":HASH,"publish":[patterns]?,"subscribe":[patterns]?,
//              "deny_publish":[patterns]?,"deny_subscribe":[patterns]?,"tell":bool?}]}
// The file is refused whole, with one message naming the place (`users[2].publsh`), when
// anything is off: a field not in this list or given twice, at the top or in an account;
// a missing or mistyped field; a name that is no valid protocol name, is reserved
// (`guest-…`) or repeats another case-insensitively; an invalid pattern; a password that
// is not a hash parse_phc() accepts. No password is verified while parsing.
// A Users never changes once parsed: its const members may be called from any thread
// (authenticate() costs one verification: see password_hash.hpp).
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "permissions.hpp"

namespace parley::auth {

struct Account {
  std::string name;      // as the file spells it (the spelling others see)
  std::string password;  // its PHC hash string
  Permissions permissions;
};

class Users {
 public:
  // The account of a name, compared case-insensitively (protocol::fold_name); or null.
  const Account* find(std::string_view name) const;
  // The account when `name` exists and `password` verifies; null otherwise. An unknown
  // name costs one verification too (against a fixed hash), so that the time taken does
  // not tell which names exist.
  const Account* authenticate(std::string_view name, std::string_view password) const;
  // In file order.
  const std::vector<Account>& accounts() const noexcept { return accounts_; }

 private:
  friend std::variant<Users, std::string> parse_users_file(std::string_view text);
  std::vector<Account> accounts_;
  std::map<std::string, std::size_t, std::less<>> by_folded_;  // folded name -> index
};

// The accounts of a users file's text, or the reason the file is refused.
std::variant<Users, std::string> parse_users_file(std::string_view text);

}  // namespace parley::auth
