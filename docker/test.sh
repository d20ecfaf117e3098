#!/usr/bin/env bash
# Container test: build the image, run the server in it, drive it from the host and from a
# second container, check the health check, stop it with SIGTERM and check the drain.
# Works with podman (rootful, local base images: ../shared/tools/container-env) or docker.
# Usage: docker/test.sh [PARLEY_CLIENT_BINARY]   (default: build/dev/client/parley)
# Cleans up every container, network and image it made, also when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
engine=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
[ -n "$engine" ] || { echo "container test: neither podman nor docker is installed" >&2; exit 1; }
client=${1:-build/dev/client/parley}
[ -x "$client" ] || { echo "container test: no client binary at $client (build first)" >&2; exit 1; }

tag=parley:test-$$
server=parley-server-$$
network=parley-net-$$
work=$(mktemp -d)
step() { echo "container test: $* ($(($(date +%s) - started)) s)"; }
quiet() { grep -v "unable to get systemd connection" || true; }
cleanup() {
  if [ -n "${raw_pid:-}" ]; then kill "$raw_pid" 2>/dev/null || true; fi
  "$engine" rm -f "$server" >/dev/null 2>&1 || true
  "$engine" network rm -f "$network" >/dev/null 2>&1 || true
  "$engine" rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work" || true
}
trap cleanup EXIT
fail() { echo "container test: FAILED: $*" >&2; "$engine" logs "$server" 2>&1 | quiet | tail -20 >&2; exit 1; }
# wait_for WHAT SECONDS COMMAND...: polls a condition until a deadline.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}

step "1. building the image"
build_flags=()
[[ $engine == *podman ]] && build_flags=(--pull=never --format docker)
"$engine" build "${build_flags[@]}" -t "$tag" . 2>&1 | quiet | tail -3
size=$("$engine" image inspect "$tag" --format '{{.Size}}')
step "   image size: $((size / 1024 / 1024)) MiB"

step "2. starting the server container with a port on 127.0.0.1"
"$engine" network create "$network" 2>&1 | quiet >/dev/null
"$engine" run -d --name "$server" --network "$network" -p 127.0.0.1::7878 "$tag" 2>&1 | quiet >/dev/null
port=$("$engine" port "$server" 7878/tcp | head -1 | sed 's/.*://')
[ -n "$port" ] || fail "no published port"
export PARLEY_SERVER=127.0.0.1:$port
wait_for "the server to answer" 20 "$client" ping --timeout 1

step "3. ping and the scenario scripts from the host"
"$client" ping
scripts=(tests/scripts/chat_presence.pscript tests/scripts/pubsub_wildcards.pscript tests/scripts/queue_groups.pscript
         tests/scripts/tell.pscript tests/scripts/errors.pscript)
"$client" script "${scripts[@]}" || fail "scripts from the host"

step "   ... and from a second container on the shared network (after a restart: the scripts expect fresh topics)"
"$engine" restart -t 10 "$server" 2>&1 | quiet >/dev/null
port=$("$engine" port "$server" 7878/tcp | head -1 | sed 's/.*://')
export PARLEY_SERVER=127.0.0.1:$port
wait_for "the restarted server to answer" 20 "$client" ping --timeout 1
ip=$("$engine" inspect "$server" --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}")
[ -n "$ip" ] || fail "no address on $network"
"$engine" run --rm --network "$network" --entrypoint parley -v "$PWD/tests/scripts:/scripts:ro" "$tag" \
  --server "$ip:7878" ping 2>&1 | quiet
"$engine" run --rm --network "$network" --entrypoint parley -v "$PWD/tests/scripts:/scripts:ro" "$tag" \
  --server "$ip:7878" script "${scripts[@]/tests\/scripts/\/scripts}" 2>&1 | quiet
[ "${PIPESTATUS[0]}" = 0 ] || fail "scripts from a second container"

step "4. the health check"
"$engine" healthcheck run "$server" 2>&1 | quiet
health=$("$engine" inspect "$server" --format '{{.State.Health.Status}}' 2>/dev/null || echo unknown)
[ "$health" = healthy ] || fail "health is '$health'"
step "   health: $health"

step "5. SIGTERM drains: a connected client gets bye, the exit code is 0"
mkfifo "$work/in"
"$client" raw <"$work/in" >"$work/raw.out" 2>&1 &
raw_pid=$!
exec 3>"$work/in"
echo '{"op":"join","topic":"lobby","id":"j"}' >&3
wait_for "the client to join" 10 grep -q '"op":"joined"' "$work/raw.out"
"$engine" stop -t 10 "$server" 2>&1 | quiet >/dev/null
code=$("$engine" inspect "$server" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code"
wait_for "the client to see the end" 10 grep -q '"reason":"shutdown"' "$work/raw.out"
grep -q '{"op":"bye","reason":"shutdown"}' "$work/raw.out" || fail "no bye: $(cat "$work/raw.out")"
exec 3>&-
"$engine" logs "$server" 2>&1 | quiet | grep -q "sessions served" || fail "no shutdown summary in the log"
step "   exit code $code, bye received"

step "6. cleaning up"
cleanup
trap - EXIT
echo "container test: passed in $(($(date +%s) - started)) s (image $((size / 1024 / 1024)) MiB)"
