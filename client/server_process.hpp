#pragma once
// Finding the server's process on this machine, and reading how much CPU it has used, so
// that `parley bench` can report the server's CPU per delivered message. Linux /proc only;
// every function answers "unknown" (nullopt) rather than guessing when it cannot tell.
// Reads files: call it from the benchmark's set-up, never from a latency-sensitive path.
#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::client {

// The socket inodes of listening TCP sockets on `port` that a client on this machine
// reaches: bound to a loopback or the wildcard address. `table` is the text of
// /proc/net/tcp or /proc/net/tcp6 (the same layout).
std::vector<std::uint64_t> listening_inodes(std::string_view table, unsigned short port);

// Total user+system CPU time in clock ticks from the text of /proc/PID/stat (all threads
// of the process); nullopt when the text is not in that format. The command name in
// parentheses may itself hold spaces and parentheses: fields are counted after the last ')'.
std::optional<std::uint64_t> cpu_ticks_from_stat(std::string_view stat);

// The process listening on `port` of this machine's loopback, when exactly one does and
// its file descriptors are readable (the same user, or root).
std::optional<pid_t> find_local_listener(unsigned short port);

// The process's user+system CPU seconds so far (all threads), or nullopt when unreadable.
std::optional<double> process_cpu_seconds(pid_t pid);

}  // namespace parley::client
