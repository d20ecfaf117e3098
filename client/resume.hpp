#pragma once
// What a `joined` reply to a resuming join (`since`, maybe `epoch`) means for the
// messages we had: did the topic's numbering start again, and was anything lost? No I/O.
#include <cstdint>
#include <optional>
#include <string>

namespace parley::client {

struct ResumeGap {
  bool fresh_run = false;  // seq numbers started again: every seq in the replay is new
  // The seq numbers that are gone, when some are: [lost_from, lost_to].
  std::optional<std::pair<std::uint64_t, std::uint64_t>> lost;
};

// `since`: the last seq we showed; `known_epoch`: the epoch we saw with it (absent from
// servers without epochs); `epoch`, `recovered`, `first_seq` (0 when the replay is empty):
// from the reply. Messages are lost only when the server says it could not recover them
// AND the replay does not start where we stopped (seq 1 in a fresh run).
ResumeGap resume_gap(std::uint64_t since, const std::optional<std::string>& known_epoch,
                     const std::optional<std::string>& epoch, bool recovered,
                     std::uint64_t first_seq);

}  // namespace parley::client
