// The users file parser on any text: it never crashes, and an accepted file round-trips
// its names: every account is found by its name in any case, and a file rebuilt from the
// accepted names and hashes is accepted with the same names in the same order. The
// permissions compiled from it answer without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

#include "users_file.hpp"

namespace {

[[noreturn]] void fail() {
  std::abort();
}

std::string with_case(std::string text, bool upper) {
  for (char& c : text) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = parley::auth::parse_users_file(text);
  if (const auto* error = std::get_if<std::string>(&result)) {
    if (error->empty()) fail();  // a refusal always says why
    return 0;
  }
  const auto& users = std::get<parley::auth::Users>(result);
  nlohmann::json rebuilt = {{"users", nlohmann::json::array()}};
  for (const auto& account : users.accounts()) {
    if (users.find(account.name) != &account) fail();
    if (users.find(with_case(account.name, true)) != &account) fail();
    if (users.find(with_case(account.name, false)) != &account) fail();
    const auto& p = account.permissions;
    static_cast<void>(p.allow_publish("chat.general"));
    static_cast<void>(p.allow_subscribe_topic("$sys.stats"));
    static_cast<void>(p.allow_subscribe_pattern("chat.*"));
    static_cast<void>(p.allow_subscribe_pattern(">"));
    static_cast<void>(p.delivery_denied("a.b.c"));
    rebuilt["users"].push_back({{"name", account.name}, {"password", account.password}});
  }
  const auto again = parley::auth::parse_users_file(rebuilt.dump());
  const auto* reparsed = std::get_if<parley::auth::Users>(&again);
  if (reparsed == nullptr || reparsed->accounts().size() != users.accounts().size()) fail();
  for (std::size_t i = 0; i < users.accounts().size(); ++i) {
    if (reparsed->accounts()[i].name != users.accounts()[i].name) fail();
  }
  return 0;
}
