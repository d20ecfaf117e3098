// Hub fan-out: one publish delivered to N subscribers, with peers that only count.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "hub.hpp"

namespace {

using namespace parley::server;

class CountingPeer final : public Peer {
 public:
  bool deliver(const SharedFrame& frame) override {
    bytes_ += frame->size();
    return true;
  }
  void reply(const SharedFrame& frame) override { bytes_ += frame->size(); }
  void evict(std::string_view /*bye_reason*/) override { ++evictions_; }
  std::size_t bytes_ = 0;
  std::size_t evictions_ = 0;
};

void BM_HubFanOut(benchmark::State& state) {
  Hub hub(HubLimits{1000, 100, 64 * 1024 * 1024});
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  std::vector<std::unique_ptr<CountingPeer>> peers;
  for (std::size_t i = 0; i < subscribers; ++i) {
    peers.push_back(std::make_unique<CountingPeer>());
    const SessionId id = hub.connect(*peers.back());
    hub.subscribe(id, "bench.topic", std::nullopt);
  }
  CountingPeer publisher_peer;
  const SessionId publisher = hub.connect(publisher_peer);
  const std::string data = "\"" + std::string(128, 'x') + "\"";
  for (auto _ : state) {
    hub.publish(publisher, "bench.topic", data, std::nullopt, 1795491629178);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
}
BENCHMARK(BM_HubFanOut)->Arg(1)->Arg(10)->Arg(1000);

// The same fan-out where every subscriber has an account; range(1): 0 = accounts without
// deny lists (the delivery check is a null pointer), 1 = each with a deny_subscribe list of
// 20 patterns, none matching (a trie walk per delivery, never a scan of the list).
void BM_HubFanOutAccounts(benchmark::State& state) {
  Hub hub(HubLimits{1000, 100, 64 * 1024 * 1024});
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  parley::auth::PermissionLists lists;
  lists.subscribe = std::vector<std::string>{"bench.>", "chat.>"};
  if (state.range(1) != 0) {
    lists.deny_subscribe.emplace();
    for (int i = 0; i < 20; ++i)
      lists.deny_subscribe->push_back("bench.secret" + std::to_string(i) + ".>");
  }
  const auto permissions = std::make_shared<const parley::auth::Permissions>(lists);
  std::vector<std::unique_ptr<CountingPeer>> peers;
  for (std::size_t i = 0; i < subscribers; ++i) {
    peers.push_back(std::make_unique<CountingPeer>());
    const SessionId id = hub.connect(*peers.back());
    hub.set_permissions(id, permissions);
    hub.subscribe(id, "bench.topic", std::nullopt);
  }
  CountingPeer publisher_peer;
  const SessionId publisher = hub.connect(publisher_peer);
  const std::string data = "\"" + std::string(128, 'x') + "\"";
  for (auto _ : state) {
    hub.publish(publisher, "bench.topic", data, std::nullopt, 1795491629178);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
}
BENCHMARK(BM_HubFanOutAccounts)->Args({10, 0})->Args({10, 1});

void BM_RoomJoinLeave(benchmark::State& state) {
  Hub hub(HubLimits{1000, 100, 64 * 1024 * 1024});
  std::vector<std::unique_ptr<CountingPeer>> peers;
  for (int i = 0; i < 10; ++i) {
    peers.push_back(std::make_unique<CountingPeer>());
    JoinView view;
    hub.join(hub.connect(*peers.back()), "room", 0, std::nullopt, std::nullopt, view);
  }
  CountingPeer mover_peer;
  const SessionId mover = hub.connect(mover_peer);
  for (auto _ : state) {
    JoinView view;
    hub.join(mover, "room", 10, std::nullopt, std::nullopt, view);
    hub.leave(mover, "room");
  }
}
BENCHMARK(BM_RoomJoinLeave);

}  // namespace
