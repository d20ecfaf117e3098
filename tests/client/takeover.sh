#!/usr/bin/env bash
# After `bye` `replaced` (the account signed in elsewhere) or `auth_revoked`, the chat says
# so in words and does not reconnect (which would start a takeover loop with the newer
# session): it exits 1 after one connection. Against a fake server (fake_takeover.py).
# Usage: takeover.sh PARLEY_BINARY
set -euo pipefail
parley=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

check() {  # check REASON WORDS
  /usr/bin/python3 "$here/fake_takeover.py" "$1" >"$dir/$1.log" &
  pids+=($!)
  local port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$dir/$1.log")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "fake server did not start"
  # stdin stays open for 20 s: a chat that reconnected would still be running then.
  local code=0
  timeout 15 "$parley" --server "127.0.0.1:$port" --name alice chat >"$dir/out" 2>"$dir/err" \
    < <(sleep 20) || code=$?
  [ "$code" = 1 ] || fail "$1: exit $code, expected 1: $(cat "$dir/out" "$dir/err")"
  grep -qF "$2" "$dir/out" || fail "$1: no '$2' in: $(cat "$dir/out")"
  grep -q "not reconnecting" "$dir/err" || fail "$1: stderr: $(cat "$dir/err")"
  [ "$(grep -c '^connection$' "$dir/$1.log")" = 1 ] || fail "$1: it reconnected"
}
check replaced "you signed in elsewhere; this session was replaced"
check auth_revoked "the server no longer accepts this sign-in"
echo "takeover: no reconnect after replaced or auth_revoked"
