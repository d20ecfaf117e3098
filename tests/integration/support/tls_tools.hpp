#pragma once
// What the TLS tests share: certificates made at test time by the openssl command, and
// `openssl s_client` as an outside TLS client carrying protocol frames.
#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace parley::test {

using namespace std::chrono_literals;

// A fresh temporary directory holding the certificates of make-test-certs.sh (ca, server,
// server2, client, expired, other-ca, stranger: NAME.pem and NAME.key); removed at the end.
class TestCerts {
 public:
  TestCerts();
  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  // Copies a file within the directory (to swap the certificate a server reloads).
  void copy(const std::string& from, const std::string& to) const;

 private:
  std::string dir_;
};

// `openssl s_client -quiet` connected to 127.0.0.1:port, checking the server certificate
// against the test CA and its IP address; `extra` adds options (-cert, -key, -tls1_2...).
// Lines written go to the server over TLS; what the server sends comes back as lines.
class OpensslClient {
 public:
  OpensslClient(const TestCerts& certs, unsigned short port, std::vector<std::string> extra = {});
  ~OpensslClient();
  OpensslClient(const OpensslClient&) = delete;
  OpensslClient& operator=(const OpensslClient&) = delete;

  void send(const nlohmann::json& frame);
  // The next line from the server; empty when none came in time or the connection ended.
  std::optional<std::string> recv_line(std::chrono::milliseconds timeout = 5s);
  // The next frame, which must match `partial` (throws otherwise, with what came).
  nlohmann::json expect(const nlohmann::json& partial, std::chrono::milliseconds timeout = 5s);
  // Reads until s_client's output ends (the connection is over): the lines that came
  // first; throws when it does not end in time.
  std::vector<std::string> read_until_closed(std::chrono::milliseconds timeout = 5s);
  // What s_client said on stderr so far (its errors), for failure messages.
  std::string diagnostics();
  pid_t pid() const noexcept { return pid_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  void drain_stderr();

  pid_t pid_ = -1;
  int in_ = -1;   // s_client's stdin
  int out_ = -1;  // s_client's stdout
  int err_ = -1;  // s_client's stderr
  bool closed_ = false;
  std::string buffer_;
  std::string errors_;
};

// Runs `command` with /bin/sh: its exit code and stdout.
std::pair<int, std::string> run_shell(const std::string& command);

}  // namespace parley::test
