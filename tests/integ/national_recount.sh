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

# A restarted cutter (prep cut --catalog is a new cutter for every cut): cut 1 at 00:30, then
# cut 2 at 20:00 over the same store, which sheds as it renders every section part cut 1
# holds (docs/formats/site.md, "Parts the store holds"). The chain verifies (every file's
# SHA-256 from its parts, read back from the store), and the section files' parts before
# the per-cut one are the same objects as those of a first cut at 20:00 in a store of its
# own (nothing there to shed).
"$PREP" keygen --out "$T/k" --drill >/dev/null
cut() { # STORE AT
  "$PREP" cut --catalog "$T/nat.cat" --actas "$T/actas" --at "$2" --key "$T/k.key" --pubkey "$T/k.pub" \
    --store "$1" --drill 2>"$T/cut.err" || { cat "$T/cut.err"; exit 1; }
}
cut "$T/sa" "2021-06-07 00:30:00" >/dev/null
line=$(cut "$T/sa" "2021-06-07 20:00:00")
cut "$T/sb" "2021-06-07 20:00:00" >/dev/null
"$PREP" verify --store "$T/sa" --pubkey "$T/k.pub" --drill --now "2021-06-07T20:01:00-05:00" >"$T/verify.out" ||
  { cat "$T/verify.out"; echo "FAIL: the restarted cutter's chain does not verify"; exit 1; }
python3 - "$T/sa/cuts/2/manifest" "$T/sb/cuts/1/manifest" "$line" <<'PY'
import re, sys
def sections(path):
    out, parts = {}, None
    for ln in open(path, encoding="utf-8"):
        if ln.startswith("#p "):
            f = ln.split()[1:]
            parts = [(f[i], f[i + 1]) for i in range(0, len(f), 2)]
        elif not ln.startswith("#") and parts is not None:
            p = ln.rstrip("\n").split("  ", 1)[1]
            m = re.fullmatch(r"seccion/\d\d/\d{4}/(index\.html|datos\.json)", p)
            if m:  # the parts before the per-cut one: a page's stamp and post, a JSON's head
                out[p] = parts[:-2] if m.group(1) == "index.html" else parts[:-1]
            parts = None
    return out
a, b = sections(sys.argv[1]), sections(sys.argv[2])
if not a or a.keys() != b.keys():
    sys.exit(f"FAIL: the section files differ: {len(a)} against {len(b)}")
bad = [p for p in a if a[p] != b[p]]
if bad:
    sys.exit(f"FAIL: {len(bad)} section files' parts differ from a first cut's, e.g. {bad[0]}")
m = re.search(r"(\d+) bytes \((\d+) held in memory\)", sys.argv[3])
if not m or not int(m.group(2)) < int(m.group(1)):
    sys.exit(f"FAIL: the restarted cutter did not shed: {sys.argv[3]}")
print(f"ok: a restarted cutter's cut: {len(a)} section files, their parts those of a first cut; "
      f"{int(m.group(2)) / 1e6:.1f} of {int(m.group(1)) / 1e6:.1f} MB held in memory")
PY
echo "national_recount: $(( $(date +%s) - t0 )) s"
