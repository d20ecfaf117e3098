#pragma once
// Runs scenario scripts against a server; the format and its parser are in
// script_parser.hpp.
#include <asio.hpp>
#include <string>
#include <vector>

#include "client_session.hpp"
#include "script_parser.hpp"

namespace parley::client {

// Runs each file in turn against the server; prints a line per failure; the exit code.
asio::awaitable<int> run_scripts(CommonOptions options, std::vector<std::string> files,
                                 bool verbose);

}  // namespace parley::client
