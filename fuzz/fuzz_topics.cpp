// Topic and pattern validation and matching against a simple reference written here
// (split on '.', compare token by token). Input: a pattern, a newline, a topic (the same
// text serves as both when there is no newline).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "parley/protocol/topic.hpp"

using namespace parley::protocol;

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == '.') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

bool literal(const std::string& token, bool first) {
  std::size_t i = first && !token.empty() && token[0] == '$' ? 1 : 0;
  if (i == token.size()) return false;
  for (; i < token.size(); ++i) {
    const char c = token[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool reference_topic(const std::string& t) {
  if (t.empty() || t.size() > 255) return false;
  const auto tokens = split(t);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!literal(tokens[i], i == 0)) return false;
  }
  return true;
}

bool reference_pattern(const std::string& p) {
  if (p.empty() || p.size() > 255) return false;
  const auto tokens = split(p);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == "*") continue;
    if (tokens[i] == ">" && i + 1 == tokens.size()) continue;
    if (!literal(tokens[i], i == 0)) return false;
  }
  return true;
}

bool reference_match(const std::string& p, const std::string& t) {
  const auto pt = split(p);
  const auto tt = split(t);
  if (t[0] == '$' && (pt[0] == "*" || pt[0] == ">")) return false;
  for (std::size_t i = 0; i < pt.size(); ++i) {
    if (pt[i] == ">") return tt.size() > i;
    if (i >= tt.size()) return false;
    if (pt[i] != "*" && pt[i] != tt[i]) return false;
  }
  return pt.size() == tt.size();
}

bool reference_wildcard(const std::string& p) {
  for (const auto& token : split(p)) {
    if (token == "*" || token == ">") return true;
  }
  return false;
}

[[noreturn]] void fail() {
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto cut = input.find('\n');
  const std::string pattern = input.substr(0, cut);
  const std::string topic = cut == std::string::npos ? pattern : input.substr(cut + 1);
  if (is_valid_topic(topic) != reference_topic(topic)) fail();
  const bool valid_pattern = is_valid_pattern(pattern);
  if (valid_pattern != reference_pattern(pattern)) fail();
  // Every topic is a pattern; a valid pattern is a topic exactly when it has no wildcard.
  if (is_valid_topic(pattern) && !valid_pattern) fail();
  if (valid_pattern) {
    if (has_wildcard(pattern) != reference_wildcard(pattern)) fail();
    if (is_valid_topic(pattern) == has_wildcard(pattern)) fail();
  }
  if (is_system_topic(topic) != (!topic.empty() && topic[0] == '$')) fail();
  if (valid_pattern && is_valid_topic(topic)) {
    const bool match = pattern_matches(pattern, topic);
    if (match != reference_match(pattern, topic)) fail();
    // Without wildcards a pattern matches only the identical topic.
    if (!has_wildcard(pattern) && match != (pattern == topic)) fail();
  }
  if (is_valid_topic(topic) && !pattern_matches(topic, topic)) fail();
  return 0;
}
