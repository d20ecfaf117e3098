#!/usr/bin/env bash
# Scenario scripts are repeatable and isolated: every script passes twice in a row against
# the same server, while people named like the scripts' users (alice, bob, writer) are
# connected and other topics exist. Run by run_with_server.sh, which sets PARLEY_SERVER.
set -euo pipefail
parley=$1
shift
fail() { echo "scripts_twice.sh: $*" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
"$parley" pub other.topic "someone else's"
for who in alice bob writer; do
  mkfifo "$work/$who.in"
  "$parley" --name "$who" chat --join room.general <"$work/$who.in" >"$work/$who.out" 2>&1 &
  pids+=($!)
  exec {fd}>"$work/$who.in"
  for _ in $(seq 1 200); do grep -q "joined #room.general" "$work/$who.out" && break; sleep 0.05; done
  grep -q "joined #room.general" "$work/$who.out" || fail "$who did not join: $(cat "$work/$who.out")"
done
for round in 1 2; do
  "$parley" script "$@" || fail "round $round failed"
done
echo "scripts_twice.sh: every script passed twice beside users named alice, bob and writer"
