// parley bench with several servers: publishers on the first, subscribers in turn.
#include <catch2/catch.hpp>
#include <cstddef>
#include <vector>

#include "bench_spread.hpp"

using namespace parley::client::bench;

namespace {
std::vector<std::size_t> subscribers(std::size_t count, std::size_t servers) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(subscriber_server(i, servers));
  return out;
}
}  // namespace

TEST_CASE("bench spread: one server takes every connection", "[bench]") {
  CHECK(subscribers(4, 1) == std::vector<std::size_t>{0, 0, 0, 0});
  CHECK(publisher_server(0, 1) == 0);
  CHECK(publisher_server(3, 1) == 0);
}

TEST_CASE("bench spread: subscribers take the servers in turn", "[bench]") {
  // 10 subscribers on two nodes: five each, subscriber 0 beside the publishers.
  CHECK(subscribers(10, 2) == std::vector<std::size_t>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  CHECK(subscribers(5, 3) == std::vector<std::size_t>{0, 1, 2, 0, 1});
  // Fewer subscribers than servers: the last servers get none.
  CHECK(subscribers(2, 3) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("bench spread: publishers all go to the first server", "[bench]") {
  for (std::size_t i = 0; i < 5; ++i) CHECK(publisher_server(i, 3) == 0);
}

TEST_CASE("bench spread: no servers is answered, not divided by", "[bench]") {
  CHECK(subscriber_server(7, 0) == 0);
  CHECK(publisher_server(7, 0) == 0);
}
