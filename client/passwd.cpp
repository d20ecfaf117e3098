#include "passwd.hpp"

#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "client_session.hpp"
#include "password_hash.hpp"

namespace parley::client {
namespace {

// The terminal's settings while echo is off, so that Ctrl-C or a kill restores them: a
// shell left without echo is the classic bug of password prompts.
termios saved_terminal{};
volatile std::sig_atomic_t echo_off = 0;

extern "C" void restore_and_reraise(int signal_number) {
  if (echo_off != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

// One line from stdin with its line end removed; empty when stdin ended first.
std::optional<std::string> read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Prompts on stderr (stdout carries only the hash) and reads one line with echo off.
std::optional<std::string> prompt_hidden(const char* prompt) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return read_line();
  termios quiet = saved_terminal;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // the Enter still moves to a new line
  auto* old_int = std::signal(SIGINT, restore_and_reraise);
  auto* old_term = std::signal(SIGTERM, restore_and_reraise);
  echo_off = 1;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  auto line = read_line();
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  echo_off = 0;
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  return line;
}

}  // namespace

int run_passwd() {
  std::optional<std::string> password;
  if (::isatty(STDIN_FILENO) != 0) {
    password = prompt_hidden("Password: ");
    const auto again = prompt_hidden("Again: ");
    if (password && again && *password != *again) {
      std::fputs("parley passwd: the two passwords differ; nothing printed\n", stderr);
      return kUsage;
    }
  } else {
    password = read_line();
  }
  if (!password || password->empty()) {
    std::fputs("parley passwd: an empty password is not allowed\n", stderr);
    return kUsage;
  }
  try {
    std::fputs((auth::hash_password(*password) + "\n").c_str(), stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley passwd: %s\n", e.what());
    return kServerError;
  }
  return kOk;
}

}  // namespace parley::client
