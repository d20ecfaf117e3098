#pragma once
// Which server each of `parley bench`'s connections goes to when several are given (a
// cluster's nodes): every publisher to the first, subscribers in turn over all of them,
// so that a cluster's fan-out crosses nodes and the first server's CPU figure stays the
// publishers' node. Pure functions, unit-tested.
#include <cstddef>

namespace parley::client::bench {

// The index into the server list for publisher `index` of `servers` (> 0): always 0.
std::size_t publisher_server(std::size_t index, std::size_t servers);

// The index into the server list for subscriber `index`: index mod `servers` (> 0), so
// subscriber 0, which paces the publishers, shares their server.
std::size_t subscriber_server(std::size_t index, std::size_t servers);

}  // namespace parley::client::bench
