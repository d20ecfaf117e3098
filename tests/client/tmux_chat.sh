#!/usr/bin/env bash
# Two chat clients in a real terminal (tmux): a message arrives while the other has a
# half-typed line, the line survives intact, and /quit exits 0.
set -euo pipefail
server=$1
parley=$2
command -v tmux >/dev/null || { echo "tmux_chat.sh: tmux is not installed"; exit 77; }
work=$(mktemp -d)
session=parley_chat_$$
"$server" --listen 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "tmux_chat.sh: $*" >&2; echo "--- alice"; tmux capture-pane -p -t "$session:alice"; echo "--- bob"; tmux capture-pane -p -t "$session:bob"; exit 1; } >&2
screen() { tmux capture-pane -p -t "$session:$1"; }
wait_screen() {  # wait_screen PANE TEXT: bounded wait until the pane shows TEXT
  for _ in $(seq 1 200); do screen "$1" | grep -qF -- "$2" && return 0; sleep 0.05; done
  fail "$1 never showed: $2"
}
for _ in $(seq 1 200); do grep -q "listening on" "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
[ -n "$port" ] || fail "server did not start"

run_chat() { echo "$parley --server 127.0.0.1:$port --name $1 chat --join lobby; echo EXIT=\$?; sleep 60"; }
tmux new-session -d -s "$session" -n alice -x 100 -y 20 "$(run_chat alice)"
wait_screen alice "#lobby>"
tmux new-window -d -t "$session" -n bob "$(run_chat bob)"
wait_screen bob "#lobby>"
wait_screen alice "bob joined #lobby"

tmux send-keys -t "$session:alice" "half typed"
wait_screen alice "#lobby> half typed"
tmux send-keys -t "$session:bob" "hello alice" Enter
wait_screen alice "#lobby <bob> hello alice"
# The message came out above the prompt, and the half-typed line is still there, intact.
[ "$(screen alice | grep -F '#lobby>' | tail -1)" = "#lobby> half typed" ] || fail "the half-typed line was clobbered"
tmux send-keys -t "$session:alice" " line" Enter
wait_screen bob "#lobby <alice> half typed line"
# History recall: up arrow brings the last line back.
tmux send-keys -t "$session:alice" Up
wait_screen alice "#lobby> half typed line"
tmux send-keys -t "$session:alice" C-u "/quit" Enter
wait_screen alice "EXIT=0"
wait_screen bob "alice left #lobby"
tmux send-keys -t "$session:bob" C-d
wait_screen bob "EXIT=0"
screen alice; echo ---; screen bob
echo "tmux_chat.sh: two terminals chatted, the half-typed line survived, /quit exited 0"
