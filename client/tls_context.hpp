#pragma once
// The client's TLS settings: one OpenSSL context for every connection of a run (files read
// once, before the event loop starts), the per-connection hostname check, and handshake
// failures explained in words that name the cause and the flag that fixes it.
#include <asio/ssl.hpp>
#include <memory>
#include <string>
#include <system_error>
#include <variant>

#include "parley/common/endpoint.hpp"

namespace parley::client {

struct TlsFiles {
  std::string ca;         // --tls-ca: trust this CA (PEM) instead of the system's
  std::string cert;       // --tls-cert: our certificate, for servers that ask (mutual TLS)
  std::string key;        // --tls-key: its private key
  bool insecure = false;  // --tls-insecure: no certificate or hostname check at all
};

// TLS 1.2 or later, the server's certificate checked against `files.ca` or the system's
// CAs (unless insecure). The context, or a usage error naming the file and its flag.
std::variant<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(
    const TlsFiles& files);

// Sets up one connection before its handshake: SNI for a host name, and (unless
// `insecure`) the check that the certificate is for `host`: a DNS name against the
// certificate's names, an IP address against its IP addresses.
void prepare_tls(SSL* ssl, const std::string& host, bool insecure);

// Why a handshake with `endpoint` failed, and what to do about it.
std::string describe_tls_failure(SSL* ssl, const std::error_code& error,
                                 const common::Endpoint& endpoint);

}  // namespace parley::client
