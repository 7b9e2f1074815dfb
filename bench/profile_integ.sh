#!/usr/bin/env bash
# Where an integration test's wall time goes, line by line: runs tests/integ/TEST.sh (and
# every bash script it starts) under `set -x` with a timestamp on each traced line, then
# prints the script lines that held the most time before the next traced line, with how
# many times each ran. A line that ran thousands of times (a fork per object or per
# field) is the usual find: apache_night spent 116 s of 133 in a mkdir and a cp per
# object, response_policy 40 s of 66 in a tr and an awk per header field.
# Usage: bench/profile_integ.sh BUILD-DIR TEST [TOP]   (TOP lines, default 15)
#   Prints the test's own output to BUILD-DIR/profile-TEST.out and the trace to
#   BUILD-DIR/profile-TEST.trace. Wall time: run it on a quiet machine.
set -uo pipefail
BUILD=${1:?usage: bench/profile_integ.sh BUILD-DIR TEST [TOP]}
T=${2:?usage: bench/profile_integ.sh BUILD-DIR TEST [TOP]}
TOP=${3:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
[ -x "$BUILD/prep" ] || { echo "no prep binary in $BUILD"; exit 2; }
[ -f "$ROOT/tests/integ/$T.sh" ] || { echo "no test tests/integ/$T.sh"; exit 2; }
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT
# BASH_ENV: read by every non-interactive bash the test starts (bash ignores PS4 from the
# environment when run as root, so it is set here)
printf '%s\n' 'PS4='"'"'+ $EPOCHREALTIME $LINENO: '"'"'' 'set -x' >"$env_file"
[ -z "${TMPDIR:-}" ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
export PREP_SRC=$ROOT PREP_SHARED_DATA=$ROOT/../shared/data
PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH BASH_ENV=$env_file \
  bash "$ROOT/tests/integ/$T.sh" "$BUILD/prep" >"$BUILD/profile-$T.out" 2>"$BUILD/profile-$T.trace"
rc=$?
echo "$T: exit $rc (output: $BUILD/profile-$T.out)"
/usr/bin/python3 - "$BUILD/profile-$T.trace" "$TOP" <<'PY'
import re, sys
ev = []
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"^\++ (\d+\.\d+) (\d+): (.*)", line)
    if m:
        ev.append((float(m.group(1)), int(m.group(2)), m.group(3)[:100]))
if len(ev) < 2:
    sys.exit("no trace")
by_line = {}
for (t, ln, cmd), (t2, _, _) in zip(ev, ev[1:]):
    s = by_line.setdefault(ln, [0.0, 0, cmd])
    s[0] += t2 - t
    s[1] += 1
print(f"traced {ev[-1][0] - ev[0][0]:.1f} s; the lines that held the most (line numbers of the script that ran them):")
for ln, (secs, n, cmd) in sorted(by_line.items(), key=lambda kv: -kv[1][0])[:int(sys.argv[2])]:
    print(f"{secs:8.2f} s {n:6d}x  line {ln}: {cmd}")
PY
exit $rc
