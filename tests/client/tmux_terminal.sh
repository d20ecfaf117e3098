#!/usr/bin/env bash
# The chat in a real terminal 60 columns wide (tmux): a line longer than the pane wraps and
# redraws in place (typing past the edge, a paste of 2000 characters, a resize while a long
# line is typed), Ctrl-L redraws, hostile messages cannot drive the terminal, presence
# arrives collapsed, and TERM=dumb gets no colours.
set -euo pipefail
server=$1
parley=$2
session=parley_term_$$
# shellcheck source=tmux_lib.sh
source "$(dirname "$0")/tmux_lib.sh"
export PARLEY_SERVER=127.0.0.1:$port
prompts() { screen alice | grep -c '#lobby>' || true; }
# tmux reflows its screen at once but tells the program (the pty's size, SIGWINCH) a little
# later; a key typed in between meets two different widths, as no real user's would.
resize() {  # resize COLUMNS: resize the pane and wait until the pty has the new size
  tmux resize-window -t "$session:alice" -x "$1" -y 30
  local tty
  tty=$(tmux display-message -p -t "$session:alice" '#{pane_tty}')
  for _ in $(seq 1 100); do [ "$(stty -F "$tty" size | cut -d' ' -f2)" = "$1" ] && return 0; sleep 0.05; done
  fail "the pane never became $1 columns wide"
}
# A redraw may be under way when we look: wait (bounded) for exactly one prompt.
one_prompt() {
  for _ in $(seq 1 100); do [ "$(prompts)" = 1 ] && return 0; sleep 0.05; done
  fail "$1 left $(prompts) prompts"
}

tmux new-session -d -s "$session" -n alice -x 60 -y 30 \
  "TERM=xterm-256color $parley --name alice chat --join lobby; echo EXIT=\$?; sleep 60"
wait_screen alice "#lobby>"

# Typing past the edge: 150 characters wrap onto three rows, one prompt, no copies.
long=$(printf 'w%.0s' $(seq 1 150))
tmux send-keys -t "$session:alice" -l "$long"
wait_screen alice "$(printf 'w%.0s' $(seq 1 60))"
one_prompt "typing past the edge"
# A message arrives while the long line is typed: it goes above, the line stays whole.
"$parley" --name bob pub lobby "while you type"
wait_screen alice "<bob> while you type"
one_prompt "a message over a wrapped line"
[ "$(screen alice | tr -d '\n' | grep -o 'w*' | awk '{ if (length($0) > m) m = length($0) } END { print m }')" = 150 ] ||
  fail "the wrapped line is not whole"
# Shrink the pane while the long line is there, then grow it: redrawn in place each time.
# (The client reads the width at every redraw, so no wait for SIGWINCH is needed.)
resize 40
tmux send-keys -t "$session:alice" -l "x"
wait_screen alice "wx"
one_prompt "a resize"
resize 60
tmux send-keys -t "$session:alice" -l "y"
wait_screen alice "wxy"
one_prompt "growing the pane"
tmux send-keys -t "$session:alice" C-u
# A paste of 2000 characters: one prompt, and the whole line is sent.
paste=$(printf 'p%.0s' $(seq 1 2000))
tmux send-keys -t "$session:alice" -l "$paste"
tmux send-keys -t "$session:alice" Enter
for _ in $(seq 1 200); do "$parley" history lobby --no-time | grep -q "<alice> $paste" && break; sleep 0.05; done
"$parley" history lobby --no-time | grep -q "<alice> $paste" || fail "the pasted line was not sent whole"
wait_screen alice "ppp"
one_prompt "the paste"
[ "$(screen alice | grep -v '^$' | tail -1)" = "#lobby>" ] || fail "the prompt is not empty after the paste was sent"
# Ctrl-L clears the screen and draws the prompt again, the typed line kept.
tmux send-keys -t "$session:alice" -l "kept"
tmux send-keys -t "$session:alice" C-l
wait_screen alice "#lobby> kept"
# What is left is the status row (server, name, round trip) and the prompt.
[ "$(screen alice | grep -c .)" = 2 ] || fail "Ctrl-L did not clear the screen"
screen alice | head -1 | grep -q "^ parley | 127.0.0.1:$port as alice | round trip [0-9.]* ms" ||
  fail "no status row above the prompt"
tmux send-keys -t "$session:alice" C-u
# Wide characters take two columns: 40 of them after "#lobby> " (8 columns) fill the first
# row exactly (8 + 26 x 2 = 60) and put 14 on the second, the cursor at column 28.
wide=$(printf '\xe4\xb8\xad%.0s' $(seq 1 40))
tmux send-keys -t "$session:alice" -l "$wide"
wait_screen alice "$(printf '\xe4\xb8\xad%.0s' $(seq 1 26))"
for _ in $(seq 1 200); do
  [ "$(tmux display-message -p -t "$session:alice" '#{cursor_x}')" = 28 ] && break
  sleep 0.05
done
[ "$(tmux display-message -p -t "$session:alice" '#{cursor_x}')" = 28 ] ||
  fail "the cursor after 40 wide characters is at column $(tmux display-message -p -t "$session:alice" '#{cursor_x}'), not 28"
one_prompt "wide characters"
tmux send-keys -t "$session:alice" C-u

# A hostile publisher: no title, no clearing, no colours, no forged line.
"$parley" --name bob pub lobby "before the attack"
wait_screen alice "<bob> before the attack"
"$parley" --name mallory pub lobby "$(printf 'x\e]2;owned\a\e[2J\e[31mred\n#lobby <carol> forged')"
wait_screen alice "<mallory> x\\x1b]2;owned\\x07\\x1b[2J\\x1b[31mred"
wait_screen alice "    #lobby <carol> forged"
[ "$(tmux display-message -p -t "$session:alice" '#{pane_title}')" != owned ] || fail "the title was set"
screen alice | grep -q "before the attack" || fail "the screen was cleared by a message"
if tmux capture-pane -e -p -t "$session:alice" | grep -F "forged" | grep -q $'\e\[31m'; then fail "a message recoloured the text"; fi

# Three people arriving at once are one line.
tmux new-window -d -t "$session" -n three \
  "for who in fay dan eve; do sleep 60 | $parley --name \$who chat --join lobby & done; sleep 60"
wait_screen alice "* dan, eve and fay joined #lobby"

# Tab completes names and commands.
tmux send-keys -t "$session:alice" -l "/jo"
tmux send-keys -t "$session:alice" Tab
wait_screen alice "#lobby> /join"
tmux send-keys -t "$session:alice" C-u
tmux send-keys -t "$session:alice" -l "ev"
tmux send-keys -t "$session:alice" Tab
wait_screen alice "#lobby> eve:"
tmux send-keys -t "$session:alice" C-u "/quit" Enter
wait_screen alice "EXIT=0"

# TERM=dumb: no colour codes at all, even for names; a capable terminal gets them.
tmux new-window -d -t "$session" -n dumb "TERM=dumb $parley --name dumbo chat --join lobby; sleep 60"
tmux new-window -d -t "$session" -n colour "TERM=xterm-256color $parley --name gil chat --join lobby; sleep 60"
wait_screen dumb "#lobby>"
wait_screen colour "#lobby>"
"$parley" --name bob pub lobby "colours?"
wait_screen dumb "<bob> colours?"
wait_screen colour "<bob> colours?"
tmux capture-pane -e -p -t "$session:colour" | grep -q $'\e\[3[1-6]m' || fail "no colours on a capable terminal"
if tmux capture-pane -e -p -t "$session:dumb" | grep -q $'\e\[3[1-6]m'; then fail "colours with TERM=dumb"; fi
echo "tmux_terminal.sh: long lines wrap and redraw in place at 60 and 40 columns, pastes, Ctrl-L, hostile text, collapsed presence, completion, TERM=dumb"
