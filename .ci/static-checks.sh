#!/usr/bin/env bash
# Static checks: clang-format over every C++ file of the repository (tracked, or new and not
# ignored), clang-tidy (.clang-tidy) over the sources of protocol/, server/ and client/.
# Usage: .ci/static-checks.sh [BUILD_DIR]   (default build/dev; needs compile_commands.json,
#        which every configure writes). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
jobs=${PARLEY_JOBS:-$(nproc)}
tidy=${CLANG_TIDY:-clang-tidy-14}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "static: no $build/compile_commands.json (configure first: cmake --preset dev)" >&2
  exit 2
fi
status=0

echo "static: clang-format"
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "static: clang-format wants changes (run clang-format -i on the files above)" >&2
  status=1
fi

# Asio 1.22 enables co_await under clang only when libc++'s <experimental/coroutine> exists;
# with GCC's standard library, which has <coroutine> and which clang 14 supports, it must
# be told, or every file using awaitables fails to parse. The compile commands come from
# GCC: its own warning flags are unknown to clang and are not findings.
echo "static: clang-tidy ($jobs at a time)"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard \
  'protocol/*.cpp' 'server/*.cpp' 'client/*.cpp')
if ! printf '%s\n' "${sources[@]}" |
  xargs -P "$jobs" -I{} sh -c '
    out=$("$0" -p "$1" --quiet --extra-arg=-Wno-unknown-warning-option \
      --extra-arg=-DASIO_HAS_CO_AWAIT=1 "$2" 2>/dev/null) && exit 0
    printf "%s\nstatic: clang-tidy findings in %s\n" "$out" "$2" >&2
    exit 1' "$tidy" "$build" {}; then
  status=1
fi
echo "static: $([ $status = 0 ] && echo clean || echo FINDINGS)" \
  "(${#files[@]} files format-checked, ${#sources[@]} tidied)"
exit $status
