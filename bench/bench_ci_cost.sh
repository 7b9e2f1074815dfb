#!/usr/bin/env bash
# What each integration test costs: wall seconds and CPU seconds, every process of the test
# counted (Chromium's renderers and daemons included, which /usr/bin/time misses when they
# are not reaped by the test), each test in a cgroup of its own. The suite must stay under
# 20 minutes on a 2-core machine (docs/build.md, "How the integration tests share the
# machine"): a test whose CPU is close to its wall time keeps a core busy, one well under
# it mostly waits.
# Usage (root: it makes cgroups): bench/bench_ci_cost.sh BUILD-DIR [TEST...]
#   TEST: names under tests/integ/ without .sh (default: all), run one at a time, with
#   TMPDIR=/dev/shm as scripts/test.sh sets it. Prints one line per test and the totals.
set -uo pipefail
BUILD=${1:?usage: bench/bench_ci_cost.sh BUILD-DIR [TEST...]}
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREP=$(cd "$BUILD" && pwd)/prep
[ -x "$PREP" ] || { echo "no prep binary in $BUILD"; exit 2; }
if [ -d /sys/fs/cgroup/cpuacct ]; then CG=/sys/fs/cgroup/cpuacct; V=1
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then CG=/sys/fs/cgroup; V=2
else echo "no cgroup file system (cpuacct or v2) mounted"; exit 2; fi
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  for f in "$ROOT"/tests/integ/*.sh; do tests+=("$(basename "$f" .sh)"); done
fi
for t in "${tests[@]}"; do [ -f "$ROOT/tests/integ/$t.sh" ] || { echo "no test tests/integ/$t.sh"; exit 2; }; done
usage_ns() { # GROUP-DIR: CPU nanoseconds used by every process that was in it
  if [ $V = 1 ]; then cat "$1/cpuacct.usage"; else awk '$1 == "usage_usec" {print $2 * 1000}' "$1/cpu.stat"; fi
}
export PREP_SRC=$ROOT PREP_SHARED_DATA=$ROOT/../shared/data
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
printf '%-24s %8s %8s %6s  %s\n' test wall_s cpu_s cores result
tw=0; tc=0
for t in "${tests[@]}"; do
  g=$CG/prep-ci-cost-$t-$$
  mkdir "$g" || exit 2
  s=$(date +%s%N)
  bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec bash "$@"' _ "$g" "$ROOT/tests/integ/$t.sh" "$PREP" \
    >"${TMPDIR:-/tmp}/ci-cost-$t.log" 2>&1
  rc=$?
  e=$(date +%s%N)
  u=$(usage_ns "$g")
  for _ in $(seq 50); do rmdir "$g" 2>/dev/null && break; sleep 0.1; done # its last processes gone
  r=passed; [ $rc = 0 ] || r="rc $rc (log ${TMPDIR:-/tmp}/ci-cost-$t.log)"
  awk -v t="$t" -v w=$((e - s)) -v u="$u" -v r="$r" \
    'BEGIN { printf "%-24s %8.1f %8.1f %6.2f  %s\n", t, w / 1e9, u / 1e9, u / w, r }'
  tw=$((tw + e - s)); tc=$((tc + u))
done
awk -v w=$tw -v u=$tc 'BEGIN { printf "%-24s %8.1f %8.1f %6.2f  (the floor under ctest -j2: %.0f s)\n", "total", w / 1e9, u / 1e9, u / w, u / 2e9 }'
