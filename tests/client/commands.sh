#!/usr/bin/env bash
# The one-shot commands as a user runs them, with their output and exit codes.
# Run by run_with_server.sh, which sets PARLEY_SERVER.
set -euo pipefail
parley=$1
fail() { echo "commands.sh: $*" >&2; exit 1; }
expect_code() {
  local want=$1
  shift
  local got=0
  "$@" >/dev/null 2>&1 || got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}
# Waits (bounded) until the server counts at least N subscriptions.
await_subscriptions() {
  for _ in $(seq 1 200); do
    n=$("$parley" stats | sed -n 's/^subscriptions: //p')
    [ "${n:-0}" -ge "$1" ] && return 0
    sleep 0.05
  done
  fail "subscriptions never reached $1"
}

[[ $("$parley" ping) == pong* ]] || fail "ping"
out=$(mktemp)
"$parley" sub 't.>' --count 3 >"$out" &
sub_pid=$!
await_subscriptions 1
"$parley" pub t.a '{"n":1}'
printf 'line one\nline two\n' | "$parley" --name writer pub t.b
wait "$sub_pid" || fail "sub exited non-zero"
grep -qx '#t.a <guest-[0-9]*> {"n":1}' "$out" || fail "sub output: $(cat "$out")"
grep -qx '#t.b <writer> line one' "$out" || fail "sub output: $(cat "$out")"
grep -qx '#t.b <writer> line two' "$out" || fail "sub output: $(cat "$out")"
"$parley" history t.b | grep -qx '\[2\] <writer> line two' || fail "history"
"$parley" history t.b --limit 1 --json | grep -q '"messages":\[{"op":"msg"' || fail "history --json"
"$parley" topics 't.*' | grep -qx 't.b  members=0  seq=2' || fail "topics: $("$parley" topics)"
"$parley" stats | grep -qx 'msgs_in: 3' || fail "stats"
"$parley" who lobby | wc -l | grep -qx 0 || fail "who of an empty room"
expect_code 1 "$parley" tell nobody hello
expect_code 1 "$parley" pub 'bad..topic' x
expect_code 3 "$parley" --server 127.0.0.1:1 stats
expect_code 1 "$parley" ping --server 127.0.0.1:1 --timeout 1
expect_code 2 "$parley" nonsense
expect_code 2 "$parley" sub
[ "$(printf '{"op":"ping","id":7}\n' | "$parley" raw)" = '{"op":"pong","id":7}' ] || fail "raw"
err=$("$parley" tell nobody hi 2>&1 >/dev/null || true)
[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "errors are one line: $err"
rm -f "$out"
echo "commands.sh: all commands behaved"
