#!/usr/bin/env bash
# Issue 15: a national night in the federal layout (32 entities, 300 districts; presidencia,
# senadurías, diputaciones federales; special casillas with their RP actas; votes from
# abroad), counted by prep and recounted independently. The recount
# (national_recount.py) reads the simulated actas CSVs and the catalogue text, applies the
# counting rules of docs/formats/actas.md itself, and must give, for the nation, every
# entity, every district and every section, the figures prep's tally gives: actas
# expected, captured and counted, and the votes of every column; and the 13 figures of
# each election's header block; and every datos.json of the site prep render writes for
# the same cut (the open data: actas figures, votes by candidacy and combination, nulos;
# and the rows of children a lean aggregate file keeps: the nation's entities, an entity's
# districts).
# Twice: mid-night (a cut at 00:30, where the latest-capture and instant rules matter) and
# the final cut at the window's close.
set -euo pipefail
PREP=${1:?usage: national_recount.sh PATH/TO/prep}
HERE=$(cd "$(dirname "$0")" && pwd)
# on tmpfs when there is one: the site is ~7,000 files, each written with fsync
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d); trap 'rm -rf "$T"' EXIT
t0=$(date +%s)
"$PREP" sim catalog --scale national-small --seed 7 --out "$T/nat.cat"
"$PREP" sim actas --catalog "$T/nat.cat" --out "$T/actas" --seed 7 2>"$T/sim.err" || { cat "$T/sim.err"; exit 1; }
for at in "2021-06-07 00:30:00" "2021-06-07 20:00:00"; do
  "$PREP" tally --catalog "$T/nat.cat" --actas "$T/actas" --at "$at" --units-json "$T/units.json" \
    >"$T/tally.out" 2>"$T/tally.err" || { cat "$T/tally.err"; exit 1; }
  rm -rf "$T/site"
  "$PREP" render --catalog "$T/nat.cat" --actas "$T/actas" --at "$at" --out "$T/site" --no-embedded \
    >/dev/null 2>"$T/render.err" || { cat "$T/render.err"; exit 1; }
  echo "== cut $at"
  python3 "$HERE/national_recount.py" --catalog "$T/nat.cat" --actas "$T/actas" --units "$T/units.json" \
    --at "$at" --block "$T/tally.out" --site "$T/site" --sections 1000 --variety
done
echo "national_recount: $(( $(date +%s) - t0 )) s"
