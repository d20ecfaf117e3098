#include "parley/protocol/http.hpp"

#include <algorithm>
#include <charconv>

#include "parley/protocol/websocket.hpp"

namespace parley::protocol {
namespace {

constexpr char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// tchar (RFC 9110 §5.6.2).
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

// field-value characters: HTAB, SP, VCHAR and obs-text.
bool is_field_char(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte == '\t' || (byte >= 0x20 && byte != 0x7F);
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Calls on_item(item) for each non-empty, trimmed element of a comma-separated list until
// it returns true; true if one did.
template <class OnItem>
bool any_item(std::string_view list, OnItem&& on_item) {
  while (true) {
    const auto comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty() && on_item(item)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A Sec-WebSocket-Key: 16 bytes in base64, so 22 characters and "==".
bool valid_websocket_key(std::string_view key) noexcept {
  return key.size() == 24 && key.substr(22) == "==" &&
         std::all_of(key.begin(), key.begin() + 22, is_base64_char);
}

WsUpgrade refuse(int status, std::string_view reason, std::string_view why,
                 std::span<const HttpHeader> extra = {}) {
  std::vector<HttpHeader> headers(extra.begin(), extra.end());
  headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  headers.push_back({"Connection", "close"});
  std::string body(why);
  body.push_back('\n');
  return {status, build_http_response(status, reason, headers, body), false};
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const noexcept {
  for (const HttpField& f : fields) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

HttpHeadParser::Result HttpHeadParser::feed(std::string_view chunk) {
  if (done_) return {*done_, 0};
  std::size_t used = 0;
  while (used < chunk.size()) {
    const std::string_view rest = chunk.substr(used);
    const auto newline = rest.find('\n');
    const std::size_t take = newline == std::string_view::npos ? rest.size() : newline + 1;
    if (head_size_ + take > kMaxHttpHead) {
      done_ = HttpParse::too_large;
      return {*done_, used};
    }
    head_size_ += take;
    used += take;
    if (newline == std::string_view::npos) {
      partial_.append(rest);
      break;
    }
    HttpParse status = HttpParse::need_more;
    if (partial_.empty()) {
      status = line(rest.substr(0, newline));
    } else {
      partial_.append(rest.substr(0, newline));
      status = line(partial_);
      partial_.clear();
    }
    if (status != HttpParse::need_more) {
      done_ = status;
      partial_.shrink_to_fit();
      return {status, used};
    }
  }
  return {HttpParse::need_more, used};
}

HttpParse HttpHeadParser::line(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.find('\r') != std::string_view::npos) return HttpParse::bad_request;
  if (!have_request_line_) {
    if (text.empty()) return HttpParse::need_more;  // RFC 9112 §2.2: skip leading blank lines
    have_request_line_ = true;
    return request_line(text);
  }
  if (text.empty()) return end_of_head();
  return field(text);
}

HttpParse HttpHeadParser::request_line(std::string_view text) {
  const auto first = text.find(' ');
  if (first == std::string_view::npos) return HttpParse::bad_request;
  const auto second = text.find(' ', first + 1);
  if (second == std::string_view::npos) return HttpParse::bad_request;  // no version
  const std::string_view method = text.substr(0, first);
  const std::string_view target = text.substr(first + 1, second - first - 1);
  const std::string_view version = text.substr(second + 1);
  if (!is_token(method) || target.empty()) return HttpParse::bad_request;
  const bool target_ok = std::all_of(target.begin(), target.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F;
  });
  if (!target_ok) return HttpParse::bad_request;
  if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digit(version[5]) ||
      version[6] != '.' || !is_digit(version[7])) {
    return HttpParse::bad_request;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return HttpParse::bad_version;
  request_.method = method;
  request_.target = target;
  request_.version_minor = version[7] - '0';
  return HttpParse::need_more;
}

HttpParse HttpHeadParser::field(std::string_view text) {
  // A line starting with whitespace is an obs-fold (or whitespace before the first field):
  // refused, as RFC 9112 §5.2 and §2.2 allow.
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return HttpParse::bad_request;
  const std::string_view name = text.substr(0, colon);
  if (!is_token(name)) return HttpParse::bad_request;  // also whitespace before the colon
  const std::string_view value = trim(text.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), is_field_char)) return HttpParse::bad_request;

  for (HttpField& f : request_.fields) {
    if (!iequals(f.name, name)) continue;
    if (f.name == "host") return HttpParse::bad_request;
    if (f.name == "content-length") {
      return f.value == value ? HttpParse::need_more : HttpParse::bad_request;
    }
    if (f.value.empty()) {
      f.value = value;
    } else if (!value.empty()) {
      f.value.append(", ").append(value);
    }
    return HttpParse::need_more;
  }
  if (request_.fields.size() == kMaxHttpFields) return HttpParse::too_large;
  HttpField added;
  added.name.resize(name.size());
  std::transform(name.begin(), name.end(), added.name.begin(), lower);
  added.value = value;
  request_.fields.push_back(std::move(added));
  return HttpParse::need_more;
}

HttpParse HttpHeadParser::end_of_head() const {
  if (request_.version_minor == 1 && !request_.header("host")) return HttpParse::bad_request;
  if (const auto length = request_.header("content-length")) {
    if (request_.header("transfer-encoding")) return HttpParse::bad_request;
    if (length->empty() || !std::all_of(length->begin(), length->end(), is_digit)) {
      return HttpParse::bad_request;
    }
  }
  return HttpParse::complete;
}

bool has_token(std::string_view value, std::string_view token) noexcept {
  return any_item(value, [&](std::string_view item) { return iequals(item, token); });
}

bool keep_alive(const HttpRequest& request) noexcept {
  const std::string_view connection = request.header("connection").value_or("");
  if (request.version_minor >= 1) return !has_token(connection, "close");
  return has_token(connection, "keep-alive");
}

std::string build_http_response(int status, std::string_view reason,
                                std::span<const HttpHeader> headers, std::string_view body) {
  std::string out;
  out.reserve(64 + body.size());
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  for (const HttpHeader& h : headers) {
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (status >= 200 && status != 204) {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

WsUpgrade check_websocket_upgrade(const HttpRequest& request,
                                  std::span<const std::string> allowed_origins) {
  if (request.method != "GET") {
    const HttpHeader allow[] = {{"Allow", "GET"}};
    return refuse(405, "Method Not Allowed", "a WebSocket upgrade is a GET", allow);
  }
  if (request.version_minor != 1) {
    return refuse(400, "Bad Request", "a WebSocket upgrade needs HTTP/1.1");
  }
  if (!has_token(request.header("upgrade").value_or(""), "websocket") ||
      !has_token(request.header("connection").value_or(""), "upgrade")) {
    return refuse(400, "Bad Request", "not a WebSocket upgrade (Upgrade, Connection)");
  }
  if (request.header("sec-websocket-version").value_or("") != "13") {
    const HttpHeader version[] = {{"Sec-WebSocket-Version", "13"}, {"Upgrade", "websocket"}};
    return refuse(426, "Upgrade Required", "Sec-WebSocket-Version must be 13", version);
  }
  const std::string_view key = request.header("sec-websocket-key").value_or("");
  if (!valid_websocket_key(key)) {
    return refuse(400, "Bad Request", "missing or invalid Sec-WebSocket-Key");
  }
  if (const auto origin = request.header("origin")) {
    const bool allowed = std::any_of(allowed_origins.begin(), allowed_origins.end(),
                                     [&](const std::string& o) { return iequals(o, *origin); });
    if (!allowed) return refuse(403, "Forbidden", "origin not allowed");
  }
  const bool subprotocol =
      any_item(request.header("sec-websocket-protocol").value_or(""),
               [](std::string_view item) { return item == kWebSocketSubprotocol; });
  const std::string accept = websocket_accept(key);
  std::vector<HttpHeader> headers = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}};
  if (subprotocol) headers.push_back({"Sec-WebSocket-Protocol", kWebSocketSubprotocol});
  return {101, build_http_response(101, "Switching Protocols", headers), subprotocol};
}

}  // namespace parley::protocol
