// The web chat page compiled into the server: byte for byte the file in web/, and within
// the rules that keep it safe to serve (self-contained, user data never parsed as HTML).
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "web_page.hpp"

using parley::server::web_page;

namespace {

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the embedded page is web/index.html, byte for byte", "[web]") {
  std::ifstream file(PARLEY_WEB_PAGE_FILE, std::ios::binary);
  REQUIRE(file);
  const std::string on_disk{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  REQUIRE_FALSE(on_disk.empty());
  CHECK(web_page().size() == on_disk.size());
  CHECK(web_page() == on_disk);
  CHECK(web_page().starts_with("<!doctype html>"));
}

TEST_CASE("the page is self-contained: nothing fetched from elsewhere", "[web]") {
  const std::string_view page = web_page();
  CHECK(count(page, "http://") == 0);
  CHECK(count(page, "https://") == 0);
  CHECK(count(page, "//cdn") == 0);
  CHECK(count(page, "<script") == 1);  // the page's own, inline
  CHECK(count(page, "<script src") == 0);
  CHECK(count(page, "<link rel=\"stylesheet\"") == 0);
  CHECK(count(page, "@import") == 0);
  CHECK(count(page, "fetch(") == 0);
  // The only <link> is the empty data: icon that stops the browser asking for one.
  CHECK(count(page, "<link") == 1);
  CHECK(count(page, "<link rel=\"icon\" href=\"data:,\">") == 1);
  // It talks to the server it came from, and nowhere else.
  CHECK(count(page, "new WebSocket(") == 2);  // the session's socket and the auth probe
  CHECK(count(page, "location.host + '/ws'") == 1);
  CHECK(count(page, "connect-src 'self'") == 1);
}

TEST_CASE("the page never parses text as HTML", "[web]") {
  const std::string_view page = web_page();
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function", "createContextualFragment", "srcdoc"}) {
    CAPTURE(sink);
    CHECK(count(page, sink) == 0);
  }
  CHECK(count(page, "textContent") > 0);
}
