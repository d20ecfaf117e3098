#pragma once
// `parley chat`: an interactive chat on a terminal (prompt, line editing, history, tab
// completion, colours), plain lines on a pipe. It reconnects when the connection is lost
// (rotating over several servers), resumes its rooms with `(epoch, since)` so nothing
// retained is missed, and keeps lines typed while away until it is back.
#include <asio.hpp>
#include <string>
#include <vector>

#include "client_session.hpp"

namespace parley::client {

// Exit code 0, or 1 when a line was refused (too large for the server, for instance).
asio::awaitable<int> run_chat(CommonOptions options, std::vector<std::string> rooms, bool colour);

}  // namespace parley::client
