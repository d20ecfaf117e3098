#!/usr/bin/env bash
# Container test: builds the image, runs the server in it and drives it from the host and
# from a second container, checks the health check and the PARLEY_* configuration, then
# stops the server with SIGTERM and checks that connected clients got bye and the exit code
# is 0. Every container, network and image it makes is removed at the end, also when a
# step fails or the test is interrupted.
#
# Usage: docker/test.sh [CLIENT]
#   CLIENT            the host's parley binary (default: build/dev/client/parley, then
#                     build/release/client/parley, then parley on PATH)
#   CONTAINER_ENGINE  podman or docker (default: podman when installed, else docker)
# With podman and no registry, make the base images first (README, "Container").
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

say() { echo "container test: $*"; }
elapsed() { echo "$(($(date +%s) - started)) s"; }
# podman prints these harmless lines when there is no systemd or syslog; keep them out.
quiet() { grep -v -e "unable to get systemd connection" -e "failed to connect to syslog" || true; }

engine=${CONTAINER_ENGINE:-$(command -v podman || command -v docker || true)}
[ -n "$engine" ] || { say "neither podman nor docker is installed"; exit 1; }
is_podman=false
[[ $(basename "$engine") == podman* ]] && is_podman=true

client=${1:-}
if [ -z "$client" ]; then
  for candidate in build/dev/client/parley build/release/client/parley "$(command -v parley || true)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { client=$candidate; break; }
  done
fi
if [ -z "$client" ] || [ ! -x "$client" ]; then
  say "no parley client binary (build it first, or pass its path)"
  exit 1
fi
client=$(cd "$(dirname "$client")" && pwd)/$(basename "$client")

# Everything this run makes carries its process id, so parallel runs never collide and
# cleanup touches nothing else.
id=$$
tag=localhost/parley-test:$id
label=org.parley.container-test=$id
network=parley-test-net-$id
server=parley-test-server-$id
configured=parley-test-configured-$id
watcher=parley-test-watcher-$id
scratch=parley-test-client-$id
containers=("$server" "$configured" "$watcher" "$scratch")
marker=parley-container-test-$id-$started
work=$(mktemp -d)
building=false

cleanup() {
  # Best effort, every step: nothing here may stop the rest.
  set +e
  trap - ERR
  local pid c
  exec 3>&- 4>&-
  # Stop what runs in the background (the build, clients) and give it 30 s to finish.
  local pids
  pids=$(jobs -p)
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  for pid in $pids; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # One at a time: podman 4.3 removes nothing when one of several names does not exist.
  for c in "${containers[@]}"; do
    "$engine" rm -f -t 0 "$c" >/dev/null 2>&1 || "$engine" rm -f "$c" >/dev/null 2>&1 || true
  done
  if $building && $is_podman; then
    # Working containers of the interrupted build: the ones that carry this run's marker.
    local store cid
    store=$("$engine" info --format '{{.Store.GraphRoot}}/{{.Store.GraphDriverName}}-containers' 2>/dev/null || true)
    if [ -n "$store" ]; then
      grep -l -F -- "$marker" "$store"/*/userdata/buildah.json 2>/dev/null | awk -F/ '{print $(NF-2)}' \
        | while read -r cid; do "$engine" rm -f "$cid" >/dev/null 2>&1; done
    fi
  fi
  "$engine" network rm "$network" >/dev/null 2>&1 || true
  # The label is on the image and, with builders that keep them, on the build stage's too.
  local image
  for image in "$tag" $("$engine" images -a -q --filter "label=$label" 2>/dev/null | sort -u); do
    "$engine" rmi -f "$image" >/dev/null 2>&1 || true
  done
  rm -rf "$work" || true
}
trap cleanup EXIT
failing=false
fail() {
  $failing && exit 1
  failing=true
  say "FAILED: $*"
  local c
  for c in "$server" "$configured"; do
    if "$engine" container exists "$c" >/dev/null 2>&1 || "$engine" inspect "$c" >/dev/null 2>&1; then
      echo "--- last log lines of $c:"
      "$engine" logs "$c" 2>&1 | quiet | tail -20
    fi
  done
  say "failed after $(elapsed)"
  exit 1
}
trap 'fail "interrupted"' INT TERM HUP
trap 'fail "unexpected error at line $LINENO: $BASH_COMMAND"' ERR
set -E

# e ARGS...: the container engine, with its noise filtered from stderr.
e() {
  local status=0
  "$engine" "$@" 2>"$work/stderr" || status=$?
  quiet <"$work/stderr" >&2
  return $status
}
# must WHAT COMMAND...: runs the command, fails the test naming WHAT if it fails.
must() {
  local what=$1
  shift
  "$@" || fail "$what"
}
# wait_for WHAT SECONDS COMMAND...: polls the command until it succeeds or time runs out.
wait_for() {
  local what=$1 deadline=$(($(date +%s) + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.2
  done
}
address_of() {
  e inspect "$1" --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}"
}
host_port_of() {
  e port "$1" 7878/tcp | head -1 | sed 's/.*://'
}
# in_container NAME ENV... -- PARLEY_ARGS...: runs `parley PARLEY_ARGS` in a new container of
# the image on the test network, with tests/scripts copied to /scripts (copied, not
# mounted: works with a remote engine and with SELinux); returns parley's exit code.
in_container() {
  local name=$1 env=()
  shift
  while [ "$1" != "--" ]; do env+=(-e "$1"); shift; done
  shift
  e create --name "$name" --network "$network" "${env[@]}" --entrypoint parley "$tag" "$@" >/dev/null
  e cp tests/scripts "$name:/scripts"
  local status=0
  e start -a "$name" || status=$?
  e rm -f "$name" >/dev/null
  return $status
}
not_running() { ! kill -0 "$1" 2>/dev/null; }
# log_of NAME: saves the container's log (stdout and stderr) to a file and prints its path.
log_of() {
  e logs "$1" >"$work/$1.log" 2>&1 || true
  echo "$work/$1.log"
}
healthy() {
  if $is_podman; then "$engine" healthcheck run "$1" >/dev/null 2>&1 || return 1; fi
  [ "$("$engine" inspect "$1" --format '{{.State.Health.Status}}' 2>/dev/null)" = healthy ]
}
# The scenario scripts expect a fresh server; the history one lists every topic, so it
# goes first. limits.pscript needs a server with small limits: step 3 configures one.
host_scripts=()
box_scripts=()
for name in history_resume chat_presence pubsub_wildcards queue_groups tell errors; do
  host_scripts+=("tests/scripts/$name.pscript")
  box_scripts+=("/scripts/$name.pscript")
done
indent() { sed -u 's/^/    /'; }

say "engine $engine, client $client"

say "1. building the image $tag (the unit tests run in the build; 2-3 min on 2 cores) ($(elapsed))"
build_flags=(--label "$label" -t "$tag")
# Local base images, and no cached build stage left behind: one image per run.
# The build argument (unused by the Dockerfile) marks buildah's working containers, which
# an interrupted podman build leaves behind.
$is_podman && build_flags+=(--pull=never --format docker --layers=false --build-arg "PARLEY_TEST_RUN=$marker")
# In the background, so that an interrupt is handled at once and stops the build too.
: >"$work/build.log"
building=true
BUILDKIT_PROGRESS=plain timeout 2400 "$engine" build "${build_flags[@]}" . >"$work/build.log" 2>&1 &
build=$!
tail -n +1 -f --pid="$build" "$work/build.log" \
  | sed -u -nE 's/^((\[[0-9]+\/[0-9]+\] )?(STEP|Step) [0-9]+\/[0-9]+: .{0,80}).*/    \1/p' &
progress=$!
status=0
wait "$build" || status=$?
building=false
wait "$progress" || true
if [ "$status" != 0 ]; then
  quiet <"$work/build.log" | tail -40
  fail "the image build (exit code $status)"
fi
grep -E 'tests passed, [0-9]+ tests failed' "$work/build.log" | sed -E 's/^(#[0-9]+ [0-9.]+ )?/    unit tests in the build: /' || true
size=$(e image inspect "$tag" --format '{{.Size}}')
base=$(e image inspect debian:bookworm-slim --format '{{.Size}}' 2>/dev/null || echo 0)
mb() { echo "$((($1 + 500000) / 1000000)) MB"; }
say "   image size $(mb "$size") (base debian:bookworm-slim $(mb "$base"), ours $(mb $((size - base))))"

say "2. starting the server container, port 7878 published on 127.0.0.1 ($(elapsed))"
must "creating network $network" e network create "$network" >/dev/null
must "starting the server container" \
  e run -d --name "$server" --network "$network" -p 127.0.0.1::7878 -p 127.0.0.1::7880 "$tag" >/dev/null
port=$(host_port_of "$server")
[ -n "$port" ] || fail "no published port"
http_port=$(e port "$server" 7880/tcp | head -1 | sed 's/.*://')
[ -n "$http_port" ] || fail "no published HTTP port"
export PARLEY_SERVER=127.0.0.1:$port
wait_for "the server to answer on 127.0.0.1:$port" 30 "$client" ping --timeout 1
uid=$(e exec "$server" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
grep -q "listening on 0.0.0.0:7878" "$(log_of "$server")" || fail "the server does not say it listens on 0.0.0.0:7878"
say "   listening on 0.0.0.0:7878 in the container as uid $uid, 127.0.0.1:$port on the host"
# The HTTP listener of the image's default configuration: health, the chat page, metrics.
http=http://127.0.0.1:$http_port
wait_for "GET /healthz on $http" 30 curl -fsS --max-time 2 "$http/healthz"
# Whole bodies first: grep -q would stop reading early and fail curl (pipefail).
page=$(curl -fsS --max-time 5 "$http/") || fail "GET / failed"
[[ $page == *"<title>Parley</title>"* ]] || fail "GET / did not return the chat page"
metrics=$(curl -fsS --max-time 5 "$http/metrics") || fail "GET /metrics failed"
grep -q "^parley_connections" <<<"$metrics" || fail "GET /metrics has no parley_connections"
say "   HTTP on 0.0.0.0:7880: /healthz answers, / is the chat page, /metrics has the gauges"

say "3. ping and the scenario scripts from the host ($(elapsed))"
must "parley ping from the host" "$client" ping
if ! "$client" script "${host_scripts[@]}" 2>&1 | indent; then
  fail "the scenario scripts from the host"
fi

say "   again from a second container on $network, after a restart for fresh state ($(elapsed))"
must "restarting the server container" e restart -t 10 "$server" >/dev/null
port=$(host_port_of "$server")
export PARLEY_SERVER=127.0.0.1:$port
wait_for "the restarted server to answer" 30 "$client" ping --timeout 1
ip=$(address_of "$server")
[ -n "$ip" ] || fail "the server has no address on $network"
if ! in_container "$scratch" -- --server "$ip:7878" ping 2>&1 | indent; then
  fail "parley ping from a second container"
fi
if ! in_container "$scratch" -- --server "$ip:7878" script "${box_scripts[@]}" 2>&1 | indent; then
  fail "the scenario scripts from a second container"
fi

say "   configuration from PARLEY_* variables: port 9000, small limits, JSON logs ($(elapsed))"
must "starting a configured server" \
  e run -d --name "$configured" --network "$network" -e PARLEY_LISTEN=0.0.0.0:9000 \
  -e PARLEY_MAX_SUBS=2 -e PARLEY_RATE=1 -e PARLEY_RATE_BURST=2 -e PARLEY_MAX_FRAME=256 \
  -e PARLEY_LOG_FORMAT=json "$tag" >/dev/null
# The health check follows the port in PARLEY_LISTEN.
wait_for "the configured server's health check" 30 healthy "$configured"
configured_ip=$(address_of "$configured")
if ! in_container "$scratch" -- --server "$configured_ip:9000" script /scripts/limits.pscript 2>&1 | indent; then
  fail "limits.pscript against the configured server"
fi
head -1 "$(log_of "$configured")" | grep -q '^{"ts":' || fail "PARLEY_LOG_FORMAT=json: the log is not JSON"
must "removing the configured server" e rm -f "$configured" >/dev/null
say "   a shared token: the health check sends it, requests without it are refused"
must "starting a server with a token" \
  e run -d --name "$configured" --network "$network" -e "PARLEY_TOKEN=secret-$id" "$tag" >/dev/null
wait_for "the token server's health check" 30 healthy "$configured"
token_ip=$(address_of "$configured")
# (ping needs no hello, so `parley topics` is the request that shows the token matters.)
must "parley topics with the token" \
  in_container "$scratch" "PARLEY_TOKEN=secret-$id" -- --server "$token_ip:7878" topics >/dev/null
if in_container "$scratch" -- --server "$token_ip:7878" topics >/dev/null 2>&1; then
  fail "a request without the token was answered"
fi
must "removing the token server" e rm -f "$configured" >/dev/null
say "   accounts: the users file from a file, a password login, a wrong password refused"
mkdir -p "$work/config"
hash=$(echo "pass-$id" | "$client" passwd) || fail "parley passwd"
printf '{"users": [{"name": "alice", "password": "%s", "subscribe": ["chat.>"]}]}\n' "$hash" \
  >"$work/config/users.json"
chmod 644 "$work/config/users.json"  # the server runs as user 10001
must "creating a server with accounts" e create --name "$configured" --network "$network" \
  -e PARLEY_USERS=/config/users.json "$tag" >/dev/null
must "copying the users file in" e cp "$work/config" "$configured:/config"
must "starting the server with accounts" e start "$configured" >/dev/null
wait_for "the accounts server's health check" 30 healthy "$configured"
accounts_ip=$(address_of "$configured")
must "alice's login with her password" in_container "$scratch" "PARLEY_PASSWORD=pass-$id" -- \
  --server "$accounts_ip:7878" --name alice topics >/dev/null
if in_container "$scratch" "PARLEY_PASSWORD=wrong-$id" -- --server "$accounts_ip:7878" \
  --name alice topics >/dev/null 2>&1; then
  fail "a wrong password was accepted"
fi
must "removing the accounts server" e rm -f "$configured" >/dev/null
say "   TLS: certificate and key from files, the health check over TLS, plain TCP refused"
mkdir -p "$work/certs"
must "making a test certificate" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -nodes -days 2 -keyout "$work/certs/server.key" -out "$work/certs/server.pem" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1
chmod 644 "$work/certs/server.key"  # the server runs as user 10001
# Copied in before the start rather than mounted (a remote engine, SELinux); a mount
# (-v DIR:/certs:ro) is what a deployment uses, as docker/compose.yaml shows.
must "creating a TLS server" e create --name "$configured" --network "$network" \
  -e PARLEY_TLS_CERT=/certs/server.pem -e PARLEY_TLS_KEY=/certs/server.key "$tag" >/dev/null
must "copying the certificate in" e cp "$work/certs" "$configured:/certs"
must "starting the TLS server" e start "$configured" >/dev/null
wait_for "the TLS server's health check" 30 healthy "$configured"
tls_ip=$(address_of "$configured")
if in_container "$scratch" -- --server "$tls_ip:7878" ping --timeout 2 >/dev/null 2>&1; then
  fail "a plain-TCP ping was answered on the TLS listener"
fi
must "removing the TLS server" e rm -f "$configured" >/dev/null

say "4. the health check ($(elapsed))"
wait_for "the health check to report healthy" 60 healthy "$server"
say "   $server: $(e inspect "$server" --format '{{.State.Health.Status}}')"

say "5. SIGTERM: connected clients get bye, the server drains and exits 0 ($(elapsed))"
mkfifo "$work/host.in" "$work/box.in"
"$client" --name host-watcher raw <"$work/host.in" >"$work/host.out" 2>&1 &
host_watcher=$!
exec 3>"$work/host.in"
echo '{"op":"join","topic":"lobby","id":"watch"}' >&3
"$engine" run -i --name "$watcher" --network "$network" --entrypoint parley "$tag" \
  --server "$ip:7878" --name box-watcher raw <"$work/box.in" >"$work/box.out" 2>"$work/box.err" &
box_watcher=$!
exec 4>"$work/box.in"
echo '{"op":"join","topic":"lobby","id":"watch"}' >&4
wait_for "the host client to join" 15 grep -q '"op":"joined"' "$work/host.out"
wait_for "the client in a container to join" 30 grep -q '"op":"joined"' "$work/box.out"
stop_started=$(date +%s)
must "stopping the server" e stop -t 15 "$server" >/dev/null
stop_took=$(($(date +%s) - stop_started))
code=$(e inspect "$server" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "the server's exit code is $code after docker stop (took $stop_took s)"
bye='{"op":"bye","reason":"shutdown"}'
wait_for "bye at the host client" 10 grep -qF "$bye" "$work/host.out"
wait_for "bye at the client in a container" 10 grep -qF "$bye" "$work/box.out"
# The server closed the connections; with their input closed too, both clients end.
exec 3>&- 4>&-
wait_for "the host client to end" 10 not_running "$host_watcher"
wait_for "the client in a container to end" 30 not_running "$box_watcher"
wait "$host_watcher" "$box_watcher" || true
server_log=$(log_of "$server")
drained=$(sed -nE 's/.*shutting down: ([0-9]+) sessions to drain.*/\1/p' "$server_log" | tail -1)
[ "${drained:-0}" -ge 2 ] || fail "the server did not drain both sessions (log says: ${drained:-nothing})"
grep -q "sessions served" "$server_log" || fail "no shutdown summary in the server's log"
say "   both clients got $bye; exit code $code; stop took $stop_took s"

say "6. cleaning up ($(elapsed))"
cleanup
trap - EXIT
left=$({ "$engine" ps -a --format '{{.Names}}' | grep -- "-$id\$"
         "$engine" network ls --format '{{.Name}}' | grep -x -- "$network"
         "$engine" images -a -q --filter "label=$label"; } 2>/dev/null || true)
[ -z "$left" ] || fail "left behind: $left"
say "   no container, network or image of this run is left"
say "passed in $(elapsed) (image $(mb "$size"))"
