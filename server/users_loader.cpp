#include "users_loader.hpp"

#include <fstream>
#include <iterator>
#include <sstream>

namespace parley::server {
namespace {

// A users file is a few kilobytes per hundred accounts; anything near this is a mistake
// (a wrong path to a log or a disk image) and is refused before it fills memory.
constexpr std::streamoff kMaxUsersFileBytes = std::streamoff{16} << 20;

}  // namespace

std::variant<std::shared_ptr<const auth::Users>, std::string> load_users_file(
    const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return "users file '" + path + "': cannot be opened";
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  if (size < 0) return "users file '" + path + "': cannot be read";
  if (size > kMaxUsersFileBytes)
    return "users file '" + path + "': larger than " + std::to_string(kMaxUsersFileBytes) +
           " bytes";
  file.seekg(0, std::ios::beg);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!file.read(text.data(), size)) return "users file '" + path + "': cannot be read";
  auto parsed = auth::parse_users_file(text);
  if (auto* reason = std::get_if<std::string>(&parsed))
    return "users file '" + path + "': " + *reason;
  return std::make_shared<const auth::Users>(std::move(std::get<auth::Users>(parsed)));
}

}  // namespace parley::server
