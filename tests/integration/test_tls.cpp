// TLS on the TCP listener, checked with an outside client (openssl s_client) and with
// certificates made at test time: frames over TLS, plain TCP refused, mutual TLS,
// certificate reload on SIGHUP, the handshake deadline and the slots it holds.
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <memory>

#include "line_client.hpp"
#include "server_process.hpp"
#include "tls_tools.hpp"

using namespace parley::test;

namespace {

LaunchOptions tls_server(const TestCerts& certs, std::vector<std::string> more = {},
                         const std::string& cert = "server") {
  std::vector<std::string> args{"--tls-cert",  certs.path(cert + ".pem"),
                                "--tls-key",   certs.path(cert + ".key"),
                                "--log-level", "debug"};
  args.insert(args.end(), more.begin(), more.end());
  return LaunchOptions(args);
}

json hello(OpensslClient& client, const std::string& name) {
  client.send({{"op", "hello"}, {"name", name}, {"id", "hello"}});
  return client.expect({{"op", "welcome"}, {"id", "hello"}, {"name", name}});
}

// Bytes a plain socket receives until the server closes it, or nullopt if it stays open.
std::optional<std::string> read_raw_until_closed(LineClient& c, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{c.fd(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::array<char, 4096> chunk{};
    const ssize_t n = ::recv(c.fd(), chunk.data(), chunk.size(), 0);
    if (n <= 0) return got;  // EOF or reset: closed either way
    got.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

// The serial number of the certificate a new TLS connection to the server is shown.
std::string served_serial(const TestCerts& certs, unsigned short port) {
  const auto [code, out] =
      run_shell("openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile '" +
                certs.path("ca.pem") + "' </dev/null 2>/dev/null | openssl x509 -noout -serial");
  REQUIRE(code == 0);
  return out;
}

}  // namespace

TEST_CASE("protocol frames travel over TLS: hello, sub, pub, msg, ping", "[tls]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs));
  REQUIRE(server.wait_for_log("TLS on: subject"));
  OpensslClient alice(certs, server.port());
  OpensslClient bob(certs, server.port());
  hello(alice, "alice");
  hello(bob, "bob");
  alice.send({{"op", "sub"}, {"topic", "news.>"}, {"id", 1}});
  alice.expect({{"op", "ok"}, {"id", 1}});
  bob.send({{"op", "pub"}, {"topic", "news.tls"}, {"data", "sealed"}, {"id", 2}});
  bob.expect({{"op", "ok"}, {"id", 2}});
  alice.expect({{"op", "msg"}, {"topic", "news.tls"}, {"from", "bob"}, {"data", "sealed"}});
  alice.send({{"op", "ping"}, {"id", 3}});
  alice.expect({{"op", "pong"}, {"id", 3}});
  CHECK(server.wait_for_log("TLS handshake with 127.0.0.1"));
  CHECK(server.log().find("TLSv1.3") != std::string::npos);
}

TEST_CASE("TLS 1.2 is accepted with a modern cipher", "[tls]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs));
  OpensslClient client(certs, server.port(), {"-tls1_2"});
  hello(client, "older");
  REQUIRE(server.wait_for_log("TLSv1.2 ECDHE-"));
}

TEST_CASE("a TLS subscriber that stops reading gets everything, in order, when it reads again",
          "[tls]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs, {"--outbound-limit", "64MiB"}));
  OpensslClient reader(certs, server.port());
  OpensslClient writer(certs, server.port());
  hello(reader, "reader");
  hello(writer, "writer");
  reader.send({{"op", "sub"}, {"topic", "flood"}, {"id", 1}});
  reader.expect({{"op", "ok"}, {"id", 1}});
  // While the reader's s_client is stopped, ~6 MB cannot fit in the socket buffers: the
  // server's TLS writes stop part-way through its records and must resume exactly there.
  REQUIRE(::kill(reader.pid(), SIGSTOP) == 0);
  constexpr int kMessages = 3000;
  const std::string filler(2000, 'x');
  for (int i = 0; i < kMessages; ++i) {
    writer.send({{"op", "pub"}, {"topic", "flood"}, {"data", {{"n", i}, {"pad", filler}}}});
  }
  writer.send({{"op", "ping"}, {"id", "done"}});
  writer.expect({{"op", "pong"}, {"id", "done"}}, 30s);
  REQUIRE(::kill(reader.pid(), SIGCONT) == 0);
  for (int i = 0; i < kMessages; ++i) {
    const json msg = reader.expect({{"op", "msg"}, {"topic", "flood"}}, 30s);
    REQUIRE(msg["data"]["n"] == i);
  }
  // The last frame of a burst is not stranded behind records the socket did not take.
  reader.send({{"op", "ping"}, {"id", "after"}});
  reader.expect({{"op", "pong"}, {"id", "after"}});
}

TEST_CASE("a plain TCP client on the TLS listener is refused and closed", "[tls]") {
  TestCerts certs;
  // A long handshake deadline: the close must come from the refusal, not the deadline.
  ServerProcess server(tls_server(certs, {"--tls-handshake-timeout", "60s"}));
  LineClient plain(server.port());
  plain.send({{"op", "hello"}, {"name", "plain"}, {"id", "hello"}});
  const auto got = read_raw_until_closed(plain, 5s);
  REQUIRE(got.has_value());
  CHECK(got->find("welcome") == std::string::npos);
  REQUIRE(server.wait_for_log("TLS handshake with 127.0.0.1"));
  CHECK(server.log().find("failed") != std::string::npos);
  // The server goes on serving TLS clients.
  OpensslClient client(certs, server.port());
  hello(client, "after");
}

TEST_CASE("mutual TLS: only a valid certificate from the client CA gets in", "[tls][mtls]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs, {"--tls-client-ca", certs.path("ca.pem")}));
  REQUIRE(server.wait_for_log("client certificates required"));

  struct Row {
    const char* what;
    std::vector<std::string> args;
    const char* logged;  // the reason the server gives
  };
  const std::vector<Row> refused{
      {"no client certificate", {}, "did not return a certificate"},
      {"a certificate from another CA",
       {"-cert", certs.path("stranger.pem"), "-key", certs.path("stranger.key")},
       "unable to get local issuer certificate"},
      {"an expired certificate",
       {"-cert", certs.path("expired.pem"), "-key", certs.path("expired.key")},
       "certificate has expired"},
  };
  for (const Row& row : refused) {
    INFO(row.what);
    OpensslClient client(certs, server.port(), row.args);
    // With TLS 1.3 the client may think itself connected before the server's verdict
    // arrives: a hello shows which it is.
    try {
      client.send({{"op", "hello"}, {"name", "intruder"}, {"id", "hello"}});
    } catch (const std::runtime_error&) {
      // s_client already gave up: refused before it read any input.
    }
    const auto lines = client.read_until_closed(5s);
    for (const auto& line : lines) CHECK(line.find("welcome") == std::string::npos);
    CHECK(server.wait_for_log(row.logged));
  }

  OpensslClient good(certs, server.port(),
                     {"-cert", certs.path("client.pem"), "-key", certs.path("client.key")});
  hello(good, "trusted");
  CHECK(server.wait_for_log("client /CN=parley test client"));
}

TEST_CASE("SIGHUP swaps the certificate for new connections while old ones keep working", "[tls]") {
  TestCerts certs;
  certs.copy("server.pem", "live.pem");
  certs.copy("server.key", "live.key");
  ServerProcess server(tls_server(certs, {}, "live"));
  CHECK(served_serial(certs, server.port()) == "serial=1001\n");
  OpensslClient old(certs, server.port());
  hello(old, "old");

  certs.copy("server2.pem", "live.pem");
  certs.copy("server2.key", "live.key");
  server.signal(SIGHUP);
  REQUIRE(server.wait_for_log_on_every_node(
      "TLS reloaded: new handshakes use subject /CN=parley test server2"));
  CHECK(served_serial(certs, server.port()) == "serial=1002\n");
  old.send({{"op", "ping"}, {"id", 1}});
  old.expect({{"op", "pong"}, {"id", 1}});

  // A broken pair (a key that is not the certificate's) is refused; the last good one stays.
  certs.copy("server.key", "live.key");
  server.signal(SIGHUP);
  REQUIRE(server.wait_for_log_on_every_node("TLS reload refused"));
  CHECK(server.log().find("does not match the certificate") != std::string::npos);
  CHECK(served_serial(certs, server.port()) == "serial=1002\n");
  OpensslClient fresh(certs, server.port());
  hello(fresh, "fresh");
  old.send({{"op", "ping"}, {"id", 2}});
  old.expect({{"op", "pong"}, {"id", 2}});
}

TEST_CASE("a connection that never completes its handshake is closed at the deadline",
          "[tls][timeout]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs, {"--tls-handshake-timeout", "300ms"}));
  const auto start = std::chrono::steady_clock::now();
  LineClient silent(server.port());
  REQUIRE(read_raw_until_closed(silent, 5s).has_value());
  CHECK(std::chrono::steady_clock::now() - start >= 250ms);
  CHECK(server.wait_for_log("timed out"));
}

// [single-node]: the per-address limit is per node.
TEST_CASE("connections still in their handshake hold per-address slots",
          "[tls][server_full][single-node]") {
  TestCerts certs;
  ServerProcess server(
      tls_server(certs, {"--max-connections-per-ip", "2", "--tls-handshake-timeout", "60s"}));
  LineClient first(server.port());
  LineClient second(server.port());
  // Both are accepted (the server logs each refusal, so none yet) before the third comes.
  OpensslClient probe(certs, server.port());
  const auto lines = probe.read_until_closed(5s);
  CHECK(lines.empty());
  REQUIRE(server.wait_for_log("refused a connection from 127.0.0.1: 2 open"));
  // Once one goes, a TLS client gets in.
  first.close();
  second.close();
  REQUIRE(server.wait_for_log("closed by the client"));
  OpensslClient client(certs, server.port());
  hello(client, "later");
}

TEST_CASE("TLS 1.1 is refused", "[tls]") {
  TestCerts certs;
  ServerProcess server(tls_server(certs));
  // Debian's OpenSSL only offers TLS 1.1 at security level 0.
  OpensslClient old(certs, server.port(), {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  try {
    old.send({{"op", "hello"}, {"name", "old"}, {"id", "hello"}});
  } catch (const std::runtime_error&) {
    // s_client already ended
  }
  const auto lines = old.read_until_closed(5s);
  for (const auto& line : lines) CHECK(line.find("welcome") == std::string::npos);
  if (!server.wait_for_log("TLS handshake with", 2s)) {
    // This openssl could not even offer TLS 1.1: nothing reached the server to refuse.
    WARN("the local openssl cannot offer TLS 1.1; " << old.diagnostics());
    return;
  }
  CHECK(server.wait_for_log("unsupported protocol"));
}

TEST_CASE("TLS flags are checked at start", "[tls][config]") {
  TestCerts certs;
  const auto [alone, alone_log] =
      ServerProcess::run_to_exit({"--tls-cert", certs.path("server.pem")});
  CHECK(alone == 2);
  CHECK(alone_log.find("go together") != std::string::npos);
  const auto [ca_only, ca_log] =
      ServerProcess::run_to_exit({"--tls-client-ca", certs.path("ca.pem")});
  CHECK(ca_only == 2);
  const auto [mismatch, mismatch_log] =
      ServerProcess::run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", certs.path("server.pem"),
                                  "--tls-key", certs.path("server2.key")});
  CHECK(mismatch == 1);
  CHECK(mismatch_log.find("does not match the certificate") != std::string::npos);
  const auto [missing, missing_log] = ServerProcess::run_to_exit(
      {"--listen", "127.0.0.1:0", "--tls-cert", certs.path("nothing.pem"), "--tls-key",
       certs.path("server.key")});
  CHECK(missing == 1);
  CHECK(missing_log.find("nothing.pem") != std::string::npos);
  const auto [from_env, env_log] = ServerProcess::run_to_exit(
      {"--listen", "127.0.0.1:0"}, {"PARLEY_TLS_CERT=" + certs.path("server.pem")});
  CHECK(from_env == 2);
}
