#!/bin/bash
# prefixes.sh must fail on a symbol of one part exported under another's prefix, and on a
# header of include/prep/ declaring a private name; and pass a clean library.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CC=${CC:-cc}
mk() { # lib-part symbol...
  local part=$1; shift
  : >"$T/x.c"
  for s in "$@"; do echo "int $s(void); int $s(void) { return 0; }" >>"$T/x.c"; done
  "$CC" -c -o "$T/x.o" "$T/x.c" && rm -f "$T/libprep_$part.a" && ar rcs "$T/libprep_$part.a" "$T/x.o"
}
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
mk tally prep_tally_ok prep_render_wrong tally_private || exit 1
out=$(bash "$HERE/prefixes.sh" "$T")
[ $? = 1 ] || fail "a misnamed export passed"
grep -q "libprep_tally.a: exports prep_render_wrong, not prep_tally_\*" <<<"$out" || fail "prep_render_wrong not named"
grep -q "prep_tally_ok\|tally_private" <<<"$out" && fail "an allowed name was reported"
mk tally prep_tally_ok tally_private || exit 1
out=$(bash "$HERE/prefixes.sh" "$T")
[ $? = 0 ] || fail "a clean library was refused"
echo "prefixes selftest: a misnamed export is named, a clean library passes"
