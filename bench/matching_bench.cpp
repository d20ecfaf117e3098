// Subscription matching with many subscriptions: the trie should cost per topic token,
// not per subscription.
#include <benchmark/benchmark.h>

#include <string>

#include "subscription_index.hpp"

namespace {

using parley::server::SessionId;
using parley::server::SubscriptionIndex;

// range(0) sessions, each with an exact subscription, plus a few wildcard patterns.
void BM_MatchAmongMany(benchmark::State& state) {
  SubscriptionIndex index;
  const auto count = static_cast<SessionId>(state.range(0));
  for (SessionId id = 1; id <= count; ++id) {
    index.add("room." + std::to_string(id) + ".chat", id, std::nullopt);
    if (id % 100 == 0) index.add("room.*.chat", id, std::nullopt);
  }
  index.add("room.>", count + 1, std::nullopt);
  std::size_t matched = 0;
  SessionId probe = 1;
  for (auto _ : state) {
    const std::string topic = "room." + std::to_string(probe) + ".chat";
    index.match(
        topic, [&](SessionId) { ++matched; }, [&](SubscriptionIndex::Group&) {});
    probe = probe % count + 1;
  }
  benchmark::DoNotOptimize(matched);
}
BENCHMARK(BM_MatchAmongMany)->Arg(100)->Arg(10000)->Arg(100000);

void BM_AddRemove(benchmark::State& state) {
  SubscriptionIndex index;
  SessionId id = 0;
  for (auto _ : state) {
    const std::string pattern = "a." + std::to_string(id % 1000) + ".*";
    index.add(pattern, id, std::nullopt);
    index.remove(pattern, id, std::nullopt);
    ++id;
  }
}
BENCHMARK(BM_AddRemove);

}  // namespace
