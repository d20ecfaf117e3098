#include "tls_context.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <stdexcept>

namespace parley::server {
namespace {

// Mozilla's "intermediate" lists: forward-secret AEAD suites only. The server's order
// wins, AES-128-GCM first (every byte of a fan-out is encrypted once per recipient, and
// it is the cheapest with AES-NI), except that a client putting ChaCha20 first (one
// without AES hardware) gets ChaCha20.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Session resumption with client certificates needs a context id; any fixed value works.
constexpr std::array<unsigned char, 6> kSessionIdContext{'p', 'a', 'r', 'l', 'e', 'y'};

// The reason OpenSSL gave last, then its queue cleared for the next caller.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

[[noreturn]] void fail(const std::string& what, const std::string& file) {
  throw std::runtime_error(what + " '" + file + "': " + openssl_reason());
}

std::string describe(X509* cert) {
  if (cert == nullptr) return "no certificate";
  std::string out = "subject ";
  std::array<char, 256> subject{};
  X509_NAME_oneline(X509_get_subject_name(cert), subject.data(), static_cast<int>(subject.size()));
  out += subject.data();
  if (BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      out += ", serial ";
      out += hex;
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  return out;
}

}  // namespace

LoadedTlsContext load_tls_context(const TlsFiles& files) {
  ERR_clear_error();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  // No compression (CRIME), no renegotiation (a client could make the server redo the
  // costly handshake at will; OpenSSL 3 refuses client-started ones by default, this
  // refuses every one), and a fresh key share per handshake.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_SINGLE_ECDH_USE | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_PRIORITIZE_CHACHA);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    throw std::runtime_error("cannot configure TLS: " + openssl_reason());
  }
  // Idle connections should not keep 34 KiB of record buffers each.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext.data(), kSessionIdContext.size());

  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1)
    fail("cannot load the certificate", files.cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the pair as it loads the key: say so plainly.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
      fail("the private key does not match the certificate", files.key);
    fail("cannot load the private key", files.key);
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    fail("the private key does not match the certificate", files.key);

  if (!files.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca.c_str(), nullptr) != 1)
      fail("cannot load the client CA", files.client_ca);
    // The CA names go in the certificate request so that a client picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
    if (names == nullptr) fail("no CA certificate in", files.client_ca);
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return {.context = std::move(context), .certificate = describe(SSL_CTX_get0_certificate(ctx))};
}

}  // namespace parley::server
