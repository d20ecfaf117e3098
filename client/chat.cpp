#include "chat.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <csignal>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "backoff.hpp"
#include "completion.hpp"
#include "input_checks.hpp"
#include "input_lines.hpp"
#include "line_editor.hpp"
#include "password_prompt.hpp"
#include "prompt_view.hpp"
#include "raw_terminal.hpp"
#include "render.hpp"
#include "resume.hpp"

namespace parley::client {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace std::chrono_literals;

constexpr int kJoinHistory = 10;
// Presence of several people within this window is shown as one line: a server restart
// or a network blip brings everyone back at once.
constexpr auto kPresenceWindow = 400ms;
constexpr auto kPresenceWindowMost = 2s;

const std::vector<std::string> kCommands = {"/join",   "/leave", "/switch", "/rooms",
                                            "/who",    "/msg",   "/me",     "/history",
                                            "/status", "/help",  "/quit"};
constexpr const char* kHelp =
    "* commands: /join ROOM, /leave [ROOM], /switch ROOM, /rooms, /who [ROOM], /msg NAME TEXT, "
    "/me ACTION, /history [N], /status, /help, /quit [MESSAGE]";

// Where we are in a room's numbering: its run of seq numbers, and the last one shown.
struct RoomPosition {
  std::optional<std::string> epoch;  // absent from servers without epochs
  std::uint64_t seq = 0;
};

// "alice", "alice and bob", "alice, bob and carol", "alice, bob, carol and 4 others".
std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 3;
  std::string out;
  const std::size_t shown = names.size() > kShown + 1 ? kShown : names.size();
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += i + 1 == shown && shown == names.size() ? " and " : ", ";
    out += names[i];
  }
  if (shown < names.size()) out += " and " + std::to_string(names.size() - shown) + " others";
  return out;
}

class Chat {
 public:
  Chat(asio::any_io_executor executor, CommonOptions options, std::vector<std::string> rooms,
       bool colour)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        interactive_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)),
        colour_(colour),
        wanted_rooms_(std::move(rooms)),
        presence_timer_(executor_),
        reply_signal_(executor_) {}

  asio::awaitable<int> run() {
    std::optional<RawTerminal> raw;
    if (interactive_) {
      raw.emplace();
      view_.set_width(RawTerminal::width());
      asio::co_spawn(executor_, watch_resize(), asio::detached);
    }
    auto first = co_await connect(false);
    if (first && first->code == "auth_failed" && options_.password.empty() && interactive_ &&
        !options_.name.empty()) {
      // An account server wants a password: ask for it once, without echo.
      write("parley: " + first->reason + "\r\npassword for " + render_name(options_.name, false) +
            ": ");
      const auto password = read_password(STDIN_FILENO);
      write("\r\n");
      if (!password || password->empty()) co_return report_and_exit(*first);
      options_.password = *password;
      first = co_await connect(false);
    }
    if (first) co_return report_and_exit(*first);
    asio::co_spawn(executor_, read_input(), asio::detached);
    if (interactive_) asio::co_spawn(executor_, keep_status(), asio::detached);
    Backoff backoff;
    while (!quitting_) {
      co_await read_network();
      connected_ = false;
      handlers_.clear();  // their replies will not come on a new connection
      reply_signal_.cancel();
      if (quitting_) break;
      if (last_bye_ == "replaced" || last_bye_ == "auth_revoked") {
        // Reconnecting would take the name back from the newer session, which would take
        // it back again: a takeover loop. The user decides.
        co_return report_and_exit(Failure{
            kServerError, last_bye_ == "replaced"
                              ? "not reconnecting: this name is in use by your newer session "
                                "(run parley chat again to take it back)"
                              : "not reconnecting: the server revoked this sign-in (check the "
                                "account's password, then run parley chat again)"});
      }
      say("* lost the connection to " + session_->endpoint().text() + ", reconnecting");
      server_index_ = session_->server_index() + 1;  // the next address, when several
      backoff.reset();
      while (!quitting_) {
        co_await backoff.wait();
        if (quitting_) break;
        const auto failed = co_await connect(true);
        if (!failed) break;
        if (!failed->connection_lost) co_return report_and_exit(*failed);
        server_index_ = session_->server_index() + 1;
      }
    }
    if (interactive_) write(clear_prompt());
    resize_.reset();
    presence_timer_.cancel();
    status_timer_.cancel();
    if (!pending_.empty()) {
      std::fprintf(stderr, "parley: %zu line(s) typed while disconnected were not sent\n",
                   pending_.size());
      refused_ = true;
    }
    co_return refused_ ? kServerError : kOk;
  }

 private:
  // Connects, says hello and (re)joins every room, resuming after the last seq seen.
  asio::awaitable<std::optional<Failure>> connect(bool again) {
    last_bye_.clear();
    session_ = std::make_unique<ClientSession>(executor_, options_, server_index_);
    if (auto failed = co_await session_->open(true)) co_return failed;
    session_->on_event = [this](const json& frame) { show(frame); };
    server_index_ = session_->server_index();
    name_ = session_->welcome().value("name", "");
    // Keep the same name across reconnects; a guest name is the server's to give again.
    options_.name = name_.starts_with("guest-") ? "" : name_;
    options_.name_is_default = false;
    style_.me = name_;
    say(std::string(again ? "* reconnected to " : "* connected to ") + session_->endpoint().text() +
        " as " + render_name(name_, colour_));
    std::vector<std::string> rooms;
    if (again) {
      rooms.assign(joined_.begin(), joined_.end());
    } else {
      for (const auto& room : wanted_rooms_) rooms.push_back(strip_room_mark(room));
    }
    for (const auto& room : rooms) {
      if (auto problem = topic_problem(room)) {
        say("! cannot join: " + *problem);
        refused_ = true;
        continue;
      }
      json join = {{"op", "join"}, {"topic", room}};
      std::optional<std::uint64_t> since;
      if (const auto it = positions_.find(room); it != positions_.end()) {
        since = it->second.seq;
        join["since"] = *since;
        if (it->second.epoch) join["epoch"] = *it->second.epoch;
      } else {
        join["history"] = kJoinHistory;
      }
      auto reply = co_await session_->request(join);
      if (auto* failed = std::get_if<Failure>(&reply)) {
        if (failed->connection_lost) co_return *failed;
        say("! cannot join #" + room + ": " + failed->reason);
        continue;
      }
      if (auto failed = co_await on_joined(std::get<json>(reply), since)) co_return failed;
    }
    connected_ = true;
    co_await send_pending();
    redraw();
    co_return std::nullopt;
  }

  // A `joined` reply: members, what was missed, and the replayed messages (paged with
  // `history after` while the server says there is more).
  asio::awaitable<std::optional<Failure>> on_joined(json joined,
                                                    std::optional<std::uint64_t> since) {
    const std::string room = joined.value("topic", "");
    const bool first = !joined_.contains(room);
    joined_.insert(room);
    known_rooms_.insert(room);
    auto& members = members_[room];
    members.clear();
    for (const auto& m : joined.value("members", json::array())) {
      if (m.is_string()) members.insert(m.get<std::string>());
    }
    if (current_.empty()) current_ = room;
    if (first) say("* joined #" + room + " (" + std::to_string(members.size()) + " here)");
    auto& position = positions_[room];
    const json history = joined.value("history", json::array());
    std::optional<std::string> epoch;
    if (joined.contains("epoch") && joined["epoch"].is_string())
      epoch = joined["epoch"].get<std::string>();
    if (since) note_gap(room, position, joined.value("recovered", true), epoch, history, *since);
    if (epoch) position.epoch = epoch;
    std::size_t replayed = 0;
    for (const auto& m : history) replayed += show(m) ? 1 : 0;
    while (joined.value("more", false) && position.seq > 0) {
      json page = {{"op", "history"}, {"topic", room}, {"after", position.seq}, {"limit", 1000}};
      auto reply = co_await session_->request(page);
      if (auto* failed = std::get_if<Failure>(&reply)) {
        if (failed->connection_lost) co_return *failed;
        say("! cannot read the rest of #" + room + ": " + failed->reason);
        break;
      }
      joined = std::get<json>(reply);
      const std::uint64_t before = position.seq;
      for (const auto& m : joined.value("messages", json::array())) replayed += show(m) ? 1 : 0;
      if (position.seq == before) break;  // no progress: do not loop
    }
    if (replayed > 0) {
      say(std::string("-- #") + room + ": " + std::to_string(replayed) +
          (since ? " missed while away" : " earlier") + " above, live from here --");
    }
    co_return std::nullopt;
  }

  // Says that messages were lost only when they were (see resume.hpp).
  void note_gap(const std::string& room, RoomPosition& position, bool recovered,
                const std::optional<std::string>& epoch, const json& history, std::uint64_t since) {
    const std::uint64_t first_seq =
        history.empty() ? 0 : history.front().value("seq", std::uint64_t{0});
    const ResumeGap gap = resume_gap(since, position.epoch, epoch, recovered, first_seq);
    if (gap.fresh_run) position.seq = 0;  // the numbering started again: every seq is new
    if (gap.lost) {
      say("! some messages in #" + room + " were lost while away (seq " +
          std::to_string(gap.lost->first) + " to " + std::to_string(gap.lost->second) +
          " are no longer kept)");
    }
  }

  // Frames that are not replies: messages, presence, errors. True when a message shown.
  bool show(const json& frame) {
    const std::string op = frame.value("op", "");
    if (op == "msg" && frame.contains("topic")) {
      const std::string room = frame.value("topic", "");
      const std::uint64_t seq = frame.value("seq", std::uint64_t{0});
      auto& position = positions_[room];
      if (seq != 0 && seq <= position.seq) return false;  // already shown: resumes overlap
      position.seq = std::max(position.seq, seq);
      say(render_event(frame, style()));
      return true;
    }
    if (op == "presence") {
      note_presence(frame);
      return false;
    }
    if (op == "bye") {
      const json reason = frame.value("reason", json());
      last_bye_ = reason.is_string() ? reason.get<std::string>() : "";
    }
    if (op == "bye" && quitting_) return false;
    if (op == "msg" || op == "error" || op == "bye") say(render_event(frame, style()));
    return false;
  }

  // Presence is gathered for a moment and shown as one line per room and direction.
  void note_presence(const json& frame) {
    const std::string room = frame.value("topic", "");
    const std::string name = frame.value("name", "");
    const bool joined = frame.value("state", "") == "join";
    if (joined) {
      members_[room].insert(name);
    } else {
      members_[room].erase(name);
    }
    auto& names = presence_[{room, !joined}];  // keyed so that joins come before leaves
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    // Each arrival extends the moment a little, up to kPresenceWindowMost after the first.
    const auto now = std::chrono::steady_clock::now();
    if (!presence_pending_) presence_first_ = now;
    presence_pending_ = true;
    presence_timer_.expires_at(
        std::min(now + kPresenceWindow, presence_first_ + kPresenceWindowMost));
    presence_timer_.async_wait([this](const std::error_code& ec) {
      if (ec) return;  // extended (or the chat ended): the newer wait flushes
      presence_pending_ = false;
      flush_presence();
    });
  }
  void flush_presence() {
    for (const auto& [key, names] : presence_) {
      std::vector<std::string> sorted = names;
      std::sort(sorted.begin(), sorted.end());
      std::vector<std::string> painted;
      painted.reserve(sorted.size());
      for (const auto& n : sorted) painted.push_back(render_name(n, colour_));
      say("* " + name_list(painted) + (key.second ? " left #" : " joined #") + key.first);
    }
    presence_.clear();
  }

  // Reads frames until the connection ends; requests get their replies through handlers.
  asio::awaitable<void> read_network() {
    std::string line;
    while (true) {
      const auto read = co_await session_->connection().read(line, 24h);
      if (read == Connection::Read::closed) co_return;
      if (read == Connection::Read::timeout) continue;
      const json frame = json::parse(line, nullptr, false);
      if (frame.is_discarded()) continue;
      const json id = frame.value("id", json());
      if (const auto handler = handlers_.find(id.dump());
          !id.is_null() && handler != handlers_.end()) {
        auto callback = std::move(handler->second);
        handlers_.erase(handler);
        reply_signal_.cancel();
        if (frame.value("op", "") == "error") {
          say("! " + describe_error(frame));
          refused_ = true;
        } else {
          callback(frame);
        }
        continue;
      }
      show(frame);
    }
  }

  // Sends a request whose reply goes to `then`. On a pipe, lines are commands in order:
  // unless `in_order` is false (messages), the next line waits for this reply.
  asio::awaitable<void> ask(json frame, std::function<void(const json&)> then,
                            bool in_order = true) {
    if (!connected_) {
      say("! not connected; try again in a moment");
      co_return;
    }
    const std::string key = json("chat-" + std::to_string(next_id_++)).dump();
    frame["id"] = json::parse(key);
    handlers_[key] = std::move(then);
    if (!co_await session_->connection().send(frame.dump())) {
      say("! not connected; try again in a moment");
      co_return;
    }
    while (in_order && !interactive_ && connected_ && handlers_.contains(key)) {
      reply_signal_.expires_at(asio::steady_timer::time_point::max());
      co_await reply_signal_.async_wait(as_tuple(use_awaitable));
    }
  }

  // Publishes one line (or a /me action) to the current room, or keeps it for later.
  asio::awaitable<void> publish(const std::string& room, json data) {
    json frame = {{"op", "pub"}, {"topic", room}, {"data", std::move(data)}, {"id", "chat-0"}};
    const std::size_t size = frame.dump().size() + 8;  // room for a longer id
    if (max_frame_() != 0 && size > max_frame_()) {
      say("! not sent: that line is " + std::to_string(size) +
          " bytes as a frame, and the server takes at most " + std::to_string(max_frame_()));
      refused_ = true;
      co_return;
    }
    frame.erase("id");
    if (!connected_) {
      pending_.push_back(frame);
      say("* (pending) #" + room + " <" + render_name(name_, colour_) + "> " +
          render_data(frame["data"]) + "  -- sent when the connection is back");
      redraw();
      co_return;
    }
    // Named first: GCC 12 miscompiles braced lists inside co_await.
    auto then_1 = [](const json&) {};
    co_await ask(std::move(frame), std::move(then_1), false);
  }

  // Lines typed while disconnected go out in order once the rooms are joined again;
  // each counts as pending until the server acknowledges it.
  asio::awaitable<void> send_pending() {
    while (!pending_.empty()) {
      json frame = std::move(pending_.front());
      pending_.pop_front();
      ++unacknowledged_;
      auto then_2 = [this](const json&) {
        --unacknowledged_;
        redraw();
      };
      co_await ask(std::move(frame), std::move(then_2), false);
    }
  }

  std::size_t max_frame_() const { return session_ ? session_->max_frame() : 0; }

  asio::awaitable<void> watch_resize() {
    resize_.emplace(executor_, SIGWINCH);
    while (resize_) {
      auto [ec, signal] = co_await resize_->async_wait(as_tuple(use_awaitable));
      if (ec) co_return;
      view_.set_width(RawTerminal::width());
      redraw();
    }
  }

  asio::awaitable<void> read_input() {
    if (interactive_) {
      asio::posix::stream_descriptor terminal(executor_, ::dup(STDIN_FILENO));
      char bytes[4096];
      redraw();
      while (!quitting_) {
        auto [ec, n] =
            co_await terminal.async_read_some(asio::buffer(bytes), as_tuple(use_awaitable));
        if (ec) break;
        for (std::size_t i = 0; i < n && !quitting_; ++i) {
          switch (editor_.feed(bytes[i])) {
            case LineEditor::Event::submit: {
              const std::string line = editor_.take_line();
              write(clear_prompt());
              co_await handle(line);
              break;
            }
            case LineEditor::Event::end_of_input:
            case LineEditor::Event::interrupt:
              co_await quit();
              break;
            case LineEditor::Event::redraw_screen:
              write("\x1b[H\x1b[2J");
              view_.forget();
              break;
            case LineEditor::Event::complete:
              complete();
              break;
            case LineEditor::Event::none:
              break;
          }
        }
        redraw();  // once per read: a paste of 2000 characters draws once
      }
    } else {
      InputLines input(executor_);
      while (!quitting_) {
        auto line = co_await input.next();
        if (!line) break;
        co_await handle(*line);
      }
    }
    co_await quit();
  }

  // Tab: commands as the first word, rooms after '#' or a room command, else names.
  void complete() {
    const std::string word(editor_.word_at_cursor());
    const std::string& line = editor_.line();
    const bool first_word = line.size() >= word.size() && editor_.cursor() == word.size();
    std::vector<std::string> candidates;
    const bool room_command = line.starts_with("/join ") || line.starts_with("/leave ") ||
                              line.starts_with("/switch ") || line.starts_with("/who ");
    if (first_word && word.starts_with('/')) {
      candidates = kCommands;
    } else if (word.starts_with('#') || room_command) {
      for (const auto& room : known_rooms_) candidates.push_back("#" + room);
    } else {
      for (const auto& [room, names] : members_)
        candidates.insert(candidates.end(), names.begin(), names.end());
      if (first_word) {  // addressing someone at the start of a line: "alice: "
        for (auto& c : candidates) c += ":";
      }
    }
    const Completion result = complete_word(word, std::move(candidates));
    editor_.replace_word(result.word, result.finished);
    if (!result.choices.empty()) {
      std::string list;
      for (const auto& choice : result.choices) list += "  " + choice;
      say("*" + list);
    }
  }

  asio::awaitable<void> handle(const std::string& line) {
    if (line.empty()) co_return;
    if (line[0] != '/') {
      if (current_.empty()) {
        say("* join a room first: /join ROOM");
        co_return;
      }
      co_await publish(current_, line);
      co_return;
    }
    std::string rest = line.substr(1);
    const auto space = rest.find(' ');
    const std::string command = rest.substr(0, space);
    std::string arg = space == std::string::npos ? "" : rest.substr(space + 1);
    while (!arg.empty() && arg.front() == ' ') arg.erase(0, 1);
    while (!arg.empty() && arg.back() == ' ') arg.pop_back();
    if (command == "quit") {
      // IRC's /quit MESSAGE: the goodbye is said in the current room, then we leave.
      if (!arg.empty() && !current_.empty() && connected_) co_await publish(current_, arg);
      co_await quit();
    } else if (command == "join") {
      co_await join(arg);
    } else if (command == "leave") {
      const std::string room = arg.empty() ? current_ : strip_room_mark(arg);
      if (room.empty()) {
        say("* not in a room");
        co_return;
      }
      if (!joined_.contains(room)) {
        say("* not in #" + room);
        co_return;
      }
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_3 = json{{"op", "leave"}, {"topic", room}};
      auto then_3 = [this, room](const json&) {
        joined_.erase(room);
        positions_.erase(room);
        members_.erase(room);
        if (current_ == room) current_ = joined_.empty() ? "" : *joined_.begin();
        say("* left #" + room + (current_.empty() ? "" : ", talking in #" + current_));
      };
      co_await ask(std::move(request_3), std::move(then_3));
    } else if (command == "switch") {
      const std::string room = strip_room_mark(arg);
      if (room.empty()) {
        say("* usage: /switch ROOM");
        co_return;
      }
      if (!joined_.contains(room)) co_return say("* not in #" + room + "; /join it first");
      current_ = room;
      say("* talking in #" + room);
    } else if (command == "rooms") {
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_4 = json{{"op", "topics"}, {"limit", 1000}};
      auto then_4 = [this](const json& reply) { show_rooms(reply); };
      co_await ask(std::move(request_4), std::move(then_4));
    } else if (command == "who") {
      const auto checked = room_for(arg, true, "* not in a room: /who ROOM, or /join ROOM first");
      if (!checked) co_return;
      const std::string& room = *checked;
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_5 = json{{"op", "who"}, {"topic", room}};
      auto then_5 = [this, room](const json& reply) {
        std::string names;
        for (const auto& n : reply.value("members", json::array()))
          names += " " + render_name(n.get<std::string>(), colour_);
        say("* in #" + room + ":" + (names.empty() ? " nobody" : names));
      };
      co_await ask(std::move(request_5), std::move(then_5));
    } else if (command == "msg") {
      const auto cut = arg.find(' ');
      if (cut == std::string::npos) {
        say("* usage: /msg NAME TEXT");
        co_return;
      }
      const std::string to = arg.substr(0, cut);
      const std::string text = arg.substr(cut + 1);
      if (auto problem = name_problem(to, true)) {
        say("! " + *problem);
        co_return;
      }
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_6 = json{{"op", "tell"}, {"to", to}, {"data", text}};
      auto then_6 = [this, to, text](const json&) {
        say("(to " + render_name(to, colour_) + ") " + render_data(text));
      };
      co_await ask(std::move(request_6), std::move(then_6));
    } else if (command == "me") {
      if (arg.empty()) {
        say("* usage: /me ACTION (shown as \"* you ACTION\")");
        co_return;
      }
      if (current_.empty()) {
        say("* join a room first: /join ROOM");
        co_return;
      }
      json action = json{{"me", arg}};
      co_await publish(current_, std::move(action));
    } else if (command == "history") {
      const auto count = arg.empty() ? std::optional<long>(20) : parse_count(arg, 1, 1000);
      if (!count) {
        say("! usage: /history [N], N a whole number from 1 to 1000");
        co_return;
      }
      if (current_.empty()) {
        say("* not in a room: /join ROOM first");
        co_return;
      }
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_7 = json{{"op", "history"}, {"topic", current_}, {"limit", *count}};
      auto then_7 = [this](const json& reply) {
        for (const auto& m : reply.value("messages", json::array()))
          say("  [" + std::to_string(m.value("seq", 0)) + "] " + render_event(m, style()));
        say("-- end of history --");
      };
      co_await ask(std::move(request_7), std::move(then_7));
    } else if (command == "status") {
      const auto started = std::chrono::steady_clock::now();
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_8 = json{{"op", "ping"}};
      auto then_8 = [this, started](const json&) {
        const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - started);
        say("* connected to " + session_->endpoint().text() + " as " + name_ + ", round trip " +
            std::to_string(static_cast<double>(rtt.count()) / 1000.0).substr(0, 5) + " ms");
      };
      co_await ask(std::move(request_8), std::move(then_8));
    } else if (command == "help") {
      say(kHelp);
    } else {
      say("* unknown command /" + safe_text_of(command) + " (/help lists them)");
    }
  }

  asio::awaitable<void> join(const std::string& arg) {
    const auto checked = room_for(arg, false, "* usage: /join ROOM");
    if (!checked) co_return;
    const std::string& room = *checked;
    // Named first: GCC 12 miscompiles braced lists inside co_await.
    json request_2 = json{{"op", "join"}, {"topic", room}, {"history", kJoinHistory}};
    auto then_2 = [this, room](const json& joined) {
      asio::co_spawn(executor_, talk_in(joined, room), asio::detached);
    };
    co_await ask(std::move(request_2), std::move(then_2));
  }
  asio::awaitable<void> talk_in(json joined, std::string room) {
    co_await on_joined(std::move(joined), std::nullopt);
    current_ = room;
    say("* talking in #" + room);
  }

  // The room a command names ("#random" or "random"; the current one when `or_current`
  // and none is named), or nothing after saying what is wrong with it.
  std::optional<std::string> room_for(const std::string& arg, bool or_current, const char* usage) {
    const std::string room = arg.empty() && or_current ? current_ : strip_room_mark(arg);
    if (room.empty()) {
      say(usage);
      return std::nullopt;
    }
    if (auto problem = topic_problem(room)) {
      say("! " + *problem);
      return std::nullopt;
    }
    return room;
  }

  // Rooms with people or history; ours marked in words.
  void show_rooms(const json& reply) {
    std::size_t listed = 0;
    for (const auto& t : reply.value("topics", json::array())) {
      const std::string topic = t.value("topic", "");
      known_rooms_.insert(topic);
      const int members = t.value("members", 0);
      std::string note;
      if (topic == current_) {
        note = "  (you are here, talking)";
      } else if (joined_.contains(topic)) {
        note = "  (joined)";
      }
      say("  #" + render_name(topic, false) + "  " + std::to_string(members) +
          (members == 1 ? " member" : " members") + note);
      ++listed;
    }
    if (listed == 0) say("* no rooms yet: /join ROOM starts one");
  }

  static std::string safe_text_of(const std::string& text) { return render_data(json(text)); }

  asio::awaitable<void> quit() {
    if (quitting_) co_return;
    quitting_ = true;
    if (session_ && session_->connection().is_open()) {
      co_await session_->connection().send(R"({"op":"quit"})");
      session_->connection().shutdown_send();
    }
  }

  RenderStyle style() const { return RenderStyle{colour_, true, !interactive_, name_}; }

  // Prints one line above the prompt, then puts the half-typed line back.
  void say(const std::string& text) {
    if (interactive_) {
      write(clear_prompt() + text + "\r\n");
      redraw();
    } else {
      write(text + "\n");
    }
  }
  // The status row above the prompt: connection state, server, name, round trip, room.
  std::string status_line() const {
    std::string status = " parley";
    const std::string server = session_ ? safe_text_of(session_->endpoint().text()) : "";
    if (connected_) {
      status += " | " + server + " as " + render_name(name_, false);
      if (rtt_ms_) {
        status += " | round trip " + std::to_string(*rtt_ms_).substr(0, 5) + " ms";
      }
    } else {
      status += " | reconnecting to " + server;
    }
    if (!current_.empty()) {
      const auto members = members_.find(current_);
      status += " | #" + current_;
      if (members != members_.end())
        status += " (" + std::to_string(members->second.size()) + " here)";
    }
    return status + " ";
  }

  // Measures the round trip for the status row now and every 10 s.
  asio::awaitable<void> keep_status() {
    while (!quitting_) {
      if (connected_) {
        const auto started = std::chrono::steady_clock::now();
        // Named first: GCC 12 miscompiles braced lists inside co_await.
        json ping = json{{"op", "ping"}};
        auto then = [this, started](const json&) {
          const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::steady_clock::now() - started);
          rtt_ms_ = static_cast<double>(rtt.count()) / 1000.0;
          redraw();
        };
        co_await ask(std::move(ping), std::move(then), false);
      }
      status_timer_.expires_after(std::chrono::seconds(10));
      co_await status_timer_.async_wait(as_tuple(use_awaitable));
    }
  }

  void redraw() {
    if (!interactive_ || quitting_) return;
    std::string prompt;
    if (!connected_) prompt += "[reconnecting] ";
    const std::size_t pending = pending_.size() + unacknowledged_;
    if (pending > 0) prompt += "[" + std::to_string(pending) + " pending] ";
    prompt += current_.empty() ? "> " : "#" + current_ + "> ";
    view_.set_width(RawTerminal::width());
    write(view_.draw(prompt, editor_.line(), editor_.cursor(), status_line()));
  }
  // The width is read at every drawing: a resize may not have been signalled yet, and the
  // terminal has already reflowed the rows drawn at the old width.
  std::string clear_prompt() {
    view_.set_width(RawTerminal::width());
    return view_.clear();
  }
  static void write(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  int report_and_exit(const Failure& failure) {
    quitting_ = true;
    resize_.reset();
    if (interactive_) write(clear_prompt());
    std::fprintf(stderr, "parley: %s\n", failure.reason.c_str());
    return failure.exit_code;
  }

  asio::any_io_executor executor_;
  CommonOptions options_;
  std::string last_bye_;  // the reason of the server's last bye on this connection
  bool interactive_;
  bool colour_;
  std::vector<std::string> wanted_rooms_;
  std::unique_ptr<ClientSession> session_;
  std::size_t server_index_ = 0;
  bool connected_ = false;
  std::string name_;
  RenderStyle style_;
  std::set<std::string> joined_;
  std::set<std::string> known_rooms_;
  std::map<std::string, std::set<std::string>> members_;
  std::string current_;
  std::map<std::string, RoomPosition> positions_;
  std::map<std::string, std::function<void(const json&)>> handlers_;
  std::deque<json> pending_;  // pub frames typed while disconnected
  std::size_t unacknowledged_ = 0;
  std::map<std::pair<std::string, bool>, std::vector<std::string>> presence_;
  asio::steady_timer presence_timer_;
  asio::steady_timer status_timer_{executor_};
  std::optional<double> rtt_ms_;     // the last round trip measured for the status row
  asio::steady_timer reply_signal_;  // cancelled at every reply: wakes a piped command
  bool presence_pending_ = false;
  std::chrono::steady_clock::time_point presence_first_;
  std::optional<asio::signal_set> resize_;
  std::uint64_t next_id_ = 1;
  LineEditor editor_;
  PromptView view_;
  bool refused_ = false;
  bool quitting_ = false;
};

}  // namespace

asio::awaitable<int> run_chat(CommonOptions options, std::vector<std::string> rooms, bool colour) {
  Chat chat(co_await asio::this_coro::executor, std::move(options), std::move(rooms), colour);
  co_return co_await chat.run();
}

}  // namespace parley::client
