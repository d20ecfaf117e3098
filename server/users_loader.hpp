#pragma once
// Reads and parses the users file (--users). It reads a file, so it runs before the loop
// starts or on an AuthWorkers thread, never on the loop.
#include <memory>
#include <string>
#include <variant>

#include "users_file.hpp"

namespace parley::server {

// The accounts of the file at `path`, or why it cannot be used (unreadable, too large,
// or refused by auth::parse_users_file), with the path in the message.
std::variant<std::shared_ptr<const auth::Users>, std::string> load_users_file(
    const std::string& path);

}  // namespace parley::server
