#!/usr/bin/env bash
# Runs a script that must fail: exit code 1, the failing line and what arrived on stderr.
set -uo pipefail
run_with_server=$1 server=$2 parley=$3 script=$4
err=$(mktemp)
"$run_with_server" "$server" "$parley" script "$script" 2>"$err" >/dev/null
code=$?
cat "$err"
grep -q "failing.pscript:4: expect c" "$err" || { echo "no line number in the report"; exit 1; }
grep -q '"op":"pong","id":1' "$err" || { echo "what arrived is not shown"; exit 1; }
[ "$code" = 1 ] || { echo "exit code $code, expected 1"; exit 1; }
rm -f "$err"
