#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) over a scratch copy of its seed corpus.
# Usage: fuzz/run.sh [--build] [SECONDS]
#   --build   configure and build the targets first (clang, ASan+UBSan) in build/fuzz
# Exits non-zero when any target finds a crash; the input is left in build/fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=0
seconds=60
for arg in "$@"; do
  case $arg in
    --build) build=1 ;;
    *[!0-9]*) echo "usage: fuzz/run.sh [--build] [SECONDS]" >&2; exit 2 ;;
    *) seconds=$arg ;;
  esac
done
targets=(framing decode topics hub)
if [ "$build" = 1 ]; then
  CC=clang CXX=clang++ cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARLEY_BUILD_FUZZERS=ON -DPARLEY_SANITIZE=ON -DPARLEY_BUILD_TESTS=OFF >/dev/null
  cmake --build build/fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
fi
findings=build/fuzz/findings
mkdir -p "$findings"
status=0
for t in "${targets[@]}"; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/"$t"/* "$corpus"/
  echo "fuzz: $t for ${seconds}s"
  if ! build/fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$findings/$t-" -print_final_stats=1 "$corpus" 2>"$findings/$t.log"; then
    echo "fuzz: $t FOUND A CRASH:" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$findings/$t.log" >&2 || tail -20 "$findings/$t.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|cov: " "$findings/$t.log" | tail -2 | sed "s/^/fuzz: $t: /"
  rm -rf "$corpus"
done
exit $status
