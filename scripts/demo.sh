#!/usr/bin/env bash
# The election-night drill on this machine: installs what is missing, builds, simulates the
# Querétaro 2021 catalogue (with its municipality map) and its night, then makes a signed
# DRILL cut for every 5 simulated minutes from 20:00 on election day, as fast as the machine
# allows (at least PREP_DEMO_TICK seconds apart, default 0), verifies the chain after each
# cut, and keeps the latest cut exported as a plain site under out/demo/site/.
# Usage: bash scripts/demo.sh   (as root on a fresh Debian 12; Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PREP=$PWD/build/prep
if "$PREP" demo --help >/dev/null 2>&1; then exec "$PREP" demo "$@"; fi

OUT=${PREP_DEMO_OUT:-$PWD/out/demo}
TICK=${PREP_DEMO_TICK:-0}
rm -rf "$OUT"; mkdir -p "$OUT"
trap 'echo; echo "demo: stopped; the last cut stays in $OUT/site"; exit 0' INT TERM
GEO=../shared/data/geo/queretaro-municipios-2021.geojson
geo=(); [ -f "$GEO" ] && geo=(--geojson "$GEO")
"$PREP" sim catalog --scale qro2021 "${geo[@]}" --out "$OUT/catalog.cat"
"$PREP" sim actas --catalog "$OUT/catalog.cat" --out "$OUT/actas" --seed 2021
"$PREP" keygen --out "$OUT/ieeq-simulacro" --drill
echo
echo "demo: the institute makes a signed drill cut for every 5 minutes of the night;"
echo "demo: open the latest published cut in a browser:  file://$OUT/site/index.html"
echo "demo: check it yourself:  cd $OUT/site && signify-openbsd -V -p $OUT/ieeq-simulacro.pub -m SHA256SUMS && sha256sum -c --strict --quiet SHA256SUMS"
echo "demo: (broadcasters serving cuts over HTTPS, delivery and the monitor board are the open issues)"
echo
start=$(TZ=America/Mexico_City date -d '2021-06-06 20:05' +%s)
for ((t = start; t <= start + 86400; t += 300)); do
  at=$(TZ=America/Mexico_City date -d "@$t" '+%Y-%m-%d %H:%M')
  line=$("$PREP" cut --catalog "$OUT/catalog.cat" --actas "$OUT/actas" --at "$at" --drill \
           --key "$OUT/ieeq-simulacro.key" --pubkey "$OUT/ieeq-simulacro.pub" --store "$OUT/store" 2>/dev/null)
  seq=${line#cut }; seq=${seq%% *}
  now=$(TZ=America/Mexico_City date -d "@$t" '+%Y-%m-%dT%H:%M:%S%:z')
  "$PREP" verify --store "$OUT/store" --pubkey "$OUT/ieeq-simulacro.pub" --drill --cut "$seq" --now "$now" >/dev/null
  "$PREP" export --store "$OUT/store" --out "$OUT/site" --no-twins --no-archive >/dev/null 2>&1
  when=$(sed -n 3p "$OUT/site/base-de-datos/gub.csv")
  counted=$(sed -n 5p "$OUT/site/base-de-datos/gub.csv" | cut -d'|' -f7)
  echo "demo: corte $seq, $when: gubernatura ${counted}% actas contabilizadas; signed, verified, published"
  sleep "$TICK"
done
echo "demo: the night is over (24 h of cuts); the last cut stays in $OUT/site"
