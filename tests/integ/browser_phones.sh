#!/usr/bin/env bash
# Issue 16 item 1: the pages on phones. A simulated Querétaro 2021 site (the third of three
# cuts of one store, 2021-06-06 23:00, so its election pages carry the night's progress
# chart; `prep cut` + `prep export`), served on loopback (tests/browser/serve.js), checked in
# headless Chromium at 320, 360 and 390 px and inside an iframe of a portal as wide as each
# of those phones (the embebido/ tree): every number, percentage and column-heading word on
# one line (numeric-one-line), nothing wider than the screen, not even a scrolling table
# (overflow), tap targets >= 24x24 px (targets), 0 axe-core violations, and the harness's
# usual checks (console, requests, cookies, the cut, reflow, valid HTML).
# Pages: tests/browser/phone-pages.txt (home, each election, a municipality, a district, a
# section, "my section" and its lookup); PREP_PHONES_PAGES_FILE=FILE or PREP_PHONES_PAGES="p1 p2" replace the list,
# PREP_BROWSER_SITE=DIR tests that site instead of rendering one. Without them, the national
# profile's pages too (a national-small render; below). Screenshots:
# out/browser-artifacts/phones/. Bounded: rendering 120 s each, browser 360 + 150 + 60 s.
# Usage: tests/integ/browser_phones.sh PATH/TO/prep
set -uo pipefail
PREP=$1
ROOT=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BROWSER_DIR=$ROOT/tests/browser
ART=${PREP_BROWSER_ARTIFACTS:-$ROOT/out/browser-artifacts}/phones
WORK=$(mktemp -d)
. "$BROWSER_DIR/lib.sh"
trap browser_cleanup EXIT
trap 'exit 143' TERM INT HUP
browser_prereqs || exit 1

SITE=${PREP_BROWSER_SITE:-}
CUT_SELECTOR="[data-corte-hora], .corte time[datetime]"
args=(--cut-selector "$CUT_SELECTOR")
if [ -z "$SITE" ]; then
  SITE=$WORK/site
  { "$PREP" sim catalog --scale qro2021 --seed 3 --out "$WORK/qro.cat" >/dev/null &&
    "$PREP" sim actas --catalog "$WORK/qro.cat" --out "$WORK/actas" --seed 3 >/dev/null 2>&1 &&
    "$PREP" keygen --out "$WORK/drill" --drill >/dev/null &&
    # three cuts of one store, so that the election pages carry the night's progress
    # chart and its table (built from the chain of cuts), then the last one exported
    for at in "2021-06-06 21:30" "2021-06-06 22:15" "2021-06-06 23:00"; do
      timeout 120 "$PREP" cut --catalog "$WORK/qro.cat" --actas "$WORK/actas" --at "$at" --drill \
        --key "$WORK/drill.key" --pubkey "$WORK/drill.pub" --store "$WORK/store" >>"$WORK/render.log" 2>&1 ||
        { tail -20 "$WORK/render.log"; echo "FAIL: prep cut at $at"; exit 1; }
    done &&
    timeout 120 "$PREP" export --store "$WORK/store" --out "$SITE" --no-twins --no-archive >>"$WORK/render.log" 2>&1; } ||
    { tail -20 "$WORK/render.log"; echo "FAIL making the site"; exit 1; }
  grep -q 'class="avance' "$SITE/gubernatura/index.html" || { echo "FAIL: the election page has no progress chart"; exit 1; }
  args+=(--cut-datetime 2021-06-06T23:00)
fi
if [ -n "${PREP_PHONES_PAGES:-}" ]; then
  read -r -a pages <<<"$PREP_PHONES_PAGES"
  args+=("${pages[@]}")
else
  args+=(--pages-file "${PREP_PHONES_PAGES_FILE:-$BROWSER_DIR/phone-pages.txt}")
fi
start_server "$SITE" site || exit 1
rm -rf "$ART"
# checks_ran FILE LABEL VIEW...: the phone checks and axe passed at least once in each
# view of a run's output FILE (a list that named no page, or an option lost, must not pass
# quietly); rc=1 otherwise.
checks_ran() {
  local f=$1 label=$2 c v
  shift 2
  for c in numeric-one-line overflow targets axe; do
    for v in "$@"; do
      grep -qE "^ok   .* @$v $c( |$)" "$f" || { echo "FAIL no passing '$c' check @$v$label"; rc=1; }
    done
  done
}
PHONE_VIEWS=(320 360 390 iframe-320 iframe-360 iframe-390)
run_browser 360 --site "$SITE" --base-url "$BASE_URL" --artifacts "$ART" --embed-prefix embebido/ \
  --widths 320,360,390 "${args[@]}" | tee "$WORK/run.txt"
rc=${PIPESTATUS[0]}
checks_ran "$WORK/run.txt" "" "${PHONE_VIEWS[@]}"

# The national profile's pages (issue 15: "the same page rules as today"), on a simulated
# federal night (national-small: the 32 entities with their map, 300 districts, few
# sections each), one render: the home, each election with the entity map, an entity and
# its senate result, districts, the entity list of the section lookup and an entity's form;
# every one also inside the portal's iframe (embebido/). A section's page
# (seccion/EE/NNNN/) has no embedded version in a national process (docs/formats/site.md,
# "My section"), so it is checked at the three widths only.
if [ -z "${PREP_BROWSER_SITE:-}" ] && [ -z "${PREP_PHONES_PAGES:-}" ] && [ -z "${PREP_PHONES_PAGES_FILE:-}" ]; then
  NSITE=$WORK/national
  render_national_site "$PREP" "$NSITE" || exit 1
  start_server "$NSITE" national || exit 1
  nat=(--cut-selector "$CUT_SELECTOR" --cut-datetime 2021-06-07T02:00)
  run_browser 150 --site "$NSITE" --base-url "$BASE_URL" --artifacts "$ART/national" --embed-prefix embebido/ \
    --widths 320,360,390 "${nat[@]}" / presidencia-de-la-republica/ senadurias/ diputaciones-federales/ \
    presidencia-de-la-republica/ciudad-de-mexico/ senadurias/ciudad-de-mexico/ \
    diputaciones-federales/ciudad-de-mexico/distrito-01/ presidencia-de-la-republica/ciudad-de-mexico/distrito-01/ \
    seccion/ seccion/09/ | tee "$WORK/run-national.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  run_browser 60 --site "$NSITE" --base-url "$BASE_URL" --artifacts "$ART/national" --views 320,360,390 --phone-checks \
    "${nat[@]}" seccion/09/0001/ | tee "$WORK/run-national-section.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  checks_ran "$WORK/run-national.txt" " (national)" "${PHONE_VIEWS[@]}"
  checks_ran "$WORK/run-national-section.txt" " (national section page)" 320 360 390
fi
echo "screenshots: $ART"
[ "$rc" -eq 0 ] || { echo "FAILED: browser checks on phones (above)"; exit 1; }
echo "browser phones: all checks passed"
