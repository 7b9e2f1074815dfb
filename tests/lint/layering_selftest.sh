#!/bin/bash
# layering.sh must fail on a crossing: a tree with deliver including serve's header, push
# (deliver) including its neighbour pull's, http reaching into serve's folder and a header
# of a lower part including a higher one.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/deliver" "$T/src/pull" "$T/src/http" "$T/src/serve" "$T/include/prep"
printf '#include "prep/deliver.h"\n#include "prep/cut.h"\n' > "$T/src/deliver/ok.c"
printf '#include "prep/pull.h"\n#include "prep/deliver.h"\n#include "prep/http.h"\n' > "$T/src/pull/ok.c"
printf '#include "prep/serve.h"\n#include "prep/pull.h"\n' > "$T/src/deliver/bad.c"
printf '#include "../serve/site_internal.h"\n' > "$T/src/http/bad.c"
printf '#include "prep/serve.h"\n' > "$T/src/serve/ok.c"
printf '#include "prep/core.h"\n#include "prep/render.h"\n' > "$T/include/prep/cut.h"
printf 'static char *f(void) { return prep_xstrdup("x"); }\n' > "$T/src/serve/abort.c"
out=$(bash "$HERE/layering.sh" "$T")
rc=$?
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
[ $rc = 1 ] || fail "exit $rc, expected 1"
grep -q "src/deliver/bad.c:1: part 'deliver' includes prep/serve.h" <<<"$out" || fail "deliver -> serve not named"
grep -q "src/deliver/bad.c:2: part 'deliver' includes prep/pull.h" <<<"$out" || fail "deliver -> pull not named"
grep -q "src/http/bad.c:1:.*another part's internal header" <<<"$out" || fail "http -> ../serve not named"
grep -q "include/prep/cut.h:2: part 'cut' includes prep/render.h" <<<"$out" || fail "cut.h -> render.h not named"
grep -q "src/serve/abort.c:1: prep_x\* aborts" <<<"$out" || fail "prep_x* in serve not named"
grep -q "ok.c" <<<"$out" && fail "an allowed include was reported"
printf '#include "prep/core.h"\n' > "$T/include/prep/cut.h"
rm "$T/src/deliver/bad.c" "$T/src/http/bad.c" "$T/src/serve/abort.c"
bash "$HERE/layering.sh" "$T" >/dev/null || fail "a clean tree was refused"
echo "layering selftest: crossings named, a clean tree passes"
