#!/bin/bash
# Early readers under pipefail. In a script that sets -o pipefail, `P | grep -q X`,
# `P | grep -m N X` and `P | head ...` stop reading before P has written everything: P then
# dies of SIGPIPE (141) and the pipeline fails although X was there. It happens only when
# P writes more than one chunk and the reader wins the race, so it shows as a rare failure
# on a loaded machine (integ/real_derived's `head -30 err | grep -q`, in a fresh clone's CI).
# What to write instead: `grep -q X <(P)` (P's status is then not the test's) or
# `P | sed -n 1,Np` (reads to the end). Checks every shell script of tests/, bench/,
# scripts/ and .ci/ that sets pipefail; node_modules and these lints' own fixtures are left out.
# Exit 0 when none is found; 1 with one line per pipeline (file:line: what).
set -u
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

bad=0
while IFS= read -r f; do
  grep -q -- "pipefail" "$f" || continue
  # A line's pipes, comments left out; `||` is no pipe.
  out=$(awk '
    { line = $0; sub(/^[ \t]*#.*/, "", line); gsub(/\|\|/, "  ", line) }
    line ~ /\|[ \t]*(grep[ \t]+(-[A-Za-z]*[qm]|--quiet|--max-count)|head([ \t]|$))/ {
      printf "%s:%d: a reader that stops early under pipefail: %s\n", FILENAME, FNR, $0
    }' "$f")
  if [ -n "$out" ]; then echo "$out"; bad=1; fi
done < <(find tests bench scripts .ci \( -path '*/node_modules' -o -path tests/lint \) -prune -o -type f \( -name '*.sh' -o -path '.ci/*' \) -print 2>/dev/null | LC_ALL=C sort)
[ $bad = 0 ] || echo "(write grep -q X <(P), or P | sed -n 1,Np: see tests/lint/pipes.sh)"
exit $bad
