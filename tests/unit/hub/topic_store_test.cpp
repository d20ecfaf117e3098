// Per-topic history under one byte budget, least recently used first.
#include <catch2/catch.hpp>
#include <string>

#include "topic_store.hpp"

using namespace parley::server;

namespace {

void publish(TopicStore& store, const std::string& topic, std::size_t size = 100) {
  Topic& t = store.touch(topic);
  ++t.seq;
  store.retain(t, make_frame(std::string(size - 1, 'm') + "\n"));
}

}  // namespace

TEST_CASE("each topic keeps its newest messages", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  for (int i = 0; i < 5; ++i) publish(store, "t");
  const Topic* t = store.find("t");
  REQUIRE(t != nullptr);
  CHECK(t->seq == 5);
  REQUIRE(t->history.size() == 3);
  CHECK(t->history.front().seq == 3);
  CHECK(t->history.back().seq == 5);
  CHECK(store.listed_count() == 1);
}

TEST_CASE("history off keeps the counter but no messages", "[topic_store]") {
  TopicStore store(0, 1 << 20);
  publish(store, "t");
  publish(store, "t");
  CHECK(store.find("t")->seq == 2);
  CHECK(store.find("t")->history.empty());
  CHECK(store.listed_count() == 0);
}

TEST_CASE("over the budget least recently used topics go first but members keep a topic",
          "[topic_store]") {
  TopicStore store(10, 3000);
  Topic& room = store.touch("room");
  room.members.push_back(1);
  publish(store, "room");
  for (int i = 0; i < 10; ++i) publish(store, "t" + std::to_string(i));
  CHECK(store.bytes() <= 3000);
  CHECK(store.find("room") != nullptr);        // a room with members is never forgotten
  CHECK(store.find("room")->history.empty());  // but it may lose its history
  CHECK(store.find("t0") == nullptr);          // the oldest others are gone
  CHECK(store.find("t9") != nullptr);          // the newest stays
  CHECK(store.find("t9")->history.size() == 1);
}

TEST_CASE("a topic alone over the budget keeps its newest message", "[topic_store]") {
  TopicStore store(100, 1000);
  for (int i = 0; i < 20; ++i) publish(store, "big", 400);
  const Topic* t = store.find("big");
  REQUIRE(t != nullptr);
  CHECK(t->history.size() >= 1);
  CHECK(t->history.back().seq == 20);
}

TEST_CASE("touch marks a topic recently used", "[topic_store]") {
  TopicStore store(10, 2500);
  publish(store, "old");
  publish(store, "mid");
  store.touch("old");  // now newer than mid
  for (int i = 0; i < 8; ++i) publish(store, "n" + std::to_string(i));
  CHECK(store.find("mid") == nullptr);
}
