#!/usr/bin/env bash
# Builds and runs every test: unit, integration and client scenarios, through ctest.
# Usage: scripts/test.sh [--asan]   (--asan: the Debug build with AddressSanitizer + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=dev
[ "${1:-}" = "--asan" ] && preset=asan
scripts/deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
# Leak reports fail the run too; an ASan report aborts the test that caused it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# PARLEY_CTEST_ARGS adds ctest options, e.g. "-LE browser" (CI runs that label on its own).
read -ra extra <<<"${PARLEY_CTEST_ARGS:-}"
ctest --preset "$preset" -j"$(nproc)" "${extra[@]}"
