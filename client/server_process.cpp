#include "server_process.hpp"

#include <dirent.h>
#include <unistd.h>
#include <charconv>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

namespace parley::client {
namespace {

// The next whitespace-separated field of `text` from `at`, advancing past it.
std::string_view next_field(std::string_view text, std::size_t& at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
  const std::size_t start = at;
  while (at < text.size() && text[at] != ' ' && text[at] != '\t' && text[at] != '\n') ++at;
  return text.substr(start, at - start);
}

template <class Number>
std::optional<Number> parse_number(std::string_view text, int base = 10) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// A local address of /proc/net/tcp{,6} (hex, as the kernel prints it) a client on this
// machine reaches: 127.0.0.0/8, ::1, the IPv4-mapped 127/8, or the wildcard.
bool reachable_locally(std::string_view hex) {
  if (hex.size() == 8) {
    // IPv4 in host byte order (little-endian here): the first octet is the last byte.
    return hex == "00000000" || hex.substr(6, 2) == "7F";
  }
  if (hex.size() == 32) {
    // IPv6 as four 32-bit words, each in host byte order.
    return hex == "00000000000000000000000000000000" || hex == "00000000000000000000000001000000" ||
           (hex.substr(0, 16) == "0000000000000000" && hex.substr(16, 8) == "FFFF0000" &&
            hex.substr(30, 2) == "7F");
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::vector<std::uint64_t> listening_inodes(std::string_view table, unsigned short port) {
  // Each line after the header: sl local_address rem_address st tx:rx tr:when retrnsmt
  // uid timeout inode ...; st 0A is LISTEN.
  std::vector<std::uint64_t> inodes;
  std::size_t line_start = table.find('\n');
  while (line_start != std::string_view::npos && line_start + 1 < table.size()) {
    const std::size_t line_end = table.find('\n', line_start + 1);
    const std::string_view line = table.substr(
        line_start + 1,
        (line_end == std::string_view::npos ? table.size() : line_end) - line_start - 1);
    line_start = line_end;
    std::size_t at = 0;
    std::string_view fields[10];
    for (auto& field : fields) field = next_field(line, at);
    const std::string_view local = fields[1];
    const std::size_t colon = local.find(':');
    if (colon == std::string_view::npos || fields[3] != "0A") continue;
    const auto local_port = parse_number<unsigned>(local.substr(colon + 1), 16);
    const auto inode = parse_number<std::uint64_t>(fields[9]);
    if (!local_port || *local_port != port || !inode || *inode == 0) continue;
    if (reachable_locally(local.substr(0, colon))) inodes.push_back(*inode);
  }
  return inodes;
}

std::optional<std::uint64_t> cpu_ticks_from_stat(std::string_view stat) {
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::size_t at = close + 1;
  std::string_view field;
  for (int number = 3; number <= 13; ++number) field = next_field(stat, at);
  const auto utime = parse_number<std::uint64_t>(next_field(stat, at));
  const auto stime = parse_number<std::uint64_t>(next_field(stat, at));
  if (field.empty() || !utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<pid_t> find_local_listener(unsigned short port) {
  std::set<std::string> wanted;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    for (const std::uint64_t inode : listening_inodes(read_file(table), port))
      wanted.insert("socket:[" + std::to_string(inode) + "]");
  }
  if (wanted.empty()) return std::nullopt;
  const std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) return std::nullopt;
  std::optional<pid_t> found;
  while (const dirent* entry = readdir(proc.get())) {
    const auto pid = parse_number<pid_t>(entry->d_name);
    if (!pid) continue;
    const std::string fd_dir = "/proc/" + std::string(entry->d_name) + "/fd";
    const std::unique_ptr<DIR, int (*)(DIR*)> fds(opendir(fd_dir.c_str()), closedir);
    if (!fds) continue;  // another user's process: not ours to read
    bool listens = false;
    while (const dirent* fd = readdir(fds.get())) {
      char target[64];
      const std::string link = fd_dir + "/" + fd->d_name;
      const ssize_t length = readlink(link.c_str(), target, sizeof target);
      if (length > 0 && wanted.contains(std::string(target, static_cast<std::size_t>(length)))) {
        listens = true;
        break;
      }
    }
    if (!listens) continue;
    if (found) return std::nullopt;  // two processes share the socket: which one is unclear
    found = *pid;
  }
  return found;
}

std::optional<double> process_cpu_seconds(pid_t pid) {
  const auto ticks = cpu_ticks_from_stat(read_file("/proc/" + std::to_string(pid) + "/stat"));
  const long per_second = sysconf(_SC_CLK_TCK);
  if (!ticks || per_second <= 0) return std::nullopt;
  return static_cast<double>(*ticks) / static_cast<double>(per_second);
}

}  // namespace parley::client
