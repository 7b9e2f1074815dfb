#!/bin/bash
# pipes.sh must name each early reader in a script that sets pipefail (grep -q, grep -m,
# head), leave a script without pipefail, comments and `||` alone, and pass the forms it
# recommends.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/tests/integ" "$T/bench" "$T/scripts" "$T/.ci" "$T/tests/browser/node_modules/x"
cat >"$T/tests/integ/bad.sh" <<'SH'
set -euo pipefail
head -30 err | grep -q "x"
out=$(find . -name '*.gz' | head -1)
prep --help | grep -qx "usage"
curl -s u | grep -m1 y
SH
cat >"$T/bench/ok.sh" <<'SH'
set -euo pipefail
# a comment: P | grep -q x
grep -q "x" <(head -30 err)
out=$(find . -name '*.gz' | sed -n 1p)
true || grep -q x err
head -c 20 f | tail -c 10
SH
printf 'set -eu\nhead -30 err | grep -q x\n' >"$T/scripts/nopipefail.sh"
printf 'set -o pipefail\nls | head -1\n' >"$T/.ci/run"
printf 'set -o pipefail\nls | head -1\n' >"$T/tests/browser/node_modules/x/vendor.sh"
out=$(bash "$HERE/pipes.sh" "$T")
rc=$?
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
[ $rc = 1 ] || fail "exit $rc, expected 1"
for l in 2 3 4 5; do
  grep -q "^tests/integ/bad.sh:$l: a reader that stops early" <<<"$out" || fail "bad.sh:$l not named"
done
grep -q "^.ci/run:2:" <<<"$out" || fail ".ci/run not checked"
grep -q "ok.sh\|nopipefail.sh\|node_modules" <<<"$out" && fail "an allowed form was reported"
rm "$T/tests/integ/bad.sh" "$T/.ci/run"
bash "$HERE/pipes.sh" "$T" >/dev/null || fail "a clean tree was refused"
echo "pipes selftest: early readers under pipefail named, the recommended forms pass"
