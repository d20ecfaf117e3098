#include "permissions.hpp"

#include <algorithm>

namespace parley::auth {
namespace {

PatternSet compile(const std::vector<std::string>& patterns) {
  PatternSet set;
  for (const auto& p : patterns) set.add(p);
  return set;
}

}  // namespace

Permissions::Permissions(const PermissionLists& lists)
    : publish_all_(!lists.publish),
      subscribe_all_(!lists.subscribe),
      has_deny_subscribe_(lists.deny_subscribe && !lists.deny_subscribe->empty()),
      tell_(lists.tell) {
  if (lists.publish) publish_ = compile(*lists.publish);
  if (lists.subscribe) {
    subscribe_ = compile(*lists.subscribe);
    subscribe_patterns_ = *lists.subscribe;
  }
  if (lists.deny_publish) deny_publish_ = compile(*lists.deny_publish);
  if (lists.deny_subscribe) {
    deny_subscribe_ = compile(*lists.deny_subscribe);
    deny_subscribe_patterns_ = *lists.deny_subscribe;
  }
}

bool Permissions::allow_publish(std::string_view topic) const noexcept {
  return (publish_all_ || publish_.matches(topic)) && !deny_publish_.matches(topic);
}

bool Permissions::allow_subscribe_topic(std::string_view topic) const noexcept {
  return (subscribe_all_ || subscribe_.matches(topic)) && !delivery_denied(topic);
}

bool Permissions::allow_subscribe_pattern(std::string_view pattern) const noexcept {
  const auto within = [pattern](const std::string& allow) { return contained(pattern, allow); };
  if (!subscribe_all_ &&
      std::none_of(subscribe_patterns_.begin(), subscribe_patterns_.end(), within)) {
    return false;
  }
  return std::none_of(deny_subscribe_patterns_.begin(), deny_subscribe_patterns_.end(), within);
}

}  // namespace parley::auth
