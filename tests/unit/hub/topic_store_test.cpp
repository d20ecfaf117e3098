// Per-topic state: the publish counter, the history ring, and one byte budget for all
// history, spent least recently used topic first.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "topic_store.hpp"

using namespace parley::server;

namespace {

// Publishes one message of `size` bytes ('\n' included) as the hub does: seq, then retain.
std::uint64_t publish(TopicStore& store, const std::string& topic, std::size_t size = 100) {
  Topic& t = store.touch(topic);
  ++t.seq;
  store.retain(t, make_frame(std::string(size - 1, 'm') + "\n"));
  return t.seq;
}

std::vector<std::uint64_t> seqs(const Topic& topic) {
  std::vector<std::uint64_t> out;
  for (const Retained& r : topic.history) out.push_back(r.seq);
  return out;
}

// What one retained message costs beyond its frame, as the store counts it.
std::size_t per_message_overhead() {
  TopicStore store(10, 1 << 20);
  publish(store, "t", 100);
  return store.find("t")->history_bytes - 100;
}

// The store's books agree with its contents: each topic's history_bytes is its frames plus
// a fixed cost per message, every history is in seq order and within the per-topic cap,
// and the total covers all of it.
void check_books(const TopicStore& store) {
  static const std::size_t per_message = per_message_overhead();
  std::size_t history_total = 0;
  store.for_each([&](const Topic& topic) {
    std::size_t frames = 0;
    std::uint64_t last = 0;
    for (const Retained& r : topic.history) {
      frames += r.frame->size();
      CHECK(r.seq > last);
      CHECK(r.seq <= topic.seq);
      last = r.seq;
    }
    CHECK(topic.history.size() <= store.per_topic());
    CHECK(topic.history_bytes == frames + topic.history.size() * per_message);
    history_total += topic.history_bytes;
  });
  CHECK(store.bytes() > history_total);  // plus each topic's own record
}

}  // namespace

TEST_CASE("a new store is empty and unknown topics are not found", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  CHECK(store.size() == 0);
  CHECK(store.listed_count() == 0);
  CHECK(store.bytes() == 0);
  CHECK(store.find("t") == nullptr);
  CHECK(store.per_topic() == 3);
}

TEST_CASE("touch creates a topic with seq 0 that is not listed until it has something",
          "[topic_store]") {
  TopicStore store(3, 1 << 20);
  Topic& t = store.touch("room");
  CHECK(t.name == "room");
  CHECK(t.seq == 0);
  CHECK(t.history.empty());
  CHECK_FALSE(t.listed());
  CHECK(&store.touch("room") == &t);  // the same record
  CHECK(store.size() == 1);
  CHECK(store.listed_count() == 0);
  CHECK(store.bytes() > 0);  // a record costs its bookkeeping
  t.members.push_back(7);
  CHECK(t.listed());
  CHECK(store.listed_count() == 1);
}

TEST_CASE("each topic keeps its newest messages, oldest first", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  for (int i = 0; i < 5; ++i) publish(store, "t");
  publish(store, "u");
  const Topic* t = store.find("t");
  REQUIRE(t != nullptr);
  CHECK(t->seq == 5);
  CHECK(seqs(*t) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(seqs(*store.find("u")) == std::vector<std::uint64_t>{1});
  CHECK(store.listed_count() == 2);
  check_books(store);
}

TEST_CASE("the cap holds the byte count steady", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  for (int i = 0; i < 3; ++i) publish(store, "t");
  const std::size_t full = store.bytes();
  for (int i = 0; i < 20; ++i) publish(store, "t");
  CHECK(store.bytes() == full);
  check_books(store);
}

TEST_CASE("history off keeps the counter but no messages", "[topic_store]") {
  TopicStore store(0, 1 << 20);
  publish(store, "t");
  publish(store, "t");
  REQUIRE(store.find("t") != nullptr);
  CHECK(store.find("t")->seq == 2);
  CHECK(store.find("t")->history.empty());
  CHECK(store.find("t")->history_bytes == 0);
  CHECK(store.listed_count() == 0);
}

TEST_CASE("under the budget nothing is evicted", "[topic_store][budget]") {
  TopicStore store(10, 1 << 20);
  for (int i = 0; i < 20; ++i) publish(store, "t" + std::to_string(i % 5));
  CHECK(store.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(store.find("t" + std::to_string(i))->history.size() == 4);
  check_books(store);
}

TEST_CASE("over the budget the least recently used topics go first", "[topic_store][budget]") {
  TopicStore store(10, 2000);
  for (int i = 0; i < 12; ++i) {
    publish(store, "t" + std::to_string(i), 200);
    CHECK(store.bytes() <= 2000);
  }
  // The survivors are the newest topics, without a gap.
  int survivors = 0;
  bool gone = false;
  for (int i = 11; i >= 0; --i) {
    const bool kept = store.find("t" + std::to_string(i)) != nullptr;
    if (kept) {
      CHECK_FALSE(gone);
      ++survivors;
    }
    gone = gone || !kept;
  }
  CHECK(survivors >= 2);
  CHECK(survivors < 12);
  CHECK(store.find("t0") == nullptr);
  REQUIRE(store.find("t11") != nullptr);
  CHECK(store.find("t11")->history.size() == 1);
  check_books(store);
}

TEST_CASE("a forgotten topic without members starts its seq again", "[topic_store][budget]") {
  TopicStore store(10, 1500);
  publish(store, "old");
  publish(store, "old");
  for (int i = 0; i < 10; ++i) publish(store, "n" + std::to_string(i), 300);
  CHECK(store.find("old") == nullptr);
  CHECK(publish(store, "old") == 1);
}

TEST_CASE("topics with members keep their record and seq but may lose history",
          "[topic_store][budget]") {
  TopicStore store(10, 3000);
  Topic& room = store.touch("room");
  room.members.push_back(1);
  publish(store, "room");
  publish(store, "room");
  for (int i = 0; i < 10; ++i) publish(store, "t" + std::to_string(i));
  CHECK(store.bytes() <= 3000);
  const Topic* kept = store.find("room");
  REQUIRE(kept != nullptr);
  CHECK(kept == &room);  // the same record: references held by the hub stay valid
  CHECK(kept->seq == 2);
  CHECK(kept->history.empty());
  CHECK(kept->history_bytes == 0);
  CHECK(kept->listed());  // listed for its member
  CHECK(store.find("t0") == nullptr);
  REQUIRE(store.find("t9") != nullptr);
  CHECK(store.find("t9")->history.size() == 1);
  check_books(store);
}

TEST_CASE("a topic alone over the budget keeps its newest message", "[topic_store][budget]") {
  TopicStore store(100, 1000);
  for (int i = 0; i < 20; ++i) publish(store, "big", 400);
  const Topic* t = store.find("big");
  REQUIRE(t != nullptr);
  CHECK(t->seq == 20);
  REQUIRE_FALSE(t->history.empty());
  CHECK(t->history.back().seq == 20);
  CHECK(store.bytes() <= 1000);
  check_books(store);
}

TEST_CASE("the topic being written is never the one evicted", "[topic_store][budget]") {
  TopicStore store(100, 1200);
  publish(store, "a", 300);
  publish(store, "b", 300);
  // "a" is the least recently used, but it is the one being written.
  Topic& a = *store.find("a");
  ++a.seq;
  store.retain(a, make_frame(std::string(599, 'x') + "\n"));
  REQUIRE(store.find("a") != nullptr);
  CHECK(store.find("a")->history.back().seq == 2);
  CHECK(store.find("b") == nullptr);
  CHECK(store.bytes() <= 1200);
  check_books(store);
}

TEST_CASE("touch marks a topic recently used", "[topic_store][budget]") {
  TopicStore store(10, 2500);
  publish(store, "old");
  publish(store, "mid");
  store.touch("old");  // now newer than mid
  // old, mid and six more fill the budget exactly; the seventh more evicts one topic.
  for (int i = 0; i < 7; ++i) publish(store, "n" + std::to_string(i));
  CHECK(store.find("mid") == nullptr);
  CHECK(store.find("old") != nullptr);
  CHECK(store.bytes() <= 2500);
}

TEST_CASE("release forgets an empty topic only when the store is over budget",
          "[topic_store][budget]") {
  // No history, so only records cost; rooms with members cannot be forgotten.
  TopicStore store(0, 500);
  std::vector<Topic*> rooms;
  for (const char* name : {"r1", "r2"}) {
    Topic& t = store.touch(name);
    t.members.push_back(1);
    ++t.seq;
    rooms.push_back(&t);
  }
  SECTION("under budget the counter is kept") {
    REQUIRE(store.bytes() <= 500);
    rooms[0]->members.clear();
    store.release(*rooms[0]);
    REQUIRE(store.find("r1") != nullptr);
    CHECK(store.find("r1")->seq == 1);
  }
  SECTION("over budget it goes") {
    for (const char* name : {"r3", "r4"}) store.touch(name).members.push_back(1);
    REQUIRE(store.bytes() > 500);  // members keep every record
    CHECK(store.size() == 4);
    const std::size_t before = store.bytes();
    rooms[0]->members.clear();
    store.release(*rooms[0]);
    CHECK(store.find("r1") == nullptr);
    CHECK(store.bytes() < before);
    CHECK(store.size() == 3);
  }
  SECTION("a topic that still has members is kept whatever the budget") {
    for (const char* name : {"r3", "r4"}) store.touch(name).members.push_back(1);
    store.release(*rooms[0]);
    CHECK(store.find("r1") != nullptr);
  }
}

TEST_CASE("the books stay straight under a mixed load", "[topic_store][budget]") {
  TopicStore store(5, 6000);
  std::uint64_t state = 12345;  // a fixed linear congruential sequence: deterministic
  const auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  Topic& room = store.touch("room");
  room.members.push_back(1);
  for (int i = 0; i < 400; ++i) {
    const std::string topic = next(4) == 0 ? "room" : "t" + std::to_string(next(30));
    publish(store, topic, 20 + next(300));
    CHECK(store.bytes() <= 6000);
  }
  REQUIRE(store.find("room") != nullptr);
  check_books(store);
}
