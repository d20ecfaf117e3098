// The per-message protocol work: decoding a pub frame and building its msg frame.
#include <benchmark/benchmark.h>

#include <string>

#include "parley/protocol/decode.hpp"
#include "parley/protocol/frames.hpp"
#include "parley/protocol/framing.hpp"

namespace {

std::string pub_frame(std::size_t payload) {
  return R"({"op":"pub","topic":"chat.general","data":")" + std::string(payload, 'x') + R"("})";
}

void BM_DecodePub(benchmark::State& state) {
  const std::string frame = pub_frame(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto decoded = parley::protocol::decode_request(frame);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(BM_DecodePub)->Arg(16)->Arg(128)->Arg(1024)->Arg(16384);

void BM_DecodeNestedData(benchmark::State& state) {
  const std::string frame =
      R"({"op":"pub","topic":"t","id":42,"data":{"user":{"id":17,"tags":["a","b","c"],"score":3.25},"text":"h\u00e9llo"}})";
  for (auto _ : state) {
    auto decoded = parley::protocol::decode_request(frame);
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_DecodeNestedData);

void BM_BuildMsg(benchmark::State& state) {
  const std::string data = "\"" + std::string(static_cast<std::size_t>(state.range(0)), 'x') + "\"";
  for (auto _ : state) {
    auto frame = parley::protocol::build_msg("chat.general", "alice", data, 12345, 1795491629178,
                                             std::nullopt);
    benchmark::DoNotOptimize(frame);
  }
}
BENCHMARK(BM_BuildMsg)->Arg(16)->Arg(128)->Arg(1024);

void BM_SplitFrames(benchmark::State& state) {
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += pub_frame(100) + "\n";
  parley::protocol::LineSplitter splitter(65536);
  for (auto _ : state) {
    std::size_t frames = 0;
    splitter.feed(chunk, [&](std::string_view) {
      ++frames;
      return true;
    });
    benchmark::DoNotOptimize(frames);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_SplitFrames);

}  // namespace
