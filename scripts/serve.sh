#!/usr/bin/env bash
# Builds parley-server (Release) and starts it on 127.0.0.1:7878, with its web chat page,
# /healthz and /metrics on http://127.0.0.1:7880/, with the default settings.
# Extra arguments go to the server: scripts/serve.sh --log-level debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target parley-server parley
exec build/release/server/parley-server "$@"
