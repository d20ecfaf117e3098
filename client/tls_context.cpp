#include "tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace parley::client {
namespace {

bool is_ip_address(const std::string& host) {
  in6_addr probe{};
  return inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &probe) == 1;
}

}  // namespace

std::variant<std::shared_ptr<asio::ssl::context>, std::string> make_tls_context(
    const TlsFiles& files) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  std::error_code ec;
  if (files.insecure) {
    context->set_verify_mode(asio::ssl::verify_none);
  } else {
    context->set_verify_mode(asio::ssl::verify_peer);
    if (!files.ca.empty()) {
      context->load_verify_file(files.ca, ec);
      if (ec) {
        return "--tls-ca '" + files.ca + "': cannot read a PEM certificate from it (" +
               ec.message() + ")";
      }
    } else {
      context->set_default_verify_paths(ec);
      if (ec) {
        return "cannot load the system's CA certificates (" + ec.message() +
               "): give the server's CA with --tls-ca FILE";
      }
    }
  }
  if (files.cert.empty() != files.key.empty())
    return "--tls-cert and --tls-key go together: give both, or neither";
  if (!files.cert.empty()) {
    context->use_certificate_chain_file(files.cert, ec);
    if (ec) {
      return "--tls-cert '" + files.cert + "': cannot read a PEM certificate from it (" +
             ec.message() + ")";
    }
    context->use_private_key_file(files.key, asio::ssl::context::pem, ec);
    if (ec && ec.message().find("mismatch") != std::string::npos) {
      return "--tls-key '" + files.key + "' is not the key of the certificate in --tls-cert '" +
             files.cert + "'";
    }
    if (ec) {
      return "--tls-key '" + files.key + "': cannot read a PEM private key from it (" +
             ec.message() + ")";
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return "--tls-key '" + files.key + "' is not the key of the certificate in --tls-cert '" +
             files.cert + "'";
    }
  }
  return context;
}

void prepare_tls(SSL* ssl, const std::string& host, bool insecure) {
  const bool ip = is_ip_address(host);
  // SNI carries host names only (RFC 6066 §3).
  // (SSL_set_tlsext_host_name's macro, without its C cast.)
  if (!ip) {
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  if (insecure) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
}

std::string describe_tls_failure(SSL* ssl, const std::error_code& error,
                                 const common::Endpoint& endpoint) {
  const std::string where = "TLS with " + endpoint.text() + " failed: ";
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    const std::string why = X509_verify_cert_error_string(verify);
    ERR_clear_error();
    switch (verify) {
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return where + "the server's certificate is not for '" + endpoint.host + "' (" + why +
               "): connect with a name the certificate names, or --tls-insecure to skip the "
               "check (unsafe)";
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return where + "the server's certificate is signed by a CA this client does not trust (" +
               why +
               "): give that CA with --tls-ca FILE, or --tls-insecure to skip the check "
               "(unsafe)";
      case X509_V_ERR_CERT_HAS_EXPIRED:
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return where + "the server's certificate is not valid now (" + why +
               "): the server needs a new certificate (or check this machine's clock)";
      default:
        return where + "the server's certificate was refused (" + why +
               "): see --tls-ca, or --tls-insecure to skip the check (unsafe)";
    }
  }
  // Asio has taken OpenSSL's error off its queue into `error`.
  ERR_clear_error();
  const std::string reason =
      error == asio::error::eof || error == asio::ssl::error::stream_truncated
          ? "the server closed the connection during the handshake"
          : error.message();
  if (reason.find("certificate required") != std::string::npos ||
      reason.find("handshake failure") != std::string::npos ||
      reason.find("bad certificate") != std::string::npos ||
      reason.find("unknown ca") != std::string::npos ||
      reason.find("during the handshake") != std::string::npos) {
    return where + reason +
           " (a server that asks for a client certificate needs --tls-cert FILE and --tls-key "
           "FILE, signed by a CA it trusts)";
  }
  if (reason.find("wrong version number") != std::string::npos ||
      reason.find("packet length too long") != std::string::npos ||
      reason.find("record layer failure") != std::string::npos) {
    return where + reason +
           " (the server does not seem to speak TLS on this port: try without "
           "--tls or tls://)";
  }
  return where + reason;
}

}  // namespace parley::client
