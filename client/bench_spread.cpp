#include "bench_spread.hpp"

namespace parley::client::bench {

std::size_t publisher_server(std::size_t /*index*/, std::size_t /*servers*/) {
  return 0;
}

std::size_t subscriber_server(std::size_t index, std::size_t servers) {
  return servers == 0 ? 0 : index % servers;
}

}  // namespace parley::client::bench
