#pragma once
// Tab completion of a word against candidates (commands, rooms, names), as shells do:
// one match completes, several complete their common prefix and are listed.
#include <string>
#include <string_view>
#include <vector>

namespace parley::client {

struct Completion {
  std::string word;                  // the word to put in place of the one typed
  bool finished = false;             // exactly one match: a space may follow it
  std::vector<std::string> choices;  // several matches, to be shown
};

// Candidates are matched by prefix, case-insensitively, and listed sorted once each.
Completion complete_word(std::string_view word, std::vector<std::string> candidates);

}  // namespace parley::client
