#pragma once
// A strict, small HTTP/1.1 request-head parser (RFC 9110, RFC 9112), a response builder,
// and the WebSocket upgrade check (RFC 6455 §4.2): what the browser listener needs, without
// I/O. Bodies are not read: the listener serves GET only.
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::protocol {

// The most bytes a request head may take, request line to blank line inclusive.
inline constexpr std::size_t kMaxHttpHead = 8192;
// The most header fields a head may hold (repeated names count once each).
inline constexpr std::size_t kMaxHttpFields = 100;

struct HttpField {
  std::string name;   // lower case
  std::string value;  // trimmed; a repeated field's values joined by ", "
};

struct HttpRequest {
  std::string method;  // case-sensitive, as sent
  std::string target;
  int version_minor = 1;  // HTTP/1.<version_minor>: 0 or 1
  std::vector<HttpField> fields;

  // The value of the field named `name` (any case), if present.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

enum class HttpParse {
  need_more,    // the blank line that ends the head has not come yet
  complete,     // request() holds the head
  bad_request,  // answer 400 and close
  too_large,    // over kMaxHttpHead bytes or kMaxHttpFields fields: answer 431 and close
  bad_version,  // HTTP/x.y other than 1.0 and 1.1: answer 505 and close
};

// Reads one request head from chunks of any size, line by line, keeping only the line
// not finished yet. Lines end in CRLF or, leniently (RFC 9112 §2.2 allows it), a bare LF;
// a CR anywhere else is refused. Empty lines before the request line are skipped (they
// count toward the size). Refused as bad_request: a request line that is not exactly
// `token SP target SP HTTP/d.d`, a folded line (obs-fold) or whitespace before a field
// name or its colon, a field name that is not a token, a value holding a control
// character other than HTAB, a second Host, differing Content-Length values, Content-Length
// with Transfer-Encoding, and an HTTP/1.1 request without Host. Other repeated fields are
// joined by ", " (RFC 9110 §5.3). The result depends only on the bytes, not the chunking.
class HttpHeadParser {
 public:
  struct Result {
    HttpParse status;
    std::size_t used;  // bytes of the chunk read: up to the blank line when complete
  };
  // After a result other than need_more the parser is done and reads nothing more.
  Result feed(std::string_view chunk);
  const HttpRequest& request() const noexcept { return request_; }

 private:
  HttpParse line(std::string_view text);
  HttpParse request_line(std::string_view text);
  HttpParse field(std::string_view text);
  HttpParse end_of_head() const;

  HttpRequest request_;
  std::string partial_;  // the unfinished line
  std::size_t head_size_ = 0;
  bool have_request_line_ = false;
  std::optional<HttpParse> done_;
};

// Whether the comma-separated list `value` holds `token`, compared without case, e.g.
// has_token("keep-alive, Upgrade", "upgrade").
bool has_token(std::string_view value, std::string_view token) noexcept;

// Whether the connection may stay open after the response: HTTP/1.1 unless
// "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
bool keep_alive(const HttpRequest& request) noexcept;

struct HttpHeader {
  std::string_view name;
  std::string_view value;  // must hold no CR or LF
};

// "HTTP/1.1 status reason", the headers, Content-Length (except for 1xx and 204), a blank
// line and the body.
std::string build_http_response(int status, std::string_view reason,
                                std::span<const HttpHeader> headers, std::string_view body = {});
inline std::string build_http_response(int status, std::string_view reason,
                                       std::initializer_list<HttpHeader> headers,
                                       std::string_view body = {}) {
  return build_http_response(status, reason, std::span(headers.begin(), headers.size()), body);
}

// The subprotocol accepted when a client offers it.
inline constexpr std::string_view kWebSocketSubprotocol = "parley.v1";

struct WsUpgrade {
  // 101: upgrade. Refusals: 405 not GET; 400 not HTTP/1.1, Upgrade: websocket or
  // Connection: upgrade missing, Sec-WebSocket-Key missing or not 16 bytes in base64;
  // 426 Sec-WebSocket-Version not 13; 403 Origin present and not allowed.
  int status = 0;
  // The whole response to send: the 101 head, or a refusal (with Connection: close, a
  // one-line text body, and Sec-WebSocket-Version: 13 for 426 or Allow: GET for 405).
  std::string response;
  bool subprotocol = false;  // the 101 selects kWebSocketSubprotocol
};

// Checks a request head for a WebSocket upgrade. `allowed_origins` are exact
// "scheme://host[:port]" strings, compared without case; a request without Origin
// (not from a browser) is allowed.
WsUpgrade check_websocket_upgrade(const HttpRequest& request,
                                  std::span<const std::string> allowed_origins);

}  // namespace parley::protocol
