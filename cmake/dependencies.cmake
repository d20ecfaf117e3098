# Every dependency comes from a Debian 12 package (see README.md); nothing is downloaded.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
# libcrypto: the WebSocket handshake (SHA-1, base64), scrypt password hashes, random salts.
find_package(OpenSSL 3 REQUIRED)

# Standalone Asio ships headers only and no CMake package.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(parley_asio INTERFACE)
add_library(parley::asio ALIAS parley_asio)
target_include_directories(parley_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
# Asio 1.22 picks aligned_alloc or operator new per translation unit, depending on which
# standard headers came first; mixed, one unit's free() meets another's new (ASan reports
# alloc-dealloc-mismatch). Disabling aligned_alloc makes every unit agree.
target_compile_definitions(parley_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)
target_link_libraries(parley_asio INTERFACE Threads::Threads)
