#pragma once
// `parley chat`: an interactive chat on a terminal (prompt, line editing, history,
// colours), plain lines on a pipe. It reconnects when the connection is lost and resumes
// its rooms with `since`, so nothing retained is missed.
#include <asio.hpp>
#include <string>
#include <vector>

#include "session.hpp"

namespace parley::client {

asio::awaitable<int> run_chat(CommonOptions options, std::vector<std::string> rooms);

}  // namespace parley::client
