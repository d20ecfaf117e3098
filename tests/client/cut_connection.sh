#!/usr/bin/env bash
# A chat client's connection is cut while the others keep talking (the server stays up):
# the client is frozen (SIGSTOP) until the server times it out and closes its connection,
# messages keep flowing meanwhile, and once thawed the client reconnects, resumes with
# `since`, and shows every message exactly once, in order.
set -euo pipefail
server=$1
parley=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "cut_connection.sh: $*" >&2; cat "$work/chat.out" "$work/server.log" >&2; exit 1; }
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 300); do "$@" && return 0; sleep 0.05; done
  fail "timed out waiting for $what"
}
"$server" --listen 127.0.0.1:0 --http-listen off --ping-interval 200ms --ping-timeout 300ms 2>"$work/server.log" &
pids+=($!)
wait_for "the server" grep -q "listening on" "$work/server.log"
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
export PARLEY_SERVER=127.0.0.1:$port

mkfifo "$work/chat.in"
"$parley" --name reader chat --join talk <"$work/chat.in" >"$work/chat.out" 2>&1 &
chat_pid=$!
pids+=("$chat_pid")
exec 3>"$work/chat.in"
wait_for "the reader to join" grep -q "joined #talk" "$work/chat.out"

for i in 1 2 3; do "$parley" --name talker pub talk "m$i"; done
wait_for "the first messages" grep -q "<talker> m3" "$work/chat.out"
kill -STOP "$chat_pid"
for i in 4 5 6; do "$parley" --name talker pub talk "m$i"; done
# The server cuts the frozen reader off (bye timeout): its connection is gone.
wait_for "the server to time the reader out" grep -q "reader) timed out" "$work/server.log"
for i in 7 8 9; do "$parley" --name talker pub talk "m$i"; done
kill -CONT "$chat_pid"
wait_for "the reader to reconnect" grep -q "reconnected to .* as reader" "$work/chat.out"
"$parley" --name talker pub talk m10
wait_for "the last message" grep -q "<talker> m10" "$work/chat.out"

got=$(sed -n 's/^[0-9:]* #talk <talker> //p' "$work/chat.out" | tr '\n' ' ')
[ "$got" = "m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 " ] || fail "messages shown: '$got' (each exactly once, in order)"
grep -q "were lost" "$work/chat.out" && fail "it said messages were lost, but the server kept them"
grep -q -- "-- #talk: [0-9]* missed while away above, live from here --" "$work/chat.out" ||
  fail "no divider between the messages replayed and the live ones"
echo "/quit" >&3
exec 3>&-
wait_for "the reader to exit" sh -c "! kill -0 $chat_pid 2>/dev/null"
wait "$chat_pid" || fail "chat exited non-zero"
echo "cut_connection.sh: every message shown exactly once, in order: $got"
