#!/usr/bin/env bash
# Issue 15: the section lookup of a national process (docs/formats/site.md, "My section"),
# in prep serve and in a real Apache with `prep apache`'s configuration, on a signed cut of
# tests/data/catalog/national.cat: seccion/ lists the entities; seccion/EE/?n=N answers with
# a 303 to EE/NNNN/ when entity EE has section N (section 100 exists in entities 01 and 09,
# not in 22), and with a 404 carrying that entity's own no-encontrada.html page otherwise;
# the embedded tree, which holds no section page, sends its form to the main tree's lookup. Expected answers come from the catalogue file by hand.
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
command -v apache2 >/dev/null || { echo "SKIP: apache2 not installed"; exit 77; }
. "$HERE/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-natlookup-XXXXXX)
chmod 755 "$T" # apache's workers run as nobody
peer_cleanup_on_exit "$T"
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

CAT="$HERE/../data/catalog/national.cat"
"$PREP" sim actas --catalog "$CAT" --out actas --seed 2 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog "$CAT" --actas actas --at "2024-06-03 02:00" --key drill.key --pubkey drill.pub --store inst \
  --drill >cut.out 2>&1 || { echo "FAIL - cut: $(tail -3 cut.out)"; exit 1; }
"$PREP" export --store inst --out "$T/site" --link --no-twins >export.out 2>&1 || { echo "FAIL - export: $(cat export.out)"; exit 1; }
for d in seccion/01/0100 seccion/09/0100 seccion/22/0050 seccion/01/0000; do
  [ -f "site.cortes/1/$d/index.html" ] && ok "the cut has $d/" || bad "the cut lacks $d/"
done

peer_cert cert.pem key.pem
peer_serve_and_apache "$PREP" inst "$T/site" 1

get() {
  local port; [ "$1" = serve ] && port=$SP || port=$AP
  curl -sS --max-time 10 --cacert cert.pem --resolve "localhost:$port:127.0.0.1" -D h -o b "https://localhost:$port$2" \
    -w '%{http_code}' 2>/dev/null || true
}
loc() { tr -d '\r' <h | awk 'BEGIN{IGNORECASE=1} tolower($1) == "location:" {print $2}'; }

for srv in serve apache; do
  # the embedded tree of a national process has no section pages (docs/formats/site.md,
  # "Embedded mode"): its lookup form sends readers to the main tree's lookup
  st=$(get $srv "/embebido/seccion/09/")
  [ "$st" = 200 ] && grep -q '<form class="buscar" action="../../../seccion/09/" method="get">' b &&
    ok "$srv /embebido/seccion/09/: its form asks the main tree's lookup" || bad "$srv /embebido/seccion/09/: $st"
  for tree in "" /embebido; do
    # found: entity 01 and 09 have section 100, with or without leading zeros (main tree)
    for q in "01 n=100 0100" "09 n=0100 0100" "01 n=200 0200" "22 n=50 0050"; do
      [ -n "$tree" ] && break
      set -- $q
      st=$(get $srv "$tree/seccion/$1/?$2")
      want="$3/"; [ $srv = apache ] && want="https://localhost:$AP$tree/seccion/$1/$3/"
      [ "$st" = 303 ] && [ "$(loc)" = "$want" ] && ok "$srv $tree/seccion/$1/?$2: 303 to $want" ||
        bad "$srv $tree/seccion/$1/?$2: $st to '$(loc)', want $want"
    done
    # not found in that entity: 404 with the entity's own page (its crumb names the entity);
    # in the embedded tree every number, as it holds no section page
    qs=("22 n=100 QUERÉTARO" "09 n=200 CIUDAD DE MÉXICO" "01 n=0 AGUASCALIENTES" "01 n=abc AGUASCALIENTES")
    [ -n "$tree" ] && qs+=("01 n=100 AGUASCALIENTES")
    for q in "${qs[@]}"; do
      set -- $q
      st=$(get $srv "$tree/seccion/$1/?$2")
      ent=${q#* * }
      if [ "$st" = 404 ] && grep -q '<h1>Sección no encontrada</h1>' b && grep -q "aria-current=\"page\">$ent</li>" b; then
        ok "$srv $tree/seccion/$1/?$2: 404 with seccion/$1/no-encontrada.html"
      else bad "$srv $tree/seccion/$1/?$2: $st, $(grep -o '<h1>[^<]*</h1>' b | sed -n 1p)"; fi
    done
  done
  # the top lookup of a national process has no form: a number alone names no section
  st=$(get $srv "/seccion/?n=100")
  [ "$st" = 404 ] && grep -q '<a href="09/">CIUDAD DE MÉXICO</a>' b && ok "$srv /seccion/?n=100: 404 with the entity list" ||
    bad "$srv /seccion/?n=100: $st"
  st=$(get $srv "/seccion/01/0100/")
  [ "$st" = 200 ] && grep -q '<h1>Sección 0100</h1>' b && grep -q 'AGUASCALIENTES' b && ok "$srv seccion/01/0100/ is its page" ||
    bad "$srv seccion/01/0100/: $st"
done
[ "$fails" = 0 ] || { echo "$fails failures"; exit 1; }
echo "all ok"
