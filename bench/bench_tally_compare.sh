#!/usr/bin/env bash
# Tally speed of this tree beside an earlier revision's, in one run (issue 14: the rule
# profiles and the wider reader must keep Querétaro- and national-scale tally speed within
# 10% of before). Builds REV's bench_tally in a temporary worktree (release flags), then
# runs the two binaries alternately ROUNDS times and prints each run's figures, so a noisy
# moment on the shared machine hits both.
# Usage: bash bench/bench_tally_compare.sh [REV (default: the commit before the rule profiles)] [ROUNDS (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:-3494089}
ROUNDS=${2:-3}
NEW=build-rel/bench_tally
if [ ! -x "$NEW" ] || [ -n "$(find src include bench tests/unit/test_tally_synth.h -newer "$NEW" -print -quit)" ]; then
  cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C build-rel bench_tally >/dev/null
fi
W=$(mktemp -d)
trap 'git worktree remove --force "$W/src" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
git worktree add --detach "$W/src" "$REV" >/dev/null 2>&1
cmake -S "$W/src" -B "$W/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$W/build" bench_tally >/dev/null
OLD=$W/build/bench_tally
for r in $(seq 1 "$ROUNDS"); do
  for which in old new; do
    bin=$NEW; [ $which = old ] && bin=$OLD
    echo "== round $r: $which ($([ $which = old ] && echo "$REV" || git rev-parse --short HEAD))"
    "$bin" | grep -E "scale|actas per CPU|full tally|incremental|CSV" || true
  done
done
