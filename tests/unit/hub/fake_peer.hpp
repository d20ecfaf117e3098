#pragma once
// A Peer that records what the hub sends it, parsed, and can refuse like a session that is
// being cut off. Every frame it accepts must be one JSON object on one line.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "peer.hpp"

namespace parley::test {

class FakePeer final : public server::Peer {
 public:
  bool deliver(const server::SharedFrame& frame) override {
    ++offered;
    if (refuse) return false;
    record(frame);
    return true;
  }
  // Replies are never refused: a session exempts them from its outbound limit.
  void reply(const server::SharedFrame& frame) override {
    ++replies;
    record(frame);
  }
  // The hub ended this session (a real one would send bye with the reason and close).
  void evict(std::string_view bye_reason) override { evictions.emplace_back(bye_reason); }
  void record(const server::SharedFrame& frame) {
    REQUIRE(frame != nullptr);
    REQUIRE_FALSE(frame->empty());
    CHECK(frame->back() == '\n');
    CHECK(frame->find('\n') == frame->size() - 1);
    nlohmann::json parsed = nlohmann::json::parse(*frame);
    CHECK(parsed.is_object());
    frames.push_back(std::move(parsed));
    raw.push_back(frame);
  }
  // Everything received so far, then forgotten.
  std::vector<nlohmann::json> take() {
    auto out = std::move(frames);
    frames.clear();
    raw.clear();
    return out;
  }
  // The ops of what was received so far, then forgotten.
  std::vector<std::string> take_ops() {
    std::vector<std::string> ops;
    for (const auto& frame : take()) ops.push_back(frame.at("op").get<std::string>());
    return ops;
  }

  std::vector<nlohmann::json> frames;
  std::vector<server::SharedFrame> raw;
  bool refuse = false;  // answer every deliver() with false, as a cut-off session does
  int offered = 0;      // deliver() calls, refused ones included
  int replies = 0;      // reply() calls
  std::vector<std::string> evictions;  // evict() reasons, in order
};

}  // namespace parley::test
