// parley-server: parse the configuration, set up logging, build the server, run the loop.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <asio.hpp>
#include <variant>

#include "config.hpp"
#include "logging.hpp"
#include "server.hpp"

namespace {

// Each connection is a descriptor: take all the kernel allows us.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::warn("could not raise the open-file limit");
  }
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) spdlog::debug("open-file limit: {}", limit.rlim_cur);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parley::server::parse_config(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const auto& config = std::get<parley::server::ServerConfig>(parsed);

  parley::server::setup_logging(config.log_level, config.log_format);
  raise_descriptor_limit();
  try {
    asio::io_context io(1);
    parley::server::Server server(io, config);
    server.start();
    io.run();
  } catch (const std::system_error& e) {
    spdlog::critical("cannot serve on {}:{}: {}", config.listen_host, config.listen_port, e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
