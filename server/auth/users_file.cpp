#include "users_file.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>

#include "parley/protocol/name.hpp"
#include "parley/protocol/topic.hpp"
#include "password_hash.hpp"

namespace parley::auth {
namespace {

using nlohmann::json;

// Thrown inside the parser only; parse_users_file turns it into its error value.
struct Refused {
  std::string message;
};

std::string json_quoted(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', true, json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> pattern_list(const json& user, const char* field,
                                                     const std::string& where) {
  const auto it = user.find(field);
  if (it == user.end()) return std::nullopt;
  const std::string place = where + "." + field;
  if (!it->is_array()) throw Refused{place + ": expected an array of patterns"};
  std::vector<std::string> out;
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& item = (*it)[i];
    const std::string at = place + "[" + std::to_string(i) + "]";
    if (!item.is_string()) throw Refused{at + ": expected a pattern string"};
    const auto& pattern = item.get_ref<const std::string&>();
    if (!protocol::is_valid_pattern(pattern)) {
      throw Refused{at + ": invalid pattern " + json_quoted(pattern)};
    }
    out.push_back(pattern);
  }
  return out;
}

const std::string& required_string(const json& user, const char* field, const std::string& where) {
  const auto it = user.find(field);
  if (it == user.end()) throw Refused{where + ": missing \"" + field + "\""};
  if (!it->is_string()) throw Refused{where + "." + field + ": expected a string"};
  return it->get_ref<const std::string&>();
}

Account parse_account(const json& user, const std::string& where) {
  if (!user.is_object()) throw Refused{where + ": expected an object"};
  static const std::set<std::string, std::less<>> kFields = {
      "name", "password", "publish", "subscribe", "deny_publish", "deny_subscribe", "tell"};
  for (const auto& item : user.items()) {
    if (!kFields.contains(item.key())) {
      throw Refused{where + ": unknown field " + json_quoted(item.key())};
    }
  }
  Account account;
  account.name = required_string(user, "name", where);
  if (!protocol::is_valid_name(account.name)) {
    throw Refused{where + ".name: invalid name " + json_quoted(account.name) +
                  " (1-32 of A-Z a-z 0-9 _ . -)"};
  }
  if (protocol::is_reserved_name(account.name)) {
    throw Refused{where + ".name: " + json_quoted(account.name) + " is reserved (guest-…)"};
  }
  account.password = required_string(user, "password", where);
  if (!parse_phc(account.password)) {
    throw Refused{where + ".password: not a password hash this server accepts" +
                  " (the line `parley passwd` prints: $scrypt$ln=…,r=…,p=…$salt$hash)"};
  }
  PermissionLists lists;
  lists.publish = pattern_list(user, "publish", where);
  lists.subscribe = pattern_list(user, "subscribe", where);
  lists.deny_publish = pattern_list(user, "deny_publish", where);
  lists.deny_subscribe = pattern_list(user, "deny_subscribe", where);
  if (const auto it = user.find("tell"); it != user.end()) {
    if (!it->is_boolean()) throw Refused{where + ".tell: expected true or false"};
    lists.tell = it->get<bool>();
  }
  account.permissions = Permissions(lists);
  return account;
}

// Parses JSON, refusing a key repeated within one object (nlohmann would keep the last).
json parse_json(std::string_view text) {
  std::vector<std::set<std::string, std::less<>>> open;  // keys seen, per open object
  std::optional<std::string> duplicate;
  std::size_t users_seen = 0;  // objects at depth 2: the accounts, counted from 1
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open.emplace_back();
        if (depth == 2) ++users_seen;
        break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!duplicate && !open.empty() && !open.back().insert(parsed.get<std::string>()).second) {
          const std::string where = open.size() == 1
                                        ? std::string("top level")
                                        : "users[" + std::to_string(users_seen - 1) + "]";
          duplicate = where + ": field " + json_quoted(parsed.get_ref<const std::string&>()) +
                      " given twice";
        }
        break;
      default:
        break;
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    throw Refused{std::string("not valid JSON: ") + e.what()};
  }
  if (duplicate) throw Refused{*duplicate};
  return doc;
}

}  // namespace

const Account* Users::find(std::string_view name) const {
  const auto it = by_folded_.find(protocol::fold_name(name));
  return it == by_folded_.end() ? nullptr : &accounts_[it->second];
}

const Account* Users::authenticate(std::string_view name, std::string_view password) const {
  const Account* account = find(name);
  if (account == nullptr) {
    // A hash of a random password at the default cost: the same work, never a match.
    static const std::string kDecoy = hash_password("decoy: no account has this name");
    verify_password(password, kDecoy);
    return nullptr;
  }
  return verify_password(password, account->password) ? account : nullptr;
}

std::variant<Users, std::string> parse_users_file(std::string_view text) {
  try {
    const json doc = parse_json(text);
    if (!doc.is_object()) throw Refused{"top level: expected an object {\"users\":[…]}"};
    for (const auto& item : doc.items()) {
      if (item.key() != "users")
        throw Refused{"top level: unknown field " + json_quoted(item.key())};
    }
    const auto list = doc.find("users");
    if (list == doc.end()) throw Refused{"top level: missing \"users\""};
    if (!list->is_array()) throw Refused{"users: expected an array of accounts"};
    Users users;
    users.accounts_.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string where = "users[" + std::to_string(i) + "]";
      Account account = parse_account((*list)[i], where);
      const auto [it, fresh] = users.by_folded_.emplace(protocol::fold_name(account.name), i);
      if (!fresh) {
        throw Refused{where + ".name: " + json_quoted(account.name) + " repeats users[" +
                      std::to_string(it->second) + "] (names compare case-insensitively)"};
      }
      users.accounts_.push_back(std::move(account));
    }
    return users;
  } catch (Refused& refused) {
    return std::move(refused.message);
  }
}

}  // namespace parley::auth
