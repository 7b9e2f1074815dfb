#!/usr/bin/env bash
# Issue 16: Lighthouse (npm lighthouse, pinned in tests/browser/package.json) with its
# default mobile profile in Debian's Chromium, headless, on a simulated Querétaro 2021 site
# rendered by `prep render` and served on loopback gzip-compressed (tests/browser/serve.js
# --gzip, as prep serve and Apache send pages): the pages of tests/browser/phone-pages.txt
# and, embedded-tree copies, embebido/ of the home, the municipality and the section; then
# six pages of the national profile (a national-small render, as browser_phones.sh).
# Prints the four scores per page; fails if any is under 98 (PREP_LIGHTHOUSE_MIN).
# Env: PREP_LIGHTHOUSE_PAGES="p1 p2" replaces the list, PREP_BROWSER_SITE=DIR tests that site
# (either skips the national pages); PREP_LIGHTHOUSE_JSON=DIR keeps each report (DIR/qro/,
# DIR/national/). Bounded: each render 120 s, Lighthouse 420 s and 240 s.
# Usage: tests/integ/browser_lighthouse.sh PATH/TO/prep
set -uo pipefail
PREP=$1
ROOT=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BROWSER_DIR=$ROOT/tests/browser
WORK=$(mktemp -d)
. "$BROWSER_DIR/lib.sh"
trap browser_cleanup EXIT
trap 'exit 143' TERM INT HUP
browser_prereqs || exit 1
[ -d "$BROWSER_DIR/node_modules/lighthouse" ] || { echo "lighthouse is missing: run scripts/setup.sh (npm ci --prefix tests/browser)"; exit 1; }

SITE=${PREP_BROWSER_SITE:-}
if [ -z "$SITE" ]; then
  SITE=$WORK/site
  { "$PREP" sim catalog --scale qro2021 --seed 3 --out "$WORK/qro.cat" >/dev/null &&
    "$PREP" sim actas --catalog "$WORK/qro.cat" --out "$WORK/actas" --seed 3 >/dev/null 2>&1 &&
    timeout 120 "$PREP" render --catalog "$WORK/qro.cat" --actas "$WORK/actas" --at "2021-06-06 23:00" \
      --out "$SITE" >"$WORK/render.log" 2>&1; } || { tail -20 "$WORK/render.log"; echo "FAIL rendering the site"; exit 1; }
fi
if [ -n "${PREP_LIGHTHOUSE_PAGES:-}" ]; then
  read -r -a pages <<<"$PREP_LIGHTHOUSE_PAGES"
else
  pages=()
  while read -r p; do
    case $p in ''|'#'*) continue ;; esac
    pages+=("$p")
  done <"$BROWSER_DIR/phone-pages.txt"
  pages+=(embebido/ embebido/ayuntamientos/queretaro/ embebido/diputaciones-locales/distrito-01/seccion-1246/)
fi

# lighthouse NAME SECONDS PAGE...: Lighthouse on the pages of the server started as NAME
# (BASE_URL), bounded; 1 when a score is under the minimum.
lighthouse() {
  local name=$1 total=$2 json=()
  shift 2
  [ -n "${PREP_LIGHTHOUSE_JSON:-}" ] && json=(--json-dir "$PREP_LIGHTHOUSE_JSON/$name")
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
  TMPDIR=$WORK timeout -k 10 "$total" node "$BROWSER_DIR/lighthouse.mjs" --base-url "$BASE_URL" \
    --min "${PREP_LIGHTHOUSE_MIN:-98}" --pid-file "$WORK/chromium.pids" --total-timeout $(((total - 20) * 1000)) \
    "${json[@]}" "$@"
}

# gzip-compressed, as prep serve and Apache send pages
start_server "$SITE" lh --gzip || { echo "FAIL server did not start"; exit 1; }
lighthouse qro 420 "${pages[@]}"
rc=$?

# The national profile's pages (issue 15: "the same page rules as today"): a simulated
# federal night (render_national_site), the home, each election with the entity map, an
# entity's senate result, a federal district, a section's page and an embedded page.
if [ -z "${PREP_BROWSER_SITE:-}" ] && [ -z "${PREP_LIGHTHOUSE_PAGES:-}" ]; then
  render_national_site "$PREP" "$WORK/national" || exit 1
  start_server "$WORK/national" national --gzip || { echo "FAIL server did not start"; exit 1; }
  lighthouse national 240 / presidencia-de-la-republica/ senadurias/ciudad-de-mexico/ \
    diputaciones-federales/ciudad-de-mexico/distrito-01/ seccion/09/0001/ embebido/presidencia-de-la-republica/ || rc=1
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$rc" -eq 0 ] || { echo "FAILED: Lighthouse scores under ${PREP_LIGHTHOUSE_MIN:-98} (above)"; exit 1; }
echo "browser lighthouse: all scores >= ${PREP_LIGHTHOUSE_MIN:-98}"
