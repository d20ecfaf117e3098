#!/usr/bin/env bash
# Checks that every `file:Name` and every `file` docs/architecture.md names exists: the file
# in the repository, and the name inside that file (a qualified A::b as written, or its last
# part b). Exits 1 with the missing ones listed.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/architecture.md
missing=0
checked=0
while IFS= read -r ref; do
  file=${ref%%:*}
  name=""
  [[ $ref == *:* ]] && name=${ref#*:}
  checked=$((checked + 1))
  if [ ! -f "$file" ]; then
    echo "missing file: $file" >&2
    missing=$((missing + 1))
    continue
  fi
  [ -z "$name" ] && continue
  if ! grep -qF -- "$name" "$file" && ! grep -qw -- "${name##*::}" "$file"; then
    echo "missing in $file: $name" >&2
    missing=$((missing + 1))
  fi
done < <(grep -oE '`[A-Za-z0-9_./-]+\.(cpp|hpp|h|sh|md|txt|json)(:[A-Za-z_][A-Za-z0-9_:]*)?`' "$doc" |
  tr -d '`' | sort -u)
echo "architecture: ${checked} references checked, ${missing} missing"
[ "$missing" = 0 ] && [ "$checked" -gt 0 ]
