#pragma once
// The server's TLS configuration: an asio::ssl::context built from files, and the holder
// that new handshakes take it from, so that SIGHUP can swap in a new certificate while
// every existing connection keeps the context it was made with.
#include <asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace parley::server {

struct TlsFiles {
  std::string cert;       // PEM certificate chain, leaf first
  std::string key;        // PEM private key of the leaf
  std::string client_ca;  // PEM CA bundle; non-empty = clients must present a certificate
};

// Never changed once built: handshakes on the loop only read it.
using TlsContextPtr = std::shared_ptr<asio::ssl::context>;

struct LoadedTlsContext {
  TlsContextPtr context;
  std::string certificate;  // "subject ..., serial ..., expires ...", for logs
};

// Reads the files and builds a server context: TLS 1.2 or later, modern AEAD ciphers, no
// renegotiation, session tickets on, the key checked against the certificate. Throws
// std::runtime_error naming the file and the reason. It reads files: call it before the
// loop runs or on a worker thread, never on the event loop.
LoadedTlsContext load_tls_context(const TlsFiles& files);

// What new handshakes use. Event-loop thread only: a reload builds the context elsewhere
// and posts it back to replace().
class TlsContextHolder {
 public:
  explicit TlsContextHolder(TlsContextPtr context) : context_(std::move(context)) {}
  const TlsContextPtr& current() const noexcept { return context_; }
  void replace(TlsContextPtr context) { context_ = std::move(context); }

 private:
  TlsContextPtr context_;
};

}  // namespace parley::server
