#!/usr/bin/env bash
# Two chat clients in a real terminal (tmux): a message arrives while the other has a
# half-typed line, the line survives intact, and /quit exits 0.
set -euo pipefail
server=$1
parley=$2
session=parley_chat_$$
# shellcheck source=tmux_lib.sh
source "$(dirname "$0")/tmux_lib.sh"

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
