# Turns the web chat page into C++ at build time (cmake -P, nothing but CMake):
# a source file defining parley::server::web_page() over the page's exact bytes, kept in
# a raw string literal whose delimiter is checked not to occur in the page.
# Usage: cmake -DINPUT=web/index.html -DOUTPUT=web_page.cpp -P embed_web_page.cmake
if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "embed_web_page.cmake: set INPUT and OUTPUT")
endif()
file(READ "${INPUT}" page)
set(delimiter "parley_web")
string(FIND "${page}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  # The reason comes first: CMake wraps long messages, and tests match it.
  message(FATAL_ERROR "the page would end the raw string early: ${INPUT} contains ')${delimiter}\"'")
endif()
string(LENGTH "${page}" length)
string(CONCAT source
       "// Generated from web/index.html by cmake/embed_web_page.cmake at build time: do not edit.\n"
       "#include \"web_page.hpp\"\n\n"
       "namespace parley::server {\n\n"
       "std::string_view web_page() {\n"
       "  // ${length} bytes.\n"
       "  static constexpr std::string_view kPage = R\"${delimiter}(")
# Written only when it changed, so that an unchanged page does not rebuild the server.
set(content "${source}${page})${delimiter}\";\n  return kPage;\n}\n\n}  // namespace parley::server\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
