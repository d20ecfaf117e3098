// Per-topic state: the publish counter and epoch generation, the history ring, the ordered
// listing, and one byte budget that counts every record at its heap cost and forgets idle
// topics before it evicts anyone's history.
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
  std::string line(size, 'm');  // exactly `size` bytes of capacity, as counted
  line.back() = '\n';
  store.retain(t, make_frame(std::move(line)));
  return t.seq;
}

std::vector<std::uint64_t> seqs(const Topic& topic) {
  std::vector<std::uint64_t> out;
  for (const Retained& r : topic.history) out.push_back(r.seq);
  return out;
}

// What a topic record with no members and no history costs.
std::size_t record_cost(const std::string& name = "t0") {
  TopicStore store(10, 1 << 20);
  store.touch(name);
  return store.bytes();
}

// The store's books agree with its contents: each topic's history_bytes is its frames'
// cost, every history holds consecutive seqs within the per-topic cap, bytes() is the sum
// of what each topic costs, and the listing holds exactly the listed topics without '$'.
void check_books(const TopicStore& store) {
  std::size_t total = 0;
  std::size_t listed = 0;
  std::size_t indexed = 0;
  store.for_each([&](const Topic& topic) {
    std::size_t frames = 0;
    std::uint64_t last = 0;
    for (const Retained& r : topic.history) {
      frames += TopicStore::frame_cost(r.frame);
      if (last != 0) CHECK(r.seq == last + 1);
      CHECK(r.seq <= topic.seq);
      last = r.seq;
    }
    CHECK(topic.history.size() <= store.per_topic());
    CHECK(topic.history_bytes == frames);
    CHECK(topic.charged == TopicStore::cost(topic));
    total += topic.charged;
    listed += topic.listed() ? 1 : 0;
    indexed += topic.listed() && topic.name[0] != '$' ? 1 : 0;
    CHECK(store.listed_index().contains(&topic) == (topic.listed() && topic.name[0] != '$'));
  });
  CHECK(store.bytes() == total);
  CHECK(store.listed_count() == listed);
  CHECK(store.listed_index().size() == indexed);
}

}  // namespace

TEST_CASE("a new store is empty and unknown topics are not found", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  CHECK(store.size() == 0);
  CHECK(store.listed_count() == 0);
  CHECK(store.bytes() == 0);
  CHECK(store.find("t") == nullptr);
  CHECK(store.per_topic() == 3);
  CHECK(store.forgotten_count() == 0);
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
  store.add_member(t, 7);
  CHECK(t.listed());
  CHECK(store.listed_count() == 1);
  check_books(store);
  store.remove_member(t, 7);
  CHECK(store.listed_count() == 0);
  check_books(store);
}

TEST_CASE("a record is counted at its heap cost, name, nodes and all", "[topic_store][budget]") {
  const std::size_t small = record_cost("t");
  // The record itself, a hash node and bucket, a list node and an index node at least.
  CHECK(small >= sizeof(Topic) + 4 * sizeof(void*) + 3 * 32);
  // A name too long to sit inside the string costs its own allocation.
  const std::string long_name(200, 'n');
  CHECK(record_cost(long_name) >= small + 200);
  // An empty ring and member list cost nothing: a published-once topic costs its record,
  // one ring slot and its frame.
  TopicStore store(100, 1 << 20);
  publish(store, "t", 100);
  CHECK(store.bytes() >= small + sizeof(Retained) + 100);
  CHECK(store.find("t")->history.capacity() == 1);
  check_books(store);
}

TEST_CASE("each topic keeps its newest messages, oldest first", "[topic_store]") {
  TopicStore store(3, 1 << 20);
  for (int i = 0; i < 5; ++i) publish(store, "t");
  publish(store, "u");
  const Topic* t = store.find("t");
  REQUIRE(t != nullptr);
  CHECK(t->seq == 5);
  CHECK(seqs(*t) == std::vector<std::uint64_t>{3, 4, 5});
  CHECK(t->history[0].seq == 3);  // random access by offset from the oldest
  CHECK(t->history[2].seq == 5);
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

TEST_CASE("history off: records without members are idle, kept only within the budget",
          "[topic_store][budget]") {
  const std::size_t record = record_cost();
  TopicStore store(0, 3 * record);
  CHECK(publish(store, "t") == 1);
  CHECK(publish(store, "t") == 2);  // under budget the counter stays
  CHECK(store.find("t")->history.empty());
  CHECK(store.listed_count() == 0);
  // Memberless records are forgotten first, oldest first, when others need room.
  for (int i = 0; i < 5; ++i) publish(store, "n" + std::to_string(i));
  CHECK(store.bytes() <= store.budget());
  CHECK(store.find("t") == nullptr);
  CHECK(store.forgotten_count() >= 1);  // seqs were given out: the next run is another epoch
  CHECK(publish(store, "t") == 1);
  // A room keeps its counter whatever the budget.
  Topic& room = store.touch("room");
  store.add_member(room, 1);
  publish(store, "room");
  for (int i = 0; i < 5; ++i) publish(store, "m" + std::to_string(i));
  REQUIRE(store.find("room") != nullptr);
  CHECK(store.find("room")->seq == 1);
  check_books(store);
}

TEST_CASE("under the budget nothing is evicted", "[topic_store][budget]") {
  TopicStore store(10, 1 << 20);
  for (int i = 0; i < 20; ++i) publish(store, "t" + std::to_string(i % 5));
  CHECK(store.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(store.find("t" + std::to_string(i))->history.size() == 4);
  check_books(store);
}

TEST_CASE("over the budget the least recently used topics go first", "[topic_store][budget]") {
  const std::size_t budget = 5 * (record_cost() + 400);
  TopicStore store(10, budget);
  for (int i = 0; i < 12; ++i) {
    publish(store, "t" + std::to_string(i), 200);
    CHECK(store.bytes() <= budget);
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

TEST_CASE("idle topics are forgotten before anyone's history is evicted", "[topic_store][budget]") {
  const std::size_t record = record_cost();
  TopicStore store(10, 20 * record);
  // Three topics with history, then idle records (a join and leave each) until the budget.
  for (const char* name : {"h1", "h2", "h3"}) publish(store, name, 100);
  int idle = 0;
  while (store.bytes() + record <= store.budget()) {
    Topic& t = store.touch("idle" + std::to_string(idle++));
    store.add_member(t, 1);
    store.remove_member(t, 1);
    store.release(t);  // under budget: kept
  }
  REQUIRE(store.find("idle0") != nullptr);
  // More history: the idle records go, oldest first, and all three histories stay.
  publish(store, "h4", 100);
  publish(store, "h4", 100);
  CHECK(store.find("idle0") == nullptr);
  for (const char* name : {"h1", "h2", "h3", "h4"}) {
    REQUIRE(store.find(name) != nullptr);
    CHECK_FALSE(store.find(name)->history.empty());
  }
  CHECK(store.forgotten_count() == 0);  // none of them had given out a seq
  check_books(store);
}

TEST_CASE("a forgotten topic without members starts its seq again, in a new generation",
          "[topic_store][budget]") {
  const std::size_t budget = 4 * (record_cost() + 500);
  TopicStore store(10, budget);
  publish(store, "old");
  publish(store, "old");
  const std::uint64_t generation = store.find("old")->generation;
  for (int i = 0; i < 10; ++i) publish(store, "n" + std::to_string(i), 300);
  CHECK(store.find("old") == nullptr);
  CHECK(store.forgotten_count() > generation);
  CHECK(publish(store, "old") == 1);
  CHECK(store.find("old")->generation != generation);
}

TEST_CASE("topics with members keep their record and seq but may lose history",
          "[topic_store][budget]") {
  const std::size_t budget = 6 * (record_cost() + 200);
  TopicStore store(10, budget);
  Topic& room = store.touch("room");
  store.add_member(room, 1);
  publish(store, "room");
  publish(store, "room");
  for (int i = 0; i < 10; ++i) publish(store, "t" + std::to_string(i));
  CHECK(store.bytes() <= budget);
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
  const std::size_t budget = record_cost() + 600;
  TopicStore store(100, budget);
  for (int i = 0; i < 20; ++i) publish(store, "big", 400);
  const Topic* t = store.find("big");
  REQUIRE(t != nullptr);
  CHECK(t->seq == 20);
  REQUIRE_FALSE(t->history.empty());
  CHECK(t->history.back().seq == 20);
  check_books(store);
}

TEST_CASE("the topic being written is never the one evicted", "[topic_store][budget]") {
  const std::size_t budget = 2 * record_cost() + 1200;
  TopicStore store(100, budget);
  publish(store, "a", 300);
  publish(store, "b", 300);
  REQUIRE(store.find("a") != nullptr);
  // "a" is the least recently used, but it is the one being written.
  Topic& a = *store.find("a");
  ++a.seq;
  std::string line(900, 'x');
  line.back() = '\n';
  store.retain(a, make_frame(std::move(line)));
  REQUIRE(store.find("a") != nullptr);
  CHECK(store.find("a")->history.back().seq == 2);
  CHECK(store.find("b") == nullptr);
  CHECK(store.bytes() <= budget);
  check_books(store);
}

TEST_CASE("touch marks a topic recently used", "[topic_store][budget]") {
  TopicStore measure(10, 1 << 20);
  publish(measure, "n0");
  const std::size_t one = measure.bytes();  // a topic with one 100-byte message
  // old, mid and six more fill the budget exactly; the seventh more evicts one topic.
  TopicStore store(10, 8 * one);
  publish(store, "old");
  publish(store, "mid");
  store.touch("old");  // now newer than mid
  for (int i = 0; i < 7; ++i) publish(store, "n" + std::to_string(i));
  CHECK(store.find("mid") == nullptr);
  CHECK(store.find("old") != nullptr);
  CHECK(store.bytes() <= 8 * one);
}

TEST_CASE("release forgets an idle topic only when the store is over budget",
          "[topic_store][budget]") {
  const std::size_t budget = 3 * record_cost();
  TopicStore store(10, budget);
  std::vector<Topic*> rooms;
  for (const char* name : {"r1", "r2"}) {
    Topic& t = store.touch(name);
    store.add_member(t, 1);
    ++t.seq;
    rooms.push_back(&t);
  }
  SECTION("under budget the counter is kept") {
    REQUIRE(store.bytes() <= budget);
    store.remove_member(*rooms[0], 1);
    store.release(*rooms[0]);
    REQUIRE(store.find("r1") != nullptr);
    CHECK(store.find("r1")->seq == 1);
    CHECK(store.forgotten_count() == 0);
  }
  SECTION("over budget it goes") {
    for (const char* name : {"r3", "r4"}) store.add_member(store.touch(name), 1);
    REQUIRE(store.bytes() > budget);  // members keep every record
    CHECK(store.size() == 4);
    const std::size_t before = store.bytes();
    store.remove_member(*rooms[0], 1);
    store.release(*rooms[0]);
    CHECK(store.find("r1") == nullptr);
    CHECK(store.bytes() < before);
    CHECK(store.size() == 3);
    CHECK(store.forgotten_count() == 1);
  }
  SECTION("a topic that still has members is kept whatever the budget") {
    for (const char* name : {"r3", "r4"}) store.add_member(store.touch(name), 1);
    store.release(*rooms[0]);
    CHECK(store.find("r1") != nullptr);
  }
}

TEST_CASE("listed topics without '$' are indexed in byte order", "[topic_store][topics]") {
  TopicStore store(5, 1 << 20);
  for (const char* name : {"b", "a.x", "B", "$sys.x", "a"}) publish(store, name);
  store.touch("idle");
  std::vector<std::string> names;
  for (const Topic* t : store.listed_index()) names.push_back(t->name);
  CHECK(names == std::vector<std::string>{"B", "a", "a.x", "b"});
  CHECK(store.listed_count() == 5);  // '$' topics count, but are not indexed
  check_books(store);
}

TEST_CASE("the books stay straight under a mixed load", "[topic_store][budget]") {
  const std::size_t budget = 12 * (record_cost() + 400);
  TopicStore store(5, budget);
  std::uint64_t state = 12345;  // a fixed linear congruential sequence: deterministic
  const auto next = [&](std::uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  Topic& room = store.touch("room");
  store.add_member(room, 1);
  for (int i = 0; i < 400; ++i) {
    const std::string topic = next(4) == 0 ? "room" : "t" + std::to_string(next(30));
    publish(store, topic, 20 + next(300));
    CHECK(store.bytes() <= budget);
    if (next(10) == 0) {
      Topic& idle = store.touch("idle" + std::to_string(next(50)));
      store.release(idle);
    }
  }
  REQUIRE(store.find("room") != nullptr);
  check_books(store);
}
