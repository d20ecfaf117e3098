// HttpHeadParser over tables of heads (fed whole and byte by byte), its size edge, the
// helpers, and the WebSocket upgrade check.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "parley/protocol/http.hpp"

using namespace parley::protocol;

namespace {

struct Parsed {
  HttpParse status;
  std::size_t used;  // bytes read in all
  HttpRequest request;
};

Parsed parse(const std::string& bytes, std::size_t chunk) {
  HttpHeadParser parser;
  std::size_t used = 0;
  HttpParse status = HttpParse::need_more;
  for (std::size_t at = 0; at < bytes.size() && status == HttpParse::need_more; at += chunk) {
    const auto result = parser.feed(std::string_view(bytes).substr(at, chunk));
    status = result.status;
    used += result.used;
  }
  return {status, used, parser.request()};
}

// Parses whole and byte by byte; both must agree.
Parsed parse_checked(const std::string& bytes) {
  Parsed whole = parse(bytes, bytes.size() + 1);
  const Parsed bytewise = parse(bytes, 1);
  CHECK(bytewise.status == whole.status);
  if (whole.status == HttpParse::complete) {
    CHECK(bytewise.used == whole.used);
    CHECK(bytewise.request.fields.size() == whole.request.fields.size());
  }
  return whole;
}

const char* name(HttpParse s) {
  switch (s) {
    case HttpParse::need_more:
      return "need_more";
    case HttpParse::complete:
      return "complete";
    case HttpParse::bad_request:
      return "bad_request";
    case HttpParse::too_large:
      return "too_large";
    case HttpParse::bad_version:
      return "bad_version";
  }
  return "?";
}

const std::string kUpgrade =
    "GET /ws HTTP/1.1\r\n"
    "Host: chat.example:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n";

HttpRequest request_of(const std::string& head) {
  const Parsed p = parse(head, head.size());
  REQUIRE(std::string(name(p.status)) == "complete");
  return p.request;
}

}  // namespace

TEST_CASE("a request head: line, fields, case, trimming, joining, what follows", "[http]") {
  const std::string head =
      "GET /path?q=1 HTTP/1.1\r\n"
      "Host:  example.com \r\n"
      "X-Empty:\r\n"
      "Accept: text/html\r\n"
      "ACCEPT: text/plain\t\r\n"
      "\r\n";
  const Parsed p = parse_checked(head + "GET /next HTTP/1.1\r\n");
  REQUIRE(std::string(name(p.status)) == "complete");
  CHECK(p.used == head.size());
  CHECK(p.request.method == "GET");
  CHECK(p.request.target == "/path?q=1");
  CHECK(p.request.version_minor == 1);
  CHECK(p.request.header("host") == "example.com");
  CHECK(p.request.header("HOST") == "example.com");
  CHECK(p.request.header("x-empty") == "");
  CHECK(p.request.header("accept") == "text/html, text/plain");
  CHECK_FALSE(p.request.header("missing"));
}

TEST_CASE("request head table", "[http]") {
  struct Case {
    const char* name;
    std::string bytes;
    HttpParse status;
  };
  const std::vector<Case> cases = {
      {"CRLF", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::complete},
      {"bare LF, accepted leniently", "GET / HTTP/1.1\nHost: a\n\n", HttpParse::complete},
      {"mixed line ends", "GET / HTTP/1.1\r\nHost: a\n\r\n", HttpParse::complete},
      {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", HttpParse::complete},
      {"leading blank lines skipped", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
       HttpParse::complete},
      {"token method", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::complete},
      {"obs-text in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xC3\xA9\r\n\r\n",
       HttpParse::complete},
      {"same Content-Length twice",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
       HttpParse::complete},
      {"unfinished", "GET / HTTP/1.1\r\nHost: a\r\n", HttpParse::need_more},
      {"unfinished line", "GET / HTTP/1.1\r\nHo", HttpParse::need_more},
      {"missing version", "GET /\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"missing target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HttpParse::bad_version},
      {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", HttpParse::bad_version},
      {"HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"method with a slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"method with a control char", "GE\x01T / HTTP/1.1\r\nHost: a\r\n\r\n",
       HttpParse::bad_request},
      {"method with a paren", "GET() / HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"target with a tab", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", HttpParse::bad_request},
      {"target with a non-ASCII byte", "GET /\xC3\xA9 HTTP/1.1\r\nHost: a\r\n\r\n",
       HttpParse::bad_request},
      {"folded field", "GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n",
       HttpParse::bad_request},
      {"folded with a tab", "GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n",
       HttpParse::bad_request},
      {"space before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
       HttpParse::bad_request},
      {"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HttpParse::bad_request},
      {"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", HttpParse::bad_request},
      {"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", HttpParse::bad_request},
      {"control char in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n",
       HttpParse::bad_request},
      {"DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7Fz\r\n\r\n", HttpParse::bad_request},
      {"NUL in a value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0z\r\n\r\n", 35),
       HttpParse::bad_request},
      {"bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rz\r\n\r\n",
       HttpParse::bad_request},
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", HttpParse::bad_request},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HttpParse::bad_request},
      {"differing Content-Length",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       HttpParse::bad_request},
      {"Content-Length not a number", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
       HttpParse::bad_request},
      {"Content-Length with Transfer-Encoding",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpParse::bad_request},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(std::string(name(parse_checked(c.bytes).status)) == name(c.status));
  }
}

TEST_CASE("a head of exactly 8 KiB is read, one byte more is too large", "[http]") {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  const std::string end = "\r\n\r\n";
  const std::string exact =
      start + std::string(kMaxHttpHead - start.size() - end.size(), 'v') + end;
  REQUIRE(exact.size() == kMaxHttpHead);
  const Parsed ok = parse_checked(exact);
  CHECK(std::string(name(ok.status)) == "complete");
  CHECK(ok.used == kMaxHttpHead);
  const std::string over =
      start + std::string(kMaxHttpHead - start.size() - end.size() + 1, 'v') + end;
  CHECK(std::string(name(parse_checked(over).status)) == "too_large");
  // Known before the end: 8 KiB and one byte with no blank line yet.
  CHECK(std::string(name(parse_checked(over.substr(0, kMaxHttpHead + 1)).status)) == "too_large");
  CHECK(std::string(name(parse_checked(over.substr(0, kMaxHttpHead)).status)) == "need_more");
  // Bytes after a complete head do not count.
  CHECK(std::string(name(parse_checked(exact + std::string(10000, 'x')).status)) == "complete");
}

TEST_CASE("more than 100 fields is too large", "[http]") {
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 1; i < 100; ++i) head += "X" + std::to_string(i) + ": v\r\n";
  CHECK(std::string(name(parse_checked(head + "\r\n").status)) == "complete");
  CHECK(std::string(name(parse_checked(head + "Y: v\r\n\r\n").status)) == "too_large");
  // A repeated name is joined, so it adds no field.
  CHECK(std::string(name(parse_checked(head + "X1: w\r\n\r\n").status)) == "complete");
}

TEST_CASE("has_token and keep_alive", "[http]") {
  CHECK(has_token("keep-alive, Upgrade", "upgrade"));
  CHECK(has_token("Upgrade", "upgrade"));
  CHECK(has_token(" ,upgrade ,", "upgrade"));
  CHECK_FALSE(has_token("upgrade-not", "upgrade"));
  CHECK_FALSE(has_token("", "upgrade"));
  CHECK(keep_alive(request_of("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  CHECK_FALSE(keep_alive(request_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n")));
  CHECK_FALSE(keep_alive(request_of("GET / HTTP/1.0\r\n\r\n")));
  CHECK(keep_alive(request_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")));
}

TEST_CASE("build_http_response", "[http]") {
  CHECK(build_http_response(200, "OK", {{"Content-Type", "text/plain"}}, "ok\n") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
  CHECK(build_http_response(204, "No Content", {}) == "HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(build_http_response(101, "Switching Protocols", {{"Upgrade", "websocket"}}) ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
}

TEST_CASE("WebSocket upgrade accepted, with and without the subprotocol", "[http][websocket]") {
  const std::vector<std::string> origins = {"https://chat.example:8080"};
  const auto plain = check_websocket_upgrade(request_of(kUpgrade + "\r\n"), origins);
  CHECK(plain.status == 101);
  CHECK_FALSE(plain.subprotocol);
  CHECK(plain.response ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  const auto offered =
      check_websocket_upgrade(request_of(kUpgrade + "Sec-WebSocket-Protocol: chat, parley.v1\r\n"
                                                    "Origin: HTTPS://Chat.Example:8080\r\n\r\n"),
                              origins);
  CHECK(offered.status == 101);
  CHECK(offered.subprotocol);
  CHECK(offered.response.find("\r\nSec-WebSocket-Protocol: parley.v1\r\n") != std::string::npos);
  const auto other = check_websocket_upgrade(
      request_of(kUpgrade + "Sec-WebSocket-Protocol: chat, Parley.v1\r\n\r\n"), origins);
  CHECK(other.status == 101);
  CHECK_FALSE(other.subprotocol);
}

TEST_CASE("WebSocket upgrade refusals", "[http][websocket]") {
  const std::vector<std::string> origins = {"https://chat.example:8080", "http://localhost:7879"};
  struct Case {
    const char* name;
    std::string head;
    int status;
    const char* must_hold = "";
  };
  const auto replace = [](std::string s, const std::string& from, const std::string& to) {
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::vector<Case> cases = {
      {"POST", replace(kUpgrade, "GET", "POST"), 405, "Allow: GET\r\n"},
      {"HTTP/1.0", replace(kUpgrade, "HTTP/1.1", "HTTP/1.0"), 400},
      {"no Upgrade", replace(kUpgrade, "Upgrade: websocket\r\n", ""), 400},
      {"Upgrade: h2c", replace(kUpgrade, "Upgrade: websocket", "Upgrade: h2c"), 400},
      {"no upgrade token in Connection",
       replace(kUpgrade, "Connection: keep-alive, Upgrade", "Connection: keep-alive"), 400},
      {"version 8", replace(kUpgrade, "Version: 13", "Version: 8"), 426,
       "Sec-WebSocket-Version: 13\r\n"},
      {"no version", replace(kUpgrade, "Sec-WebSocket-Version: 13\r\n", ""), 426},
      {"no key", replace(kUpgrade, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), 400},
      {"key of 15 bytes", replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"),
       400},
      {"key of 17 bytes", replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQAB"),
       400},
      {"key not base64", replace(kUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j*Q=="),
       400},
      {"origin not allowed", kUpgrade + "Origin: https://evil.example\r\n", 403},
      {"origin on another port", kUpgrade + "Origin: https://chat.example:8081\r\n", 403},
      {"origin with another scheme", kUpgrade + "Origin: http://chat.example:8080\r\n", 403},
      {"origin null", kUpgrade + "Origin: null\r\n", 403},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const auto result = check_websocket_upgrade(request_of(c.head + "\r\n"), origins);
    CHECK(result.status == c.status);
    CHECK_FALSE(result.subprotocol);
    CHECK(result.response.starts_with("HTTP/1.1 " + std::to_string(c.status) + " "));
    CHECK(result.response.find("Connection: close\r\n") != std::string::npos);
    CHECK(result.response.find(c.must_hold) != std::string::npos);
  }
  // The second allowed origin, and no Origin at all, pass.
  CHECK(check_websocket_upgrade(request_of(kUpgrade + "Origin: http://LOCALHOST:7879\r\n\r\n"),
                                origins)
            .status == 101);
  CHECK(check_websocket_upgrade(request_of(kUpgrade + "\r\n"), {}).status == 101);
}
