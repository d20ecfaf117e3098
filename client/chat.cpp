#include "chat.hpp"

#include <termios.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "input_lines.hpp"
#include "line_editor.hpp"
#include "render.hpp"

namespace parley::client {
namespace {

using asio::use_awaitable;
using asio::experimental::as_tuple;
using namespace std::chrono_literals;

// Puts the terminal in raw mode for the editor and restores it on every way out.
class RawTerminal {
 public:
  RawTerminal() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ECHO | ICANON | ISIG | IEXTEN));
    raw.c_iflag &= static_cast<tcflag_t>(~(IXON | ICRNL));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

class Chat {
 public:
  Chat(asio::any_io_executor executor, CommonOptions options, std::vector<std::string> rooms)
      : executor_(std::move(executor)),
        options_(std::move(options)),
        interactive_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)),
        colour_(interactive_ && std::getenv("NO_COLOR") == nullptr),
        wanted_rooms_(std::move(rooms)) {}

  asio::awaitable<int> run() {
    std::optional<RawTerminal> raw;
    if (interactive_) raw.emplace();
    if (auto failed = co_await connect(false)) co_return report_and_exit(*failed);
    asio::co_spawn(executor_, read_input(), asio::detached);
    while (!quitting_) {
      co_await read_network();
      if (quitting_) break;
      say("* lost the connection to " + options_.server + ", reconnecting");
      auto backoff = 250ms;
      while (!quitting_) {
        asio::steady_timer pause(executor_, backoff);
        co_await pause.async_wait(as_tuple(use_awaitable));
        if (quitting_) break;
        const auto failed = co_await connect(true);
        if (!failed) break;
        if (failed->exit_code != kCannotConnect) co_return report_and_exit(*failed);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
    if (interactive_) write("\r\x1b[K");
    co_return kOk;
  }

 private:
  // Connects, says hello and (re)joins every room, resuming after the last seq seen.
  asio::awaitable<std::optional<Failure>> connect(bool again) {
    session_ = std::make_unique<Session>(executor_, options_);
    if (auto failed = co_await session_->open(true)) co_return failed;
    session_->on_event = [this](const json& frame) { show(frame); };
    name_ = session_->welcome().value("name", "");
    options_.name = name_;  // keep the same name across reconnects
    if (again) say("* reconnected as " + name_);
    std::vector<std::string> rooms =
        again ? std::vector<std::string>(joined_.begin(), joined_.end()) : wanted_rooms_;
    for (const auto& room : rooms) {
      json join = {{"op", "join"}, {"topic", room}};
      if (last_seq_.contains(room)) {
        join["since"] = last_seq_[room];
      } else {
        join["history"] = 10;
      }
      auto reply = co_await session_->request(join);
      if (auto* failed = std::get_if<Failure>(&reply)) {
        say("! cannot join #" + room + ": " + failed->reason);
        continue;
      }
      on_joined(std::get<json>(reply));
    }
    redraw();
    co_return std::nullopt;
  }

  void on_joined(const json& joined) {
    const std::string room = joined.value("topic", "");
    const bool first = !joined_.contains(room);
    joined_.insert(room);
    if (current_.empty()) current_ = room;
    if (first)
      say("* joined #" + room + " (" +
          std::to_string(joined.value("members", json::array()).size()) + " here)");
    if (!joined.value("recovered", true)) {
      say("! some messages in #" + room + " were lost while away");
      // The server lost that history (or restarted, and its seq with it): count afresh.
      last_seq_[room] = 0;
    }
    for (const auto& m : joined.value("history", json::array())) show(m);
  }

  // Frames that are not replies: messages, presence, errors, pings.
  void show(const json& frame) {
    const std::string op = frame.value("op", "");
    if (op == "msg" && frame.contains("topic")) {
      const std::string room = frame.value("topic", "");
      const std::uint64_t seq = frame.value("seq", std::uint64_t{0});
      auto& last = last_seq_[room];
      if (seq != 0 && seq <= last) return;  // already shown: resumes overlap
      last = std::max(last, seq);
      say("#" + room + " " + paint(frame.value("from", "")) + ": " +
          render_data(frame.value("data", json())));
      return;
    }
    if (op == "msg") {
      say(paint(frame.value("from", "")) +
          " (to you): " + render_data(frame.value("data", json())));
      return;
    }
    if (op == "presence") {
      const bool joined = frame.value("state", "") == "join";
      say("* " + paint(frame.value("name", "")) + (joined ? " joined #" : " left #") +
          frame.value("topic", ""));
      return;
    }
    if (op == "error") say("! " + describe_error(frame));
    if (op == "bye" && !quitting_) say("* the server said bye (" + frame.value("reason", "") + ")");
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
      if (frame.value("op", "") == "ping") {
        co_await session_->connection().send(R"({"op":"pong"})");
        continue;
      }
      const json id = frame.value("id", json());
      if (const auto handler = handlers_.find(id.dump());
          !id.is_null() && handler != handlers_.end()) {
        auto callback = std::move(handler->second);
        handlers_.erase(handler);
        if (frame.value("op", "") == "error") {
          say("! " + describe_error(frame));
        } else {
          callback(frame);
        }
        continue;
      }
      show(frame);
    }
  }

  // Sends a request whose reply goes to `then`.
  asio::awaitable<void> ask(json frame, std::function<void(const json&)> then) {
    const std::string id = "chat-" + std::to_string(next_id_++);
    frame["id"] = id;
    handlers_[json(id).dump()] = std::move(then);
    if (!co_await session_->connection().send(frame.dump()))
      say("! not connected; try again in a moment");
  }

  asio::awaitable<void> read_input() {
    if (interactive_) {
      asio::posix::stream_descriptor terminal(executor_, ::dup(STDIN_FILENO));
      char bytes[256];
      redraw();
      while (!quitting_) {
        auto [ec, n] =
            co_await terminal.async_read_some(asio::buffer(bytes), as_tuple(use_awaitable));
        if (ec) break;
        for (std::size_t i = 0; i < n && !quitting_; ++i) {
          switch (editor_.feed(bytes[i])) {
            case LineEditor::Event::submit: {
              const std::string line = editor_.take_line();
              write("\r\x1b[K");
              co_await handle(line);
              redraw();
              break;
            }
            case LineEditor::Event::end_of_input:
            case LineEditor::Event::interrupt:
              co_await quit();
              break;
            case LineEditor::Event::none:
              redraw();
          }
        }
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

  asio::awaitable<void> handle(const std::string& line) {
    if (line.empty()) co_return;
    if (line[0] != '/') {
      if (current_.empty()) {
        say("* join a room first: /join ROOM");
        co_return;
      }
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_1 = json{{"op", "pub"}, {"topic", current_}, {"data", line}};
      auto then_1 = [](const json&) {};
      co_await ask(std::move(request_1), std::move(then_1));
      co_return;
    }
    std::string rest = line.substr(1);
    const auto space = rest.find(' ');
    const std::string command = rest.substr(0, space);
    std::string arg = space == std::string::npos ? "" : rest.substr(space + 1);
    while (!arg.empty() && arg.front() == ' ') arg.erase(0, 1);
    if (command == "quit") {
      co_await quit();
    } else if (command == "join" && !arg.empty()) {
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_2 = json{{"op", "join"}, {"topic", arg}, {"history", 10}};
      auto then_2 = [this, arg](const json& joined) {
        on_joined(joined);
        current_ = arg;
        say("* talking in #" + arg);
      };
      co_await ask(std::move(request_2), std::move(then_2));
    } else if (command == "leave") {
      const std::string room = arg.empty() ? current_ : arg;
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_3 = json{{"op", "leave"}, {"topic", room}};
      auto then_3 = [this, room](const json&) {
        joined_.erase(room);
        if (current_ == room) current_ = joined_.empty() ? "" : *joined_.begin();
        say("* left #" + room + (current_.empty() ? "" : ", talking in #" + current_));
      };
      co_await ask(std::move(request_3), std::move(then_3));
    } else if (command == "switch" && !arg.empty()) {
      if (!joined_.contains(arg)) {
        say("* not in #" + arg + "; /join it first");
      } else {
        current_ = arg;
        say("* talking in #" + arg);
      }
    } else if (command == "rooms") {
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_4 = json{{"op", "topics"}};
      auto then_4 = [this](const json& reply) {
        for (const auto& t : reply.value("topics", json::array())) {
          const std::string topic = t.value("topic", "");
          say("  #" + topic + " (" + std::to_string(t.value("members", 0)) + " members)" +
              (joined_.contains(topic) ? " *" : ""));
        }
      };
      co_await ask(std::move(request_4), std::move(then_4));
    } else if (command == "who") {
      const std::string room = arg.empty() ? current_ : arg;
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_5 = json{{"op", "who"}, {"topic", room}};
      auto then_5 = [this, room](const json& reply) {
        std::string names;
        for (const auto& n : reply.value("members", json::array()))
          names += " " + paint(n.get<std::string>());
        say("* in #" + room + ":" + names);
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
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_6 = json{{"op", "tell"}, {"to", to}, {"data", text}};
      auto then_6 = [this, to, text](const json&) { say("(to " + paint(to) + "): " + text); };
      co_await ask(std::move(request_6), std::move(then_6));
    } else if (command == "history") {
      const int count = arg.empty() ? 20 : std::atoi(arg.c_str());
      // Named first: GCC 12 miscompiles braced lists inside co_await.
      json request_7 =
          json{{"op", "history"}, {"topic", current_}, {"limit", std::clamp(count, 1, 1000)}};
      auto then_7 = [this](const json& reply) {
        for (const auto& m : reply.value("messages", json::array())) {
          say("  [" + std::to_string(m.value("seq", 0)) + "] " + paint(m.value("from", "")) + ": " +
              render_data(m.value("data", json())));
        }
      };
      co_await ask(std::move(request_7), std::move(then_7));
    } else {
      say("* commands: /join ROOM, /leave [ROOM], /switch ROOM, /rooms, /who [ROOM], /msg NAME "
          "TEXT, "
          "/history [N], /help, /quit");
    }
  }

  asio::awaitable<void> quit() {
    if (quitting_) co_return;
    quitting_ = true;
    if (session_ && session_->connection().is_open()) {
      co_await session_->connection().send(R"({"op":"quit"})");
      session_->connection().shutdown_send();
    }
  }

  // Prints one line above the prompt, then puts the half-typed line back.
  void say(const std::string& text) {
    if (interactive_) {
      write("\r\x1b[K" + text + "\r\n");
      redraw();
    } else {
      write(text + "\n");
    }
  }
  void redraw() {
    if (interactive_ && !quitting_)
      write(editor_.render(current_.empty() ? "> " : "#" + current_ + "> "));
  }
  static void write(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  // A stable colour per name, from its bytes.
  std::string paint(const std::string& name) const {
    if (!colour_) return name;
    static constexpr int kColours[] = {31, 32, 33, 34, 35, 36};
    std::size_t hash = 0;
    for (char c : name) hash = hash * 31 + static_cast<unsigned char>(c);
    return "\x1b[" + std::to_string(kColours[hash % 6]) + "m" + name + "\x1b[0m";
  }
  int report_and_exit(const Failure& failure) {
    quitting_ = true;
    if (interactive_) write("\r\x1b[K");
    std::fprintf(stderr, "parley: %s\n", failure.reason.c_str());
    return failure.exit_code;
  }

  asio::any_io_executor executor_;
  CommonOptions options_;
  bool interactive_;
  bool colour_;
  std::vector<std::string> wanted_rooms_;
  std::unique_ptr<Session> session_;
  std::string name_;
  std::set<std::string> joined_;
  std::string current_;
  std::map<std::string, std::uint64_t> last_seq_;
  std::map<std::string, std::function<void(const json&)>> handlers_;
  std::uint64_t next_id_ = 1;
  LineEditor editor_;
  bool quitting_ = false;
};

}  // namespace

asio::awaitable<int> run_chat(CommonOptions options, std::vector<std::string> rooms) {
  Chat chat(co_await asio::this_coro::executor, std::move(options), std::move(rooms));
  co_return co_await chat.run();
}

}  // namespace parley::client
