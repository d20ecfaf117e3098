// HttpHeadParser fed arbitrary bytes whole and in arbitrary chunkings. Input layout: a
// count of chunk sizes and the sizes (used in turn), then the stream. It must never
// crash, read at most the head's bytes, and give the same result and request either way;
// a complete head read again by itself must give the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/http.hpp"

using parley::protocol::HttpHeadParser;
using parley::protocol::HttpParse;
using parley::protocol::HttpRequest;
using parley::protocol::kMaxHttpHead;

namespace {

[[noreturn]] void fail() {
  std::abort();
}

struct Outcome {
  HttpParse status = HttpParse::need_more;
  std::size_t used = 0;
  HttpRequest request;
};

Outcome parse(std::string_view stream, const std::vector<std::size_t>& chunk_sizes) {
  HttpHeadParser parser;
  Outcome out;
  std::size_t at = 0;
  for (std::size_t turn = 0; at < stream.size() && out.status == HttpParse::need_more; ++turn) {
    const std::size_t chunk =
        chunk_sizes.empty() ? stream.size() : chunk_sizes[turn % chunk_sizes.size()];
    const std::string_view piece = stream.substr(at, chunk);
    const auto result = parser.feed(piece);
    if (result.used > piece.size()) fail();
    if (result.status == HttpParse::need_more && result.used != piece.size()) fail();
    out.status = result.status;
    out.used += result.used;
    at += piece.size();
  }
  out.request = parser.request();
  return out;
}

bool same(const HttpRequest& a, const HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.version_minor != b.version_minor ||
      a.fields.size() != b.fields.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].name != b.fields[i].name || a.fields[i].value != b.fields[i].value)
      return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::size_t at = 0;
  const auto next = [&]() -> std::uint8_t { return at < size ? data[at++] : 0; };
  std::vector<std::size_t> chunk_sizes(1 + next() % 8);
  for (auto& chunk : chunk_sizes) chunk = 1 + next() % 64;
  const std::string_view stream =
      at < size ? std::string_view(reinterpret_cast<const char*>(data) + at, size - at)
                : std::string_view();

  const Outcome whole = parse(stream, {});
  const Outcome chunked = parse(stream, chunk_sizes);
  if (whole.status != chunked.status || whole.used != chunked.used) fail();
  if (whole.status == HttpParse::complete) {
    if (whole.used > kMaxHttpHead || !same(whole.request, chunked.request)) fail();
    // The head alone is the same head; the bytes after it were not read.
    const Outcome head = parse(stream.substr(0, whole.used), {});
    if (head.status != HttpParse::complete || !same(head.request, whole.request)) fail();
    for (const auto& f : whole.request.fields) {
      if (f.value.find_first_of("\r\n") != std::string::npos) fail();
    }
  }
  return 0;
}
