#!/usr/bin/env bash
# "My section" and open data per cut (issue 16 items 2 and 4) on a signed Querétaro-scale
# drill cut:
#  (a)(b) every datos.json validates against the shipped datos/esquema.json (python3-
#         jsonschema), its figures equal its page's (the HTML parsed independently), the CSV
#         equals the JSON, and a few sections equal a recount of the simulated actas files
#         (open_data_check.py);
#  (c)    the lookup seccion/?n=N in prep serve and in a real Apache with `prep apache`'s
#         configuration: found (303 to the section's page, plain and zero-padded, both
#         trees; prep serve's Location relative, Apache's absolute),
#         unknown, malformed and too long numbers (404 with the cut's own page: its stamp,
#         links to seccion/ and home, no-cache);
#  (d)    access-control-allow-origin: * on the JSON files and on nothing else, and the
#         media types, from both servers;
#  (e)    the new files are in the cut's SHA256SUMS, which signify verifies, and
#         sha256sum -c --strict checks them.
set -euo pipefail
PREP=$1
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
HERE=$(cd "$(dirname "$0")" && pwd)
command -v apache2 >/dev/null || { echo "SKIP: apache2 not installed"; exit 77; }
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema not installed"; exit 77; }
. "$HERE/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-opendata-XXXXXX)
chmod 755 "$T" # apache's workers run as nobody
peer_cleanup_on_exit "$T"
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

AT="2021-06-06 23:00"
"$PREP" sim catalog --scale qro2021 --seed 3 --out qro.cat >/dev/null
"$PREP" sim actas --catalog qro.cat --out actas --seed 3 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog qro.cat --actas actas --at "$AT" --key drill.key --pubkey drill.pub --store inst --drill \
  >cut.out 2>&1 || { echo "FAIL - cut: $(tail -3 cut.out)"; exit 1; }
# one export, in link mode (Apache serves it below); its archived tree of the cut holds the
# published bytes themselves (no .gz/.br twins: nothing here is about compression, and
# they are most of the export's CPU)
"$PREP" export --store inst --out "$T/site" --link --no-twins >export.out 2>&1 || { echo "FAIL - export: $(cat export.out)"; exit 1; }
ln -s site.cortes/1 www
[ -f www/SHA256SUMS ] || { echo "FAIL - no archived tree site.cortes/1"; exit 1; }

# --- (e) signed like every other file of the cut
if signify-openbsd -V -q -p drill.pub -m www/SHA256SUMS; then ok "(e) signify verifies SHA256SUMS"; else bad "(e) signify"; fi
if (cd www && sha256sum -c --strict --quiet SHA256SUMS); then ok "(e) sha256sum -c --strict: every listed file"
else bad "(e) sha256sum -c"; fi
listed() { grep -v '^#' www/SHA256SUMS | awk '{print $2}' | grep -c "$1" || true; }
on_disk() { (cd www/ && find . -path ./cortes -prune -o -type f -print | sed 's|^\./||' | grep -v '\.gz$\|\.br$' |
  grep -c "$1") || true; }
for pat in '/datos\.json$' '/datos\.csv$' '^datos/esquema\.json$' '^seccion/' '^embebido/seccion/'; do
  l=$(listed "$pat"); d=$(on_disk "$pat")
  if [ "$l" -gt 0 ] && [ "$l" = "$d" ]; then ok "(e) $pat: $l files, all in SHA256SUMS"
  else bad "(e) $pat: $l listed, $d exported"; fi
done
NSEC=$(grep -c . <(ls www/seccion | grep '^[0-9]\{4\}$'))
[ "$(listed '/datos\.json$')" -eq $((NSEC * 4 + 3 + 2 * 15 + 2 * 18)) ] && ok "(e) a datos.json per unit page" ||
  bad "(e) $(listed '/datos\.json$') datos.json for $NSEC sections"

# --- (a)(b) schema, figures, recount
if /usr/bin/python3 "$HERE/open_data_check.py" www actas "$AT"; then :; else bad "open_data_check.py"; fi

# --- the two servers on the same cut
peer_cert cert.pem key.pem
peer_serve_and_apache "$PREP" inst "$T/site" 2

# get SERVER PATH: saves the head in h and the body in b; prints the status
get() {
  local port; [ "$1" = serve ] && port=$SP || port=$AP
  curl -sS --max-time 10 --cacert cert.pem --resolve "localhost:$port:127.0.0.1" -D h -o b "https://localhost:$port$2" \
    -w '%{http_code}' 2>/dev/null || true
}
field() { tr -d '\r' <h | awk -v f="$1" 'BEGIN{IGNORECASE=1} index(tolower($0), f ":") == 1 {
  v = substr($0, length(f) + 2); sub(/^[ \t]+/, "", v); print v }'; }

SEC=$(ls www/seccion | grep '^0[0-9]\{3\}$' | sed -n 40p) # a section below 1000: padding matters
N=$((10#$SEC))
MISSING=9999
[ -e "www/seccion/$MISSING" ] && MISSING=0000
for srv in serve apache; do
  for q in "n=$N" "n=$SEC" "n=000$N"; do
    for tree in "" /embebido; do
      st=$(get $srv "$tree/seccion/?$q")
      loc=$(field location)
      # prep serve: relative; Apache: mod_rewrite's absolute form of the same URL (docs/apache.md)
      want="$SEC/"; [ $srv = apache ] && want="https://localhost:$AP$tree/seccion/$SEC/"
      if [ "$st" = 303 ] && [ "$loc" = "$want" ] && [ "$(field cache-control)" = no-cache ]; then
        ok "(c) $srv $tree/seccion/?$q: 303 to $loc"
      else bad "(c) $srv $tree/seccion/?$q: $st location '$loc'"; fi
    done
  done
  st=$(get $srv "/seccion/$SEC/")
  if [ "$st" = 200 ] && grep -q "<h1>Secci&oacute;n $SEC</h1>\|<h1>Sección $SEC</h1>" b; then ok "(c) $srv: seccion/$SEC/ is its page"
  else bad "(c) $srv seccion/$SEC/: $st"; fi
  for q in "n=$MISSING" "n=abc" "n=12345" "n=" "n=4%20" "n=1&x=2"; do
    st=$(get $srv "/seccion/?$q")
    if [ "$st" = 404 ] && grep -q '<h1>Sección no encontrada</h1>' b && grep -q 'href="./"' b &&
       grep -q '>Ir al inicio</a>' b && grep -q 'Corte <b>1</b>' b && grep -q 'SIMULACRO' b &&
       [ "$(field cache-control)" = no-cache ] && [ "$(field x-prep-corte)" = 1 ] &&
       [ "$(field content-type)" = "text/html; charset=utf-8" ]; then
      ok "(c) $srv /seccion/?$q: 404 with the cut's page"
    else bad "(c) $srv /seccion/?$q: $st, $(grep -o '<h1>[^<]*</h1>' b | sed -n 1p)"; fi
  done
  st=$(get $srv "/seccion/?x=1")
  [ "$st" = 200 ] && grep -q '<h1>Buscar mi sección</h1>' b && ok "(c) $srv /seccion/?x=1: the lookup page" ||
    bad "(c) $srv /seccion/?x=1: $st"
  grep -q '<form class="buscar" action="./" method="get">' b && grep -q 'name="n"' b && ok "(c) $srv: a plain GET form" ||
    bad "(c) $srv: no GET form on seccion/"

  # --- (d) CORS on JSON only; media types
  for p in /gubernatura/datos.json "/seccion/$SEC/datos.json" /datos/esquema.json /corte.json; do
    st=$(get $srv "$p")
    if [ "$st" = 200 ] && [ "$(field access-control-allow-origin)" = "*" ] &&
       [ "$(field content-type)" = application/json ] && /usr/bin/python3 -m json.tool b >/dev/null; then
      ok "(d) $srv $p: application/json, access-control-allow-origin: *"
    else bad "(d) $srv $p: $st ctype '$(field content-type)' acao '$(field access-control-allow-origin)'"; fi
  done
  for p in /gubernatura/datos.csv "/seccion/$SEC/datos.csv" /gubernatura/ /seccion/ "/base-de-datos/gub.csv" /no-existe.json; do
    st=$(get $srv "$p")
    if [ -z "$(field access-control-allow-origin)" ]; then ok "(d) $srv $p ($st): no access-control-allow-origin"
    else bad "(d) $srv $p: access-control-allow-origin sent"; fi
  done
  st=$(get $srv /gubernatura/datos.csv)
  [ "$(field content-type)" = "text/csv; charset=utf-8" ] && [ "$(field cache-control)" = "public, max-age=60, stale-while-revalidate=240" ] &&
    ok "(d) $srv datos.csv: text/csv; charset=utf-8, the page's caching" || bad "(d) $srv datos.csv: $(field content-type)"
done

[ $fails -eq 0 ] && echo "open data: all checks passed" || { echo "open data: $fails failures"; exit 1; }
