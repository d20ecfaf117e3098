// Pattern containment and the pattern trie against brute force, over a tiny alphabet.
// Input: bytes read as tokens (a, b, $a, *, >; a sixth value ends a pattern), giving a
// list of patterns of up to 4 tokens. For each consecutive pair, contained(p, q) must
// hold exactly when every topic p matches is matched by q, checked over every topic of
// up to 5 tokens of a, b, $a (one more than the longest pattern, enough to tell any two
// apart). A PatternSet of all the patterns must match exactly the topics (a, b, $a, c)
// that a linear scan of pattern_matches does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "parley/protocol/topic.hpp"
#include "pattern_set.hpp"

using parley::protocol::is_valid_pattern;
using parley::protocol::is_valid_topic;
using parley::protocol::pattern_matches;

namespace {

constexpr std::size_t kMaxPatternTokens = 4;

std::vector<std::string> all_topics(const std::vector<std::string>& alphabet,
                                    std::size_t max_tokens) {
  std::vector<std::string> out;
  std::vector<std::string> level{""};
  for (std::size_t n = 1; n <= max_tokens; ++n) {
    std::vector<std::string> next;
    for (const auto& prefix : level) {
      for (const auto& token : alphabet) {
        next.push_back(prefix.empty() ? token : prefix + "." + token);
      }
    }
    level = std::move(next);
    for (const auto& t : level) {
      if (is_valid_topic(t)) out.push_back(t);
    }
  }
  return out;
}

[[noreturn]] void fail() {
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> witnesses =
      all_topics({"a", "b", "$a"}, kMaxPatternTokens + 1);
  static const std::vector<std::string> probes = all_topics({"a", "b", "$a", "c"}, 5);
  static const char* const kTokens[] = {"a", "b", "$a", "*", ">"};

  std::vector<std::string> patterns;
  std::string current;
  std::size_t tokens = 0;
  const auto finish = [&] {
    if (is_valid_pattern(current)) patterns.push_back(current);
    current.clear();
    tokens = 0;
  };
  for (std::size_t i = 0; i < size && patterns.size() < 24; ++i) {
    const unsigned choice = data[i] % 6;
    if (choice == 5) {
      finish();
    } else if (tokens < kMaxPatternTokens) {
      if (tokens > 0) current += '.';
      current += kTokens[choice];
      ++tokens;
    }
  }
  finish();

  for (std::size_t i = 0; i + 1 < patterns.size(); ++i) {
    const auto& p = patterns[i];
    const auto& q = patterns[i + 1];
    const bool expected = std::all_of(witnesses.begin(), witnesses.end(), [&](const auto& t) {
      return !pattern_matches(p, t) || pattern_matches(q, t);
    });
    if (parley::auth::contained(p, q) != expected) fail();
    if (!parley::auth::contained(p, p)) fail();
  }

  parley::auth::PatternSet set;
  for (const auto& p : patterns) set.add(p);
  if (set.empty() != patterns.empty()) fail();
  for (const auto& topic : probes) {
    const bool expected = std::any_of(patterns.begin(), patterns.end(),
                                      [&](const auto& p) { return pattern_matches(p, topic); });
    if (set.matches(topic) != expected) fail();
  }
  return 0;
}
