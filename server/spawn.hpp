#pragma once
// The one way the server starts a coroutine: every co_spawn completes into a handler that
// logs an escaped exception, says what it stopped, and runs the caller's clean-up. No
// exception ever disappears into asio::detached.
#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <exception>
#include <string>
#include <utility>

namespace parley::server {

// Runs `task` on `executor`. `what` names the work for the log ("heartbeat sweep",
// "session 12 reader"); `on_exit(bool failed)` runs when the task ends either way.
template <class OnExit>
void spawn_logged(const asio::any_io_executor& executor, asio::awaitable<void> task,
                  std::string what, OnExit on_exit) {
  asio::co_spawn(
      executor, std::move(task),
      [what = std::move(what), on_exit = std::move(on_exit)](const std::exception_ptr& error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            spdlog::error("{} stopped by an internal error: {}", what, e.what());
          } catch (...) {
            spdlog::error("{} stopped by an unknown internal error", what);
          }
        }
        on_exit(error != nullptr);
      });
}

inline void spawn_logged(const asio::any_io_executor& executor, asio::awaitable<void> task,
                         std::string what) {
  spawn_logged(executor, std::move(task), std::move(what), [](bool) {});
}

}  // namespace parley::server
