#!/usr/bin/env bash
# parley bench as a user runs it: counts, JSON output and exit codes.
# Run by run_with_server.sh, which sets PARLEY_SERVER.
set -euo pipefail
parley=$1
fail() { echo "bench.sh: $*" >&2; exit 1; }
expect_code() {
  local want=$1
  shift
  local got=0
  "$@" >/dev/null 2>&1 || got=$?
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}
# Prints field $2 of the one JSON object in $1, via python3.
field() {
  python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# A fixed message count: every subscriber gets every message.
code=0
out=$("$parley" bench --pubs 2 --subs 3 --msgs 20000 --json) || code=$?
[ "$code" = 0 ] || fail "bench --msgs exited $code: $out"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "--json printed more than one line: $out"
[ "$(field "$out" published)" = 20000 ] || fail "published: $out"
[ "$(field "$out" delivered)" = 60000 ] || fail "delivered: $out"
[ "$(field "$out" lost)" = 0 ] || fail "lost: $out"
[ "$(field "$out" errors)" = 0 ] || fail "errors: $out"
[ "$(field "$out" ok)" = True ] || fail "ok: $out"
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
lat = j["latency_us"]
assert j["delivered_msgs_s"] > 0 and j["elapsed_s"] > 0, j
assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"], lat
' "$out" || fail "rates or percentiles: $out"

# The server runs on this machine: bench finds its process by the listening port and
# reports its CPU over the measured phase (and nothing when told not to look).
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
server = j["server"]
assert server["pid"] == int(sys.argv[2]), server
assert server["cpu_s"] >= 0 and server["cpu_ns_per_delivery"] >= 0, server
assert abs(server["cpu_ns_per_delivery"] - server["cpu_s"] * 1e9 / j["delivered"]) < 1, server
' "$out" "$PARLEY_TEST_SERVER_PID" || fail "server CPU: $out"
out=$("$parley" bench --pubs 1 --subs 1 --msgs 100 --server-pid -1 --json)
[[ $out != *'"server"'* ]] || fail "--server-pid -1 still read the server: $out"
expect_code 2 "$parley" bench --server-pid -2

# A timed, paced run: about 2000 msg/s for about a second.
code=0
out=$("$parley" bench --pubs 1 --subs 2 --duration 1 --rate 2000 --json) || code=$?
[ "$code" = 0 ] || fail "bench --duration exited $code: $out"
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert 1500 <= j["published"] <= 2500, j
assert j["delivered"] == 2 * j["published"] and j["lost"] == 0, j
assert 1500 <= j["publish_msgs_s"] <= 2500, j
' "$out" || fail "paced run: $out"

# The readable summary names the figures.
summary=$("$parley" bench --pubs 1 --subs 1 --msgs 1000 --topic bench.readable)
grep -q '^delivered 1000 of 1000' <<<"$summary" || fail "summary: $summary"
grep -q '^latency us: p50' <<<"$summary" || fail "summary: $summary"

# Several servers: publishers on the first, subscribers in turn over all (bench_spread.hpp).
# The same server under two spellings: every subscriber gets every message, and the CPU
# reported is the first address's process.
port=${PARLEY_SERVER##*:}
code=0
out=$("$parley" --server "$PARLEY_SERVER,localhost:$port" bench --subs 4 --msgs 5000 --json) || code=$?
[ "$code" = 0 ] || fail "bench on two addresses exited $code: $out"
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["delivered"] == 4 * 5000 and j["lost"] == 0, j
assert j["server"]["pid"] == int(sys.argv[2]), j
' "$out" "$PARLEY_TEST_SERVER_PID" || fail "two addresses: $out"
# A second address nobody listens on: one subscriber stays on the first and the run is
# clean; a second subscriber goes to the second address, which is unreachable (exit 3).
expect_code 0 "$parley" --server "$PARLEY_SERVER,127.0.0.1:1" bench --subs 1 --msgs 100
expect_code 3 "$parley" --server "$PARLEY_SERVER,127.0.0.1:1" bench --subs 2 --msgs 100

# Bad options exit 2, an unreachable server 3.
expect_code 2 "$parley" bench --pubs 0
expect_code 2 "$parley" bench --size 10
expect_code 2 "$parley" bench --msgs 10 --duration 1
expect_code 2 "$parley" bench --nonsense
expect_code 2 "$parley" bench --topic 'bad..topic' --msgs 10
expect_code 3 "$parley" --server 127.0.0.1:1 bench --msgs 10
echo "bench.sh: parley bench behaved"
