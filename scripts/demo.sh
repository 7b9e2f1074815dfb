#!/usr/bin/env bash
# The election-night drill, on this machine: installs what is missing, builds, simulates the
# Querétaro 2021 process and its night, and makes a cut every 5 simulated minutes on an
# accelerated clock (one cut per PREP_DEMO_TICK seconds, default 1), writing each cut's
# official database under out/demo/cortes/<seq>/ and printing its figures.
# Usage: bash scripts/demo.sh   (as root on a fresh Debian 12; Ctrl-C stops it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PREP=$PWD/build/prep
if "$PREP" demo --help >/dev/null 2>&1; then exec "$PREP" demo "$@"; fi

OUT=${PREP_DEMO_OUT:-$PWD/out/demo}
TICK=${PREP_DEMO_TICK:-1}
mkdir -p "$OUT"
echo "demo: simulating the Querétaro 2021 catalogue and election night in $OUT"
"$PREP" sim catalog --scale qro2021 --out "$OUT/catalog.cat"
"$PREP" sim actas --catalog "$OUT/catalog.cat" --out "$OUT/actas" --seed 2021
echo "demo: one cut per ${TICK}s stands for 5 minutes of the night (20:00 to 20:00 next day)"
seq=0
start=$(TZ=America/Mexico_City date -d '2021-06-06 20:00' +%s)
for ((t = start; t <= start + 86400; t += 300)); do
  seq=$((seq + 1))
  at=$(TZ=America/Mexico_City date -d "@$t" '+%Y-%m-%d %H:%M')
  dir="$OUT/cortes/$seq"
  "$PREP" tally --catalog "$OUT/catalog.cat" --actas "$OUT/actas" --at "$at" --db-out "$dir" \
    >"$dir.summary" 2>/dev/null || { echo "demo: cut $seq failed"; exit 1; }
  # second value line of each block: actas contabilizadas %, participation
  awk -v seq="$seq" -v at="$at" 'NR%5==1{name=$0} NR%5==4{split($0,v,"|"); printf "corte %3d  %s  %-22s actas %s%% contabilizadas, participación %s%%\n", seq, at, name, v[7], v[13]}' "$dir.summary"
  sleep "$TICK"
done
echo "demo: the night is over; every cut's database is under $OUT/cortes/"
