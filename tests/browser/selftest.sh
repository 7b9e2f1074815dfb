#!/usr/bin/env bash
# Self-test of the browser harness: every check must catch the fault it exists for.
# Copies the fixture's gubernatura page into variants, each with one fault, plus one
# unchanged control copy; runs the runner on all of them in all three views and asserts
# the control passes everything and each variant fails the expected check in every view
# (with the expected axe rule id or detail). Then checks the time bounds: a per-page time-out
# and an overall time-out each end the run with a failure and leave no browser running.
# Usage: tests/browser/selftest.sh   Prints "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
BROWSER_DIR=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
. "$BROWSER_DIR/lib.sh"
trap browser_cleanup EXIT
trap 'exit 143' TERM INT HUP
browser_prereqs || { echo "0 passed, 1 failed"; exit 1; }

# No browser process of this run is left: polled for up to 5 s, since the kernel reaps a
# killed process group a moment after the runner has exited (seen under load in CI).
browser_gone() {
  for _ in $(seq 50); do
    pgrep -f "$WORK/[p]laywright" >/dev/null || return 0
    sleep 0.1
  done
  return 1
}

S=$WORK/site
mkdir -p "$S"
cp -r "$BROWSER_DIR/fixture/static" "$S/"
SRC=$BROWSER_DIR/fixture/gubernatura/index.html
# variant NAME PERL-SUBSTITUTION: a copy of the page with one fault.
variant() {
  mkdir -p "$S/$1"
  perl -0pe "$2" "$SRC" >"$S/$1/index.html"
  cmp -s "$SRC" "$S/$1/index.html" && { echo "selftest bug: variant $1 changed nothing"; exit 1; }
}
mkdir -p "$S/control" && cp "$SRC" "$S/control/index.html"
variant nolang       's/<html lang="es-MX">/<html>/'
variant extimg       's{</h1>}{</h1>\n<img src="https://example.org/x.png" alt="Logotipo">}'
variant lowcontrast  's{</h1>}{</h1>\n<p style="color:#bbbbbb;background:#ffffff">Texto tenue</p>}'
variant consoleerr   's{</body>}{<script>console.error("falla de prueba")</script>\n</body>}'
variant pageerror    's{</body>}{<script>funcionQueNoExiste()</script>\n</body>}'
variant cookie       's{</body>}{<script>document.cookie = "rastreo=1; path=/"</script>\n</body>}'
variant extfetch     's{</body>}{<script>fetch("https://example.org/t").catch(function () {})</script>\n</body>}'
variant nocut        's/ data-corte-hora="[^"]*"//'
variant emptycut     's/data-corte-hora="[^"]*"/data-corte-hora=""/'
variant hiddencut    's/<time /<time hidden /'
variant missingcss   's{static/prep.css}{static/no-existe.css}'
variant tidyerr      's{</main>}{</div>\n</main>}'
variant dupid        's{<h1>}{<h1 id="contenido">}'
variant dlstray      's{<dd>2,600</dd>}{<dd>2,600</span></dd>}'
variant wide         's{</h1>}{</h1>\n<p style="width:1400px">Texto demasiado ancho</p>}'
variant noalt        's{</h1>}{</h1>\n<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">}'

start_server "$S" selftest || { echo "0 passed, 1 failed"; exit 1; }
PAGES=(control nolang extimg lowcontrast consoleerr pageerror cookie extfetch nocut emptycut hiddencut missingcss tidyerr dupid dlstray wide noalt)
OUT=$WORK/out.txt
run_browser 150 --site "$S" --base-url "$BASE_URL" --artifacts "$WORK/art" "${PAGES[@]/%//}" >"$OUT" 2>&1
rc=$?

PASS=0; FAIL=0
check() { # description, condition...
  local what=$1; shift
  if "$@"; then PASS=$((PASS + 1)); echo "ok   $what"; else FAIL=$((FAIL + 1)); echo "FAIL $what"; fi
}
has() { grep -qE -- "$1" "$OUT"; }
# expect PAGE CHECK [DETAIL-REGEX]: a FAIL line for CHECK of PAGE in every view, and the
# detail (which may be on the lines after it, for axe) present.
expect() {
  local page=$1 what=$2 detail=${3:-} v
  for v in 390 1280 iframe; do
    check "$page @$v fails $what" has "^FAIL $page/ @$v $what"
  done
  [ -n "$detail" ] && check "$page: output names $detail" has "$detail"
}

check "runner exits 1 when a page is faulty (got $rc)" [ "$rc" -eq 1 ]
check "every page got its checks" has "^[0-9]+ passed, [0-9]+ failed$"
check "control passes all 22 checks" [ "$(grep -cE '^ok   control/ ' "$OUT")" -eq 22 ]
check "control fails nothing" bash -c "! grep -q '^FAIL control/' '$OUT'"
expect nolang axe 'html-has-lang \[serious\]'
expect extimg requests 'request to another origin: https://example.org/x.png'
expect lowcontrast axe 'color-contrast \[serious\]'
expect consoleerr console 'console.error: falla de prueba'
expect pageerror console 'page error: funcionQueNoExiste is not defined'
expect cookie cookies 'script wrote cookie rastreo=1'
check "cookie: the cookie itself is seen in a top-level view" has 'cookies: cookie rastreo for 127.0.0.1'
expect extfetch requests 'request to another origin: https://example.org/t'
expect nocut cut-time 'no element matches \[data-corte-hora\]'
expect emptycut cut-time 'none is visible with text and a non-empty data-corte-hora'
expect hiddencut cut-time
expect missingcss requests 'no-existe.css answered 404'
expect wide reflow 'sticking out: p \(to 14'
expect noalt axe 'image-alt \[critical\]'
check "tidyerr fails html-valid" has '^FAIL tidyerr/ html-valid'
check "tidy names the stray end tag" has "discarding unexpected </div>"
check "dupid fails html-valid" has '^FAIL dupid/ html-valid'
check "dlstray fails html-valid (a stray end tag inside a <div>-grouped <dl>)" has '^FAIL dlstray/ html-valid'
check "control's <div>-grouped <dl> is valid" has '^ok   control/ html-valid'
check "screenshots saved for every page and view" [ "$(ls "$WORK/art" | wc -l)" -eq $((${#PAGES[@]} * 3)) ]
check "browser gone after the run" browser_gone
if [ "$FAIL" -ne 0 ]; then echo "---- runner output"; cat "$OUT"; fi

# The expected cut: the fixture shows 2021-06-06 23:00; asking for 22:00 must fail.
run_browser 60 --no-tidy --views 390 --cut-datetime 2021-06-06T23:00 --base-url "$BASE_URL" --artifacts "$WORK/art4" control/ >"$WORK/c1.txt" 2>&1
check "cut-datetime: the right cut passes" grep -q '^ok   control/ @390 cut-time' "$WORK/c1.txt"
run_browser 60 --no-tidy --views 390 --cut-datetime 2021-06-06T22:00 --base-url "$BASE_URL" --artifacts "$WORK/art4" control/ >"$WORK/c2.txt" 2>&1
check "cut-datetime: another cut fails" grep -q '^FAIL control/ @390 cut-time: the cut shown is 2021-06-06T23:00:00-05:00, not 2021-06-06T22:00' "$WORK/c2.txt"

# Time bounds: a 1 ms page bound fails every view without hanging; a 3 s overall bound on a
# long list ends the run. Both must exit 1 and leave no browser process.
run_browser 60 --no-tidy --page-timeout 1 --base-url "$BASE_URL" --artifacts "$WORK/art2" control/ >"$WORK/t1.txt" 2>&1
rc=$?
check "page time-out: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "page time-out: reported" grep -q '^FAIL control/ @390 load: .*timed out after 1 ms' "$WORK/t1.txt"
check "page time-out: browser gone" browser_gone
TMPDIR="$WORK" timeout -k 10 40 node "$BROWSER_DIR/run.js" --no-tidy --total-timeout 4000 --pid-file "$WORK/chromium.pids" \
  --base-url "$BASE_URL" --artifacts "$WORK/art3" "${PAGES[@]/%//}" control/index.html nolang/index.html >"$WORK/t2.txt" 2>&1
rc=$?
check "overall time-out: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "overall time-out: reported" grep -q '^FAIL overall: the run took more than 4000 ms' "$WORK/t2.txt"
check "overall time-out: summary line" grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$WORK/t2.txt"
check "overall time-out: browser gone" browser_gone

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
