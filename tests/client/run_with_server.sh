#!/usr/bin/env bash
# Starts parley-server on an ephemeral loopback port, runs the given command with
# PARLEY_SERVER pointing at it, then stops the server (SIGTERM) and expects it to exit 0.
# Usage: run_with_server.sh SERVER_BINARY [server args --] COMMAND...
set -euo pipefail
server=$1
shift
server_args=()
if [[ " $* " == *" -- "* ]]; then
  while [ "$1" != "--" ]; do server_args+=("$1"); shift; done
  shift
fi
log=$(mktemp)
"$server" --listen 127.0.0.1:0 --http-listen off "${server_args[@]}" 2>"$log" &
pid=$!
cleanup() { kill -9 "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
# The server says where it listens; wait for that line (bounded), not a fixed time.
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "run_with_server: no listening line" >&2; cat "$log" >&2; exit 1; }
export PARLEY_SERVER=127.0.0.1:$port
export PARLEY_TEST_SERVER_PID=$pid  # for tests that read the server process (bench)
status=0
"$@" || status=$?
kill -TERM "$pid"
wait "$pid" || { echo "run_with_server: server exit code $?" >&2; status=1; }
trap - EXIT
rm -f "$log"
exit $status
