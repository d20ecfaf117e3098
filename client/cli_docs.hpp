#pragma once
// Shell completion scripts and the man page, generated from the command definitions
// themselves, so that they list exactly the subcommands and options parley has.
#include <CLI/CLI.hpp>
#include <string>

namespace parley::client {

// A bash completion script (`complete -F`), completing subcommands, then their options.
std::string bash_completion(const CLI::App& app);
// A zsh completion script (#compdef parley).
std::string zsh_completion(const CLI::App& app);
// The man page, section 1, in roff.
std::string man_page(const CLI::App& app);

}  // namespace parley::client
