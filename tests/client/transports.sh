#!/usr/bin/env bash
# The client over TLS and WebSocket: certificates made here with the openssl command,
# TLS terminated by Python's ssl module and WebSocket by the `websockets` library in front
# of the real server (relay.py). Checks a good certificate (by IP and by name), a wrong
# host, an unknown CA, --tls-insecure, mutual TLS with and without a client certificate,
# TLS to a plain port, ws:// and wss:// (one-shot commands, sub, bench), the usage errors
# of the TLS flags, and that errors name the environment variable a bad value came from.
# Usage (under run_with_server.sh): transports.sh PARLEY_BINARY
set -euo pipefail
parley=$1
here=$(cd "$(dirname "$0")" && pwd)
upstream_port=${PARLEY_SERVER##*:}
dir=$(mktemp -d)
relays=()
cleanup() {
  for pid in "${relays[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- certificates -----------------------------------------------------------------------
cd "$dir"
ca() {  # ca NAME: a self-signed CA
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
    -subj "/CN=$1" 2>/dev/null
}
leaf() {  # leaf NAME CA SAN: a certificate for SAN signed by CA
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca
ca other-ca
leaf server ca "DNS:localhost,IP:127.0.0.1"
leaf wrong-host ca "DNS:elsewhere.example"
leaf client ca "DNS:client"
leaf stranger other-ca "DNS:client"
cd - >/dev/null

# relay ARGS...: starts relay.py, sets $relay_port once it listens.
relay() {
  local log=$dir/relay.$RANDOM.log
  : >"$log"  # exists before the relay's shell opens it, so the poll below can read it
  /usr/bin/python3 "$here/relay.py" "$upstream_port" "$@" >"$log" 2>&1 &
  relays+=($!)
  relay_port=""
  for _ in $(seq 1 200); do
    relay_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
    [ -n "$relay_port" ] && return 0
    kill -0 "${relays[-1]}" 2>/dev/null || { cat "$log" >&2; fail "relay $*"; }
    sleep 0.05
  done
  fail "relay $* did not start"
}
# expect_fail CODE PATTERN ARGS...: parley ARGS must exit CODE with PATTERN on stderr.
expect_fail() {
  local want=$1 pattern=$2 code=0
  shift 2
  err=$("$parley" "$@" 2>&1 >/dev/null) || code=$?
  [ "$code" = "$want" ] || fail "parley $*: exit $code, expected $want: $err"
  [[ $err == *"$pattern"* ]] || fail "parley $*: '$err' lacks '$pattern'"
}

relay --cert "$dir/server.pem" --key "$dir/server.key"
tls=$relay_port
relay --cert "$dir/wrong-host.pem" --key "$dir/wrong-host.key"
wrong_host=$relay_port
relay --cert "$dir/server.pem" --key "$dir/server.key" --client-ca "$dir/ca.pem"
mutual=$relay_port
relay --ws
ws=$relay_port
relay --ws --cert "$dir/server.pem" --key "$dir/server.key"
wss=$relay_port

# --- TLS ----------------------------------------------------------------------------------
out=$("$parley" --server "tls://127.0.0.1:$tls" --tls-ca "$dir/ca.pem" ping)
[[ $out == "pong from tls://127.0.0.1:$tls in "* ]] || fail "tls ping by IP: $out"
out=$("$parley" --server "localhost:$tls" --tls --tls-ca "$dir/ca.pem" ping)
[[ $out == "pong from tls://localhost:$tls"* ]] || fail "--tls ping by name: $out"
# The environment sets the CA as well as the flag does.
PARLEY_TLS_CA=$dir/ca.pem "$parley" --server "tls://127.0.0.1:$tls" ping >/dev/null ||
  fail "PARLEY_TLS_CA"

expect_fail 3 "signed by a CA this client does not trust" --server "tls://127.0.0.1:$tls" ping
expect_fail 3 "--tls-ca FILE" --server "tls://127.0.0.1:$tls" ping
expect_fail 3 "not for '127.0.0.1'" --server "tls://127.0.0.1:$wrong_host" --tls-ca "$dir/ca.pem" ping
expect_fail 3 "--tls-insecure" --server "tls://localhost:$wrong_host" --tls-ca "$dir/ca.pem" ping
expect_fail 3 "does not trust" --server "tls://127.0.0.1:$tls" --tls-ca "$dir/other-ca.pem" ping
"$parley" --server "tls://127.0.0.1:$wrong_host" --tls-insecure ping >/dev/null ||
  fail "--tls-insecure should accept any certificate"
# TLS to a port that speaks plain TCP.
expect_fail 3 "TLS with" --server "tls://$PARLEY_SERVER" --tls-insecure --timeout 2s ping

# Mutual TLS: without a certificate, with one from another CA, with a good one. (TLS 1.3
# refuses after the handshake: a refusal by the server, exit code 1.)
expect_fail 1 "needs --tls-cert FILE" --server "tls://127.0.0.1:$mutual" --tls-ca "$dir/ca.pem" ping
expect_fail 1 "--tls-cert" --server "tls://127.0.0.1:$mutual" --tls-ca "$dir/ca.pem" \
  --tls-cert "$dir/stranger.pem" --tls-key "$dir/stranger.key" ping
mtls=(--server "tls://127.0.0.1:$mutual" --tls-ca "$dir/ca.pem" --tls-cert "$dir/client.pem"
      --tls-key "$dir/client.key")
"$parley" "${mtls[@]}" ping >/dev/null || fail "mutual TLS with a client certificate"

# A message end to end over mutual TLS: sub prints it, pub is acknowledged.
topic=transports.t$RANDOM
"$parley" "${mtls[@]}" sub "$topic" --count 1 --no-time >"$dir/sub.out" 2>&1 &
sub=$!
# Publish until the subscriber has its message and exits (it may subscribe after the first).
for _ in $(seq 1 100); do
  "$parley" "${mtls[@]}" pub "$topic" '"over mutual TLS"' || fail "pub over mutual TLS"
  kill -0 $sub 2>/dev/null || break
  sleep 0.05
done
wait $sub || fail "sub over mutual TLS: $(cat "$dir/sub.out")"
grep -q "over mutual TLS" "$dir/sub.out" || fail "sub output: $(cat "$dir/sub.out")"

# --- WebSocket ----------------------------------------------------------------------------
out=$("$parley" --server "ws://127.0.0.1:$ws/ws" ping)
[[ $out == "pong from ws://127.0.0.1:$ws/ws in "* ]] || fail "ws ping: $out"
out=$("$parley" --server "wss://localhost:$wss/ws" --tls-ca "$dir/ca.pem" ping)
[[ $out == "pong from wss://localhost:$wss/ws"* ]] || fail "wss ping: $out"
expect_fail 3 "does not trust" --server "wss://localhost:$wss/ws" ping
# A frame over 125 bytes and one over 65535 (16- and 64-bit lengths), both ways.
big=$(head -c 70000 /dev/zero | tr '\0' 'w')
"$parley" --server "ws://127.0.0.1:$ws/ws" pub "$topic.big" "$big" ||
  fail "a 70000-byte message over ws"
out=$("$parley" --server "ws://127.0.0.1:$ws/ws" history "$topic.big" --no-time)
[[ ${#out} -gt 70000 && $out == *www* ]] || fail "history over ws: ${#out} bytes"

# --- bench over every transport ----------------------------------------------------------
for server in "tls://127.0.0.1:$tls" "ws://127.0.0.1:$ws/ws" "wss://localhost:$wss/ws"; do
  ca=()
  [[ $server == ws://* ]] || ca=(--tls-ca "$dir/ca.pem")
  out=$("$parley" --server "$server" "${ca[@]}" bench --pubs 1 --subs 3 --msgs 3000 --json 2>&1) ||
    fail "bench over $server: $out"
  [[ $out == *'"delivered":9000'* ]] || fail "bench over $server: $out"
done
out=$("$parley" --server "127.0.0.1:$ws" bench --ws --subs 2 --msgs 1000 --json 2>&1) ||
  fail "bench --ws: $out"
[[ $out == *'"delivered":2000'* ]] || fail "bench --ws: $out"

# --- usage errors -------------------------------------------------------------------------
expect_fail 2 "--tls-ca '$dir/none.pem'" --tls --tls-ca "$dir/none.pem" ping
expect_fail 2 "go together" --tls --tls-cert "$dir/client.pem" ping
expect_fail 2 "is not the key of" --tls --tls-cert "$dir/client.pem" --tls-key "$dir/server.key" ping
expect_fail 2 "need a TLS server" --tls-insecure ping
# A bad value is blamed on where it came from: the flag, or the environment variable.
PARLEY_TIMEOUT=abc expect_fail 2 "PARLEY_TIMEOUT: 'abc' is not a duration" ping
expect_fail 2 "--timeout: 'abc' is not a duration" --timeout abc ping
PARLEY_SERVER=nohost expect_fail 2 "PARLEY_SERVER: 'nohost' is not a server address" ping
PARLEY_NAME='bad name' expect_fail 2 "PARLEY_NAME: 'bad name'" ping
echo "transports: all checks passed"
