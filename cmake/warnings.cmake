# Warnings and sanitizers live on an INTERFACE target that every project target links
# PRIVATE, so nothing leaks into the flags of code we do not own.
add_library(parley_warnings INTERFACE)
add_library(parley::warnings ALIAS parley_warnings)
target_compile_options(parley_warnings INTERFACE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
                                                 -Wold-style-cast -Wcast-align)

# GCC 12's -Wrestrict misfires on std::string concatenation at -O2 and above (GCC bug
# 105329): a false positive in libstdc++ itself, not in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(parley_warnings INTERFACE -Wno-restrict)
endif()

add_library(parley_sanitizers INTERFACE)
add_library(parley::sanitizers ALIAS parley_sanitizers)
# vptr is left out: when a process has run out of descriptors (a case the tests provoke on
# purpose) its check cannot probe memory and reports every virtual call as invalid.
if(PARLEY_SANITIZE)
  target_compile_options(parley_sanitizers INTERFACE -fsanitize=address,undefined -fno-sanitize=vptr
                                                     -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(parley_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
# Fuzzer builds instrument the libraries for coverage; the fuzz targets link libFuzzer.
if(PARLEY_BUILD_FUZZERS)
  target_compile_options(parley_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
