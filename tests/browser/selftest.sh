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
# The phone checks (--phone-checks, in the 320 and iframe-320 views below):
variant numsplit     's{</h1>}{</h1>\n<p style="width:40px;overflow-wrap:anywhere">1,234,567</p>}'
variant headsplit    's{<th scope="col" class="num">Porcentaje</th>}{<th scope="col" class="num"><span style="display:inline-block;width:2em;overflow-wrap:anywhere">Porcentaje</span></th>}'
variant scroller     's{</h1>}{</h1>\n<div style="overflow-x:auto"><p style="width:1400px">Tabla ancha en su propia barra</p></div>}'
variant tinytarget   's{</h1>}{</h1>\n<p><a href="#a" style="display:inline-block;width:10px;height:10px;overflow:hidden">a</a><a href="#b" style="display:inline-block;width:10px;height:10px;overflow:hidden">b</a></p>}'
# and what 2.5.8 exempts: a link inside a sentence, a small target with room around it,
# a small target whose href a full-size target on the page also has (the map's shapes)
variant exempt       's{</h1>}{</h1>\n<p>Vea la <a href="#z">tabla</a> de este corte.</p>\n<p style="padding:20px"><a href="#y" style="display:inline-block;width:12px;height:12px;overflow:hidden">y</a></p>\n<p><a href="#x" style="display:inline-block;padding:12px">Grande</a><a href="#x" style="display:inline-block;width:12px;height:12px;overflow:hidden">x</a></p>}'
# low contrast only when its container is over 300 px wide: at 340 px, not at 320 px (a
# container query follows box sizes, so axe's verdict at 320 px must not stand for 340 px)
variant cqcontrast   's{</h1>}{</h1>\n<style>.cq{container-type:inline-size}\@container (min-width: 300px){.cq p{color:#bbbbbb}}</style><div class="cq"><p>Texto que pierde contraste en un contenedor ancho</p></div>}'
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
check "a passing view keeps its first screen" has '^ok   control/ @390 screenshot .*[(]first screen[)]'
check "a failing view keeps its whole page" has '^ok   wide/ @390 screenshot .*[(]whole page[)]'
check "browser gone after the run" browser_gone
if [ "$FAIL" -ne 0 ]; then echo "---- runner output"; cat "$OUT"; fi

# The phone checks, at 320 px and in an iframe 320 px wide: each fault is caught, the
# control and the exempt targets pass, and a scroller that reflow allows fails overflow.
# At 340 px too, where axe's verdict is the 320 px view's (the same document and media
# queries): a fault axe caught there is reported in the 340 px view as well; at 360 px the
# fixture's breakpoint (22rem) applies no more, and axe runs again.
PHONE=(control numsplit headsplit scroller tinytarget exempt wide noalt cqcontrast)
run_browser 120 --no-tidy --views 320,340,360,iframe-320 --phone-checks --base-url "$BASE_URL" --artifacts "$WORK/art5" "${PHONE[@]/%//}" >"$WORK/p.txt" 2>&1
OUT=$WORK/p.txt
for v in 320 iframe-320; do
  for c in numeric-one-line overflow targets; do
    check "control @$v passes $c" has "^ok   control/ @$v $c"
    check "exempt @$v passes $c" has "^ok   exempt/ @$v $c"
  done
  check "numsplit @$v fails numeric-one-line" has "^FAIL numsplit/ @$v numeric-one-line: .*\"1,234,567\" in <p>"
  check "headsplit @$v fails numeric-one-line (a heading's word)" has "^FAIL headsplit/ @$v numeric-one-line: .*\"Porcentaje\" in <span>"
  check "scroller @$v passes reflow (its own scroller)" has "^ok   scroller/ @$v reflow"
  check "scroller @$v fails overflow" has "^FAIL scroller/ @$v overflow: div scrolls sideways"
  check "wide @$v fails overflow" has "^FAIL wide/ @$v overflow: the document is"
  check "tinytarget @$v fails targets" has "^FAIL tinytarget/ @$v targets: 2 under 24x24 px: a href=\"#a\" \"a\" 10x10 px"
done
check "noalt @340 fails axe with @320's verdict" has '^FAIL noalt/ @340 axe: 1 violation\(s\); axe ran @320 on the same document'
check "noalt @340: the verdict names the rule" bash -c "grep -q 'image-alt \[critical\]' <(grep -A1 '^FAIL noalt/ @340 axe' '$OUT')"
check "control @340 passes axe with @320's verdict" has '^ok   control/ @340 axe .*axe ran @320 on the same document'
check "axe runs again in another media state (360 px, iframe-320)" bash -c "! grep -qE '@(360|iframe-320) axe.*axe ran @' '$OUT'"
check "cqcontrast @320 passes axe (its container is narrow)" has '^ok   cqcontrast/ @320 axe'
check "cqcontrast @340 fails axe on its own run (a container query)" bash -c "grep -q 'color-contrast' <(grep -A1 '^FAIL cqcontrast/ @340 axe: 1 violation(s):' '$OUT')"
check "noalt @360 fails axe on its own run" has '^FAIL noalt/ @360 axe: 1 violation\(s\):'
check "phone run: browser gone" browser_gone
if grep -q '^FAIL control/' "$WORK/p.txt" || [ "$FAIL" -ne 0 ]; then echo "---- phone run output"; cat "$WORK/p.txt"; fi
OUT=$WORK/out.txt

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
