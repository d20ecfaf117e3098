#pragma once
// A Peer that records what the hub sends it, parsed, and can refuse like a cut-off session.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "peer.hpp"

namespace parley::test {

class FakePeer final : public server::Peer {
 public:
  bool deliver(const server::SharedFrame& frame) override {
    if (refuse) return false;
    frames.push_back(nlohmann::json::parse(*frame));
    raw.push_back(frame);
    return true;
  }
  // Everything received so far, then forgotten.
  std::vector<nlohmann::json> take() {
    auto out = std::move(frames);
    frames.clear();
    raw.clear();
    return out;
  }
  std::vector<nlohmann::json> frames;
  std::vector<server::SharedFrame> raw;
  bool refuse = false;
};

}  // namespace parley::test
