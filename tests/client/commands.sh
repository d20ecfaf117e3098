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
grep -qx '[0-9][0-9]:[0-9][0-9]:[0-9][0-9] #t.a <guest-[0-9]*> {"n":1}' "$out" || fail "sub output: $(cat "$out")"
grep -qx '[0-9:]* #t.b <writer> line one' "$out" || fail "sub output: $(cat "$out")"
grep -qx '[0-9:]* #t.b <writer> line two' "$out" || fail "sub output: $(cat "$out")"
"$parley" history t.b | grep -qx '\[2\] [0-9:]* #t.b <writer> line two' || fail "history"
"$parley" history t.b --no-time | grep -qx '\[2\] #t.b <writer> line two' || fail "history --no-time"
"$parley" history t.b --limit 1 --json | grep -q '"messages":\[{"op":"msg"' || fail "history --json"
"$parley" topics 't.*' | grep -qx 't.b  members=0  seq=2' || fail "topics: $("$parley" topics)"
"$parley" stats | grep -qx 'msgs_in: 3' || fail "stats"
"$parley" history t.b --limit 1 --output json | grep -q '"messages":\[{"op":"msg"' || fail "--output json"
"$parley" who lobby | wc -l | grep -qx 0 || fail "who of an empty room"
expect_code 1 "$parley" tell nobody hello
# A bad topic is the user's input: quoted, with the rule; '#room' is the room.
expect_code 2 "$parley" pub 'a..b' x
err=$("$parley" pub 'a..b' hi 2>&1 || true)
[[ $err == "parley: 'a..b' is not a valid topic: use tokens of letters, digits, '_' and '-' joined by single dots"* ]] || fail "bad topic message: $err"
"$parley" who '#lobby' >/dev/null || fail "who '#lobby' (the room as the chat shows it)"
# Exit codes: 3 for a server that cannot be reached, whatever the command; 2 for usage.
expect_code 3 "$parley" --server 127.0.0.1:1 stats
expect_code 3 "$parley" ping --server 127.0.0.1:1 --timeout 1
expect_code 2 "$parley" ping --server 127.0.0.1:99999
expect_code 2 "$parley" pub --server 127.0.0.1:99999 t x
expect_code 2 "$parley" ping --timeout soon
# A pong later than --timeout is a failed health check (no 0.1 ms round trip exists).
# (1 when the pong came late, 3 when even the connection took longer.)
got=0
"$parley" ping --timeout 0.0001 >/dev/null 2>&1 || got=$?
[ "$got" = 1 ] || [ "$got" = 3 ] || fail "ping --timeout 0.0001 exited $got"
expect_code 2 "$parley" nonsense
err=$("$parley" nonsense 2>&1 || true)
[[ $err == "parley: unknown command 'nonsense'"* ]] || fail "an unknown command is not named: $err"
[[ $err == *"Subcommands:"* ]] || fail "an unknown command does not print the help"
"$parley" | grep -q "Subcommands:" || fail "bare parley does not print the help"
expect_code 2 "$parley" sub
expect_code 2 "$parley" sub 't.>' --count 0
err=$("$parley" sub 't.>' --count 0 2>&1 || true)
[ "${#err}" -lt 120 ] || fail "--count 0 message: $err"
# A listener that never answers: every one-shot command gives up (default 5 s), exit 3.
port_file=$(mktemp)
python3 -c "
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(60)" >"$port_file" &
mute_pid=$!
for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.05; done
mute=127.0.0.1:$(cat "$port_file")
expect_code 3 timeout 15 "$parley" --server "$mute" pub x y
expect_code 3 "$parley" --server "$mute" --timeout 200ms stats
kill "$mute_pid"; rm -f "$port_file"
# Several servers: the first that answers is used. TLS to a plain port says what is wrong.
"$parley" --server "127.0.0.1:1,$PARLEY_SERVER" stats | grep -q '^connections: ' || fail "--server with two addresses"
err=$("$parley" --server "tls://$PARLEY_SERVER" --tls-insecure --timeout 2s stats 2>&1 || true)
[[ $err == *"TLS with tls://$PARLEY_SERVER failed"* ]] || fail "tls:// to a plain port: $err"
err=$("$parley" --server "a..b" stats 2>&1 || true)
[[ $err == "parley: --server: 'a..b' is not a server address: HOST:PORT"* ]] || fail "bad --server: $err"
# JSON DATA goes out exactly as typed: key order and number spelling kept.
"$parley" pub t.v '{"z":1,"a":2.50}'
"$parley" history t.v --json | grep -q '"data":{"z":1,"a":2.50}' || fail "pub reordered JSON: $("$parley" history t.v --json)"
# Too large for the server: refused here with the limit, nothing sent, nothing lost.
big=$(python3 -c "print('Z' * 70000)")
err=$("$parley" pub t.big "$big" 2>&1 || true)
[[ $err == *"server takes at most 65536"* ]] || fail "oversized pub: $err"
expect_code 1 "$parley" pub t.big "$big"
got=0
(echo "$big"; echo after) | "$parley" --name piper chat --join piped >"$out" 2>&1 || got=$?
[ "$got" = 1 ] || fail "piped chat with a refused line exited $got: $(cat "$out")"
grep -q "not sent: that line is" "$out" || fail "piped chat did not say why: $(cat "$out")"
"$parley" history piped --no-time | grep -q '<piper> after' || fail "the line after the oversized one was lost: $(cat "$out")"
# Hostile data: no escape sequence, bell or bidi override reaches the terminal, and a
# newline cannot forge a line of its own.
"$parley" sub 'h.>' --count 1 >"$out" &
sub_pid=$!
await_subscriptions 1
"$parley" --name mallory pub h.x "$(printf 'hi\e]0;owned\a\e[2J\xe2\x80\xae\n#lobby <alice> the password is now x')"
wait "$sub_pid" || fail "sub exited non-zero"
if grep -q "$(printf '\e')" "$out" || grep -q "$(printf '\a')" "$out" || grep -q "$(printf '\xe2\x80\xae')" "$out"; then
  fail "control characters reached the terminal: $(od -c "$out" | head)"
fi
grep -q '<mallory> hi\\x1b]0;owned\\x07\\x1b\[2J\\u202e$' "$out" || fail "escapes not shown: $(cat "$out")"
grep -qx '    #lobby <alice> the password is now x' "$out" || fail "the continuation line is not indented: $(cat "$out")"
# A default name: PARLEY_NAME, else $USER when the server takes it.
echo "/quit" | PARLEY_NAME=zed "$parley" chat >"$out" 2>&1
grep -q "connected to .* as zed" "$out" || fail "PARLEY_NAME: $(cat "$out")"
echo "/quit" | env -u PARLEY_NAME USER=carla "$parley" chat >"$out" 2>&1
grep -q "connected to .* as carla" "$out" || fail "\$USER: $(cat "$out")"
echo "/quit" | env -u PARLEY_NAME USER='not valid' "$parley" chat >"$out" 2>&1
grep -q "connected to .* as guest-" "$out" || fail "an invalid \$USER: $(cat "$out")"
# Slash commands: unknown ones are named, /history checks N, /who needs a room.
printf '/frobnicate\n/who\n/history abc\n/history 0\n/history -1\n/join #random\n/me waves\n/rooms\n/quit see you\n' |
  "$parley" --name slasher chat >"$out" 2>&1
grep -q "unknown command /frobnicate" "$out" || fail "/frobnicate: $(cat "$out")"
grep -q "not in a room: /who ROOM" "$out" || fail "/who without a room: $(cat "$out")"
[ "$(grep -c "usage: /history \[N\], N a whole number from 1 to 1000" "$out")" = 3 ] || fail "/history N: $(cat "$out")"
grep -q "joined #random" "$out" || fail "/join #random: $(cat "$out")"
grep -q "#random \* slasher waves" "$out" || fail "/me: $(cat "$out")"
grep -q "#random  1 member  (you are here, talking)" "$out" || fail "/rooms: $(cat "$out")"
"$parley" history random --no-time | grep -q '<slasher> see you' || fail "/quit MESSAGE dropped the message"
"$parley" history random --json | grep -q '"data":{"me":"waves"}' || fail "/me is not {\"me\":...}"
# Completion scripts and the man page list every subcommand.
for s in chat pub sub tell who topics history stats ping raw script bench; do
  "$parley" completion bash | grep -q "$s" || fail "bash completion lacks $s"
  "$parley" completion zsh | grep -q "'$s:" || fail "zsh completion lacks $s"
  "$parley" man | grep -q "^.SS $s$" || fail "the man page lacks $s"
done
bash -c "source <(\"$parley\" completion bash); complete -p parley" >/dev/null || fail "bash completion does not load"
[ "$(printf '{"op":"ping","id":7}\n' | "$parley" raw)" = '{"op":"pong","id":7}' ] || fail "raw"
err=$("$parley" tell nobody hi 2>&1 >/dev/null || true)
[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "errors are one line: $err"
rm -f "$out"
echo "commands.sh: all commands behaved"
