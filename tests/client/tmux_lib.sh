# Shared by the tmux tests: sourced after `server`, `parley` and `session` are set. Starts
# the server on an ephemeral port in $work, sets `port`, and defines screen/fail/wait_screen.
command -v tmux >/dev/null || { echo "$(basename "$0"): tmux is not installed"; exit 77; }
# A tmux server of our own: windows get this test's environment, not another test's.
tmux() { command tmux -L "$session" "$@"; }
work=$(mktemp -d)
"$server" --listen 127.0.0.1:0 --http-listen off 2>"$work/server.log" &
server_pid=$!
cleanup() { tmux kill-server 2>/dev/null || true; kill -9 "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
screen() { tmux capture-pane -p -t "$session:$1"; }
fail() {
  echo "$(basename "$0"): $*"
  for w in $(tmux list-windows -t "$session" -F '#W' 2>/dev/null); do echo "--- $w"; screen "$w"; done
  exit 1
} >&2
wait_screen() {  # wait_screen PANE TEXT: bounded wait until the pane shows TEXT
  for _ in $(seq 1 200); do screen "$1" | grep -qF -- "$2" && return 0; sleep 0.05; done
  fail "$1 never showed: $2"
}
for _ in $(seq 1 200); do grep -q "listening on" "$work/server.log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
[ -n "$port" ] || fail "server did not start"
