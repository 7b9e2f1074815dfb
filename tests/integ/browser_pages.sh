#!/usr/bin/env bash
# Issue 3: the published pages in headless Chromium (Debian's chromium, driven by
# playwright-core): at 390 px, at 1280 px and inside an iframe; no console errors, no request
# to another origin, no cookies, the cut time shown, 0 axe-core WCAG 2.1 AA violations, HTML
# valid (tidy), a screenshot of each kept under out/browser-artifacts/.
#   1. the hand-written fixture site, tests/browser/fixture/
#   2. a real site: $PREP_BROWSER_SITE if set, else one that `prep render` writes from a
#      simulated Querétaro 2021 night cut at 23:00 (skipped, with a note, while this prep
#      binary has no render command); one page of every kind (run.js --sample).
# Env: PREP_BROWSER_SITE=DIR (test that site), PREP_BROWSER_PAGES="p1 p2" (those pages instead
# of --sample), PREP_BROWSER_EMBED_PREFIX=P (iframe view loads P+page; default embebido/ when the
# site has it), PREP_BROWSER_CUT_SELECTOR=SEL, PREP_BROWSER_ARTIFACTS=DIR,
# PREP_CHROMIUM=PATH. See docs/testing-browser.md. The harness's own self-test (each check
# catches the fault it is for) is the separate entry tests/integ/browser_selftest.sh.
# Time bounds (ctest allows 600 s): fixture 120 s, rendering 120 s, real site 300 s.
# Usage: tests/integ/browser_pages.sh PATH/TO/prep
set -uo pipefail
PREP=$1
ROOT=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BROWSER_DIR=$ROOT/tests/browser
ART=${PREP_BROWSER_ARTIFACTS:-$ROOT/out/browser-artifacts}
WORK=$(mktemp -d)
. "$BROWSER_DIR/lib.sh"
trap browser_cleanup EXIT
trap 'exit 143' TERM INT HUP
browser_prereqs || exit 1

failed=()

# 1. The fixture.
echo "== fixture site"
start_server "$BROWSER_DIR/fixture" fixture || exit 1
run_browser 120 --site "$BROWSER_DIR/fixture" --base-url "$BASE_URL" --artifacts "$ART/fixture" \
  "" gubernatura/ base-de-datos/ || failed+=("fixture site")

# 2. A real site.
SITE=${PREP_BROWSER_SITE:-}
if [ -z "$SITE" ]; then
  if "$PREP" render --help >/dev/null 2>&1; then
    echo "== rendered site (simulated Querétaro 2021, cut 2021-06-06 23:00)"
    SITE=$WORK/site
    if ! { "$PREP" sim catalog --scale qro2021 --seed 3 --out "$WORK/qro.cat" >/dev/null &&
           "$PREP" sim actas --catalog "$WORK/qro.cat" --out "$WORK/actas" --seed 3 >/dev/null 2>&1 &&
           timeout 120 "$PREP" render --catalog "$WORK/qro.cat" --actas "$WORK/actas" --at "2021-06-06 23:00" \
             --out "$SITE" >"$WORK/render.log" 2>&1; }; then
      tail -20 "$WORK/render.log"
      echo "FAIL rendering the site"
      failed+=("render")
      SITE=
    fi
  else
    echo "note: $PREP has no render command yet: real pages not tested (fixture only)"
  fi
else
  echo "== site $SITE"
fi
if [ -n "$SITE" ]; then
  start_server "$SITE" site || exit 1
  # The cut element: data-corte-hora (the harness's default), or the renderer's
  # <div class="corte">...<time datetime> as it stands.
  args=(--site "$SITE" --base-url "$BASE_URL" --artifacts "$ART/site"
        --cut-selector "${PREP_BROWSER_CUT_SELECTOR:-[data-corte-hora], .corte time[datetime]}")
  # The cut this script rendered is the one every page must show.
  [ -z "${PREP_BROWSER_SITE:-}" ] && args+=(--cut-datetime 2021-06-06T23:00)
  # The embedded tree that `prep render` writes for iframes (docs/formats/site.md).
  embed=${PREP_BROWSER_EMBED_PREFIX-}
  [ -z "${PREP_BROWSER_EMBED_PREFIX+set}" ] && [ -d "$SITE/embebido" ] && embed=embebido/
  [ -n "$embed" ] && args+=(--embed-prefix "$embed")
  # The rendered site's sample at 1280 px only: at 390 px and in the iframe, these page
  # kinds are checked by browser_serve (every kind of a real cut, over HTTPS) and the
  # Querétaro-scale pages by browser_phones (320-390 px and their iframes); the desktop
  # width of Querétaro-scale pages is checked here alone. PREP_BROWSER_VIEWS=390,1280,iframe
  # runs all three (as do PREP_BROWSER_SITE runs).
  views=${PREP_BROWSER_VIEWS:-}
  [ -z "$views" ] && [ -z "${PREP_BROWSER_SITE:-}" ] && views=1280
  [ -n "$views" ] && args+=(--views "$views")
  if [ -n "${PREP_BROWSER_PAGES:-}" ]; then
    read -r -a pages <<<"$PREP_BROWSER_PAGES"
    args+=("${pages[@]}")
  else
    args+=(--sample)
  fi
  rm -rf "$ART/site"
  run_browser 300 "${args[@]}" || failed+=("site $SITE")
fi

echo "screenshots: $ART"
if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "browser pages: all checks passed"
