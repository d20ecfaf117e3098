#!/bin/sh
# The image's health check: the server must answer a ping within about 2 s, on the port
# of PARLEY_LISTEN. Plain TCP: `parley ping` (which sends PARLEY_TOKEN when set). With TLS
# on (PARLEY_TLS_CERT set), `openssl s_client` carries a hello and a ping instead, without
# checking the certificate (this only asks whether the server answers); with mutual TLS,
# PARLEY_HEALTHCHECK_CERT and PARLEY_HEALTHCHECK_KEY name a client certificate to use.
port=${PARLEY_LISTEN##*:}
if [ -z "${PARLEY_TLS_CERT:-}" ]; then
  exec parley --server "127.0.0.1:$port" ping --timeout 2
fi
set -- -connect "127.0.0.1:$port" -quiet -no_ign_eof
if [ -n "${PARLEY_HEALTHCHECK_CERT:-}" ]; then
  set -- "$@" -cert "$PARLEY_HEALTHCHECK_CERT" -key "${PARLEY_HEALTHCHECK_KEY:-}"
fi
token=""
[ -n "${PARLEY_TOKEN:-}" ] && token=",\"token\":\"${PARLEY_TOKEN}\""
# s_client ends when its input does, a second after the frames; the pong comes first.
{ printf '{"op":"hello","id":"health"%s}\n{"op":"ping","id":"health"}\n' "$token"; sleep 1; } |
  timeout 3 openssl s_client "$@" 2>/dev/null | grep -q '"op":"pong"'
