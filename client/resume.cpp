#include "resume.hpp"

namespace parley::client {

ResumeGap resume_gap(std::uint64_t since, const std::optional<std::string>& known_epoch,
                     const std::optional<std::string>& epoch, bool recovered,
                     std::uint64_t first_seq) {
  ResumeGap gap;
  if (recovered) return gap;
  // With epochs on both sides, they say it. Without, a replay that is empty or starts at
  // or below `since` can only be a new run (the server restarted and lost its history).
  gap.fresh_run =
      epoch && known_epoch ? *epoch != *known_epoch : first_seq == 0 || first_seq <= since;
  const std::uint64_t expected = gap.fresh_run ? 1 : since + 1;
  if (first_seq > expected) gap.lost = std::pair{expected, first_seq - 1};
  return gap;
}

}  // namespace parley::client
