#!/usr/bin/env bash
# Installs the Debian 12 packages Parley builds and tests with, when any is missing.
# Usage: scripts/deps.sh [extra-package ...]   (as root, or with sudo available)
set -euo pipefail
packages=(cmake g++ make libasio-dev nlohmann-json3-dev libspdlog-dev catch2 libcli11-dev libssl-dev openssl tmux
  libhiredis-dev pkg-config redis-server python3-websockets curl prometheus chromium "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
