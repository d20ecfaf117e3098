#!/usr/bin/env bash
# Runs every built fuzz target for SECONDS (default 60) over a scratch copy of its seed
# corpus (fuzz/corpus/<name>/), one after the other. Builds nothing unless asked to.
# Usage: fuzz/run.sh [--build] [SECONDS] [BUILD_DIR]
#   BUILD_DIR   a clang build with -DPARLEY_BUILD_FUZZERS=ON (default: $PARLEY_FUZZ_BUILD_DIR,
#               else build/fuzz); see fuzz/CMakeLists.txt for the configure line
#   --build     configure and build the targets in BUILD_DIR first (clang, ASan+UBSan)
# Exits non-zero when any target crashes or none is built; a crashing input is left in
# BUILD_DIR/findings/ next to each target's log.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  echo "usage: fuzz/run.sh [--build] [SECONDS] [BUILD_DIR]" >&2
  exit 2
}
build=0
seconds=60
dir=${PARLEY_FUZZ_BUILD_DIR:-build/fuzz}
for arg in "$@"; do
  case $arg in
    --build) build=1 ;;
    -*) usage ;;
    '') usage ;;
    *[!0-9]*) dir=$arg ;;
    *) seconds=$arg ;;
  esac
done

if [ "$build" = 1 ]; then
  # The "fuzz" preset's settings, in any build directory.
  cmake --preset fuzz -B "$dir" >/dev/null
  mapfile -t wanted < <(ls fuzz/fuzz_*.cpp | sed -E 's|fuzz/(fuzz_[a-z_]+)\.cpp|\1|')
  # A target whose library is not in this tree (the hub before server/ exists) is skipped.
  for t in "${wanted[@]}"; do
    cmake --build "$dir" -j"$(nproc)" --target "$t" || echo "fuzz: $t not built" >&2
  done
fi

findings=$dir/findings
mkdir -p "$findings"
status=0
ran=0
for binary in "$dir"/fuzz/fuzz_*; do
  [ -f "$binary" ] && [ -x "$binary" ] || continue
  t=${binary##*/fuzz_}
  corpus=$(mktemp -d)
  if [ -d fuzz/corpus/"$t" ]; then cp fuzz/corpus/"$t"/* "$corpus"/; fi
  echo "fuzz: $t for ${seconds}s"
  # -max_len bounds frames well past every edge the targets probe (nesting 129, 256-byte
  # topics, 64-byte max_frame); -rss_limit_mb catches unbounded growth.
  if ! "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$findings/$t-" -print_final_stats=1 "$corpus" >"$findings/$t.log" 2>&1; then
    echo "fuzz: $t FOUND A CRASH (input in $findings/$t-*):" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$findings/$t.log" >&2 || tail -20 "$findings/$t.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|cov: " "$findings/$t.log" | tail -2 | sed "s/^/fuzz: $t: /"
  rm -rf "$corpus"
  ran=$((ran + 1))
done
if [ "$ran" = 0 ]; then
  echo "fuzz: no fuzz targets in $dir/fuzz (configure with clang and -DPARLEY_BUILD_FUZZERS=ON)" >&2
  exit 1
fi
exit $status
