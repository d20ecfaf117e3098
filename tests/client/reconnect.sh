#!/usr/bin/env bash
# The server is killed and restarted under a running `parley sub` and `parley chat`; both
# must resume on their own. The chat must not claim that messages were lost (none were
# sent while it was down), and a line typed while it was away is sent once it is back.
set -euo pipefail
server=$1
parley=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "reconnect.sh: $*" >&2; for f in "$work"/*.out "$work"/*.err "$work"/*.log; do echo "--- $f"; cat "$f"; done >&2; exit 1; }
wait_for() {  # wait_for DESCRIPTION COMMAND...: bounded wait on a condition
  local what=$1
  shift
  for _ in $(seq 1 300); do "$@" && return 0; sleep 0.05; done
  fail "timed out waiting for $what"
}
start_server() {
  "$server" --listen "127.0.0.1:${port:-0}" --http-listen off 2>>"$work/server.log" &
  server_pid=$!
  pids+=("$server_pid")
}

start_server
wait_for "the first server" grep -q "listening on" "$work/server.log"
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
export PARLEY_SERVER=127.0.0.1:$port

"$parley" sub 's.>' --count 2 >"$work/sub.out" 2>"$work/sub.err" &
sub_pid=$!
pids+=("$sub_pid")
mkfifo "$work/chat.in"
"$parley" --name watcher chat --join r.room <"$work/chat.in" >"$work/chat.out" 2>&1 &
chat_pid=$!
pids+=("$chat_pid")
exec 3>"$work/chat.in"
wait_for "both clients subscribed" sh -c "\"$parley\" stats | grep -qx 'subscriptions: 2'"

"$parley" pub s.t before
"$parley" pub r.room before
wait_for "the chat to show the first message" grep -q "#r.room <.*> before" "$work/chat.out"

kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
wait_for "the chat to notice" grep -q "lost the connection" "$work/chat.out"
echo "typed while away" >&3
wait_for "the line to be kept" grep -q "(pending) #r.room <watcher> typed while away" "$work/chat.out"
start_server
wait_for "both clients back" sh -c "\"$parley\" stats 2>/dev/null | grep -qx 'subscriptions: 2'"
"$parley" pub s.t after
"$parley" pub r.room after
wait_for "sub to finish" sh -c "! kill -0 $sub_pid 2>/dev/null"
wait "$sub_pid" || fail "sub exited non-zero"
grep -q "before" "$work/sub.out" || fail "sub missed the message before the restart"
grep -q "after" "$work/sub.out" || fail "sub missed the message after the restart"
wait_for "the chat to show the second message" grep -q "#r.room <.*> after" "$work/chat.out"
grep -q "reconnected to .* as watcher" "$work/chat.out" || fail "the chat did not say it reconnected"
grep -q "were lost" "$work/chat.out" && fail "the chat said messages were lost, but none were sent while the server was down"
"$parley" history r.room --no-time | grep -q '#r.room <watcher> typed while away' ||
  fail "the line typed while away was not sent: $("$parley" history r.room)"
grep -q "#r.room <watcher> typed while away" "$work/chat.out" || fail "the pending line never came back"
echo "/quit" >&3
exec 3>&-
wait_for "the chat to exit" sh -c "! kill -0 $chat_pid 2>/dev/null"
wait "$chat_pid" || fail "chat exited non-zero"
echo "reconnect.sh: sub and chat resumed after a server restart"
