#include "web_page.hpp"

namespace parley::server {

// A placeholder until the chat page (web/index.html, embedded at build time) lands: it
// says what the server offers, so that GET / is already a real page.
std::string_view web_page() {
  return R"html(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title></head>
<body>
<h1>Parley</h1>
<p>This server speaks the Parley protocol over WebSocket at <code>/ws</code>
(subprotocol <code>parley.v1</code>). Health: <a href="/healthz">/healthz</a>,
metrics: <a href="/metrics">/metrics</a>.</p>
</body>
</html>
)html";
}

}  // namespace parley::server
