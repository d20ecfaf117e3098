#include "completion.hpp"

#include <algorithm>
#include <cctype>

namespace parley::client {
namespace {

bool same_letter(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), same_letter);
}

}  // namespace

Completion complete_word(std::string_view word, std::vector<std::string> candidates) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<std::string> matches;
  for (auto& candidate : candidates) {
    if (starts_with(candidate, word)) matches.push_back(std::move(candidate));
  }
  Completion result{std::string(word), false, {}};
  if (matches.empty()) return result;
  if (matches.size() == 1) return Completion{matches.front(), true, {}};
  std::string common = matches.front();
  for (const auto& match : matches) {
    std::size_t n = 0;
    while (n < common.size() && n < match.size() && same_letter(common[n], match[n])) ++n;
    common.resize(n);
  }
  result.word = common.size() > word.size() ? common : std::string(word);
  result.choices = std::move(matches);
  return result;
}

}  // namespace parley::client
