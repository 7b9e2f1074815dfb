#!/usr/bin/env bash
# prep institute on a live night: the capture system writes the actas files as captures
# come in, and each cut must take what is in them then (session 35's probe: the daemon
# read them once at start and signed cut after cut of the captures of its start, labelled
# with the current instant). A drill on an accelerated clock (a cut every 2 s from 20:50):
# - an acta whose capture is written into gub.csv after cut 2 is in a later cut; the daemon
#   says it read the captures again and, since the files only grew, that the cutter goes on
#   from its last cut (its tally, caches and site kept: the cut costs what changed);
# - captures written late, dated before the last cut (a capture system writes seconds after
#   it captures), go on too: one of an acta not counted yet is counted at once (one of the
#   catalogue, one out of it), and an older capture of an acta counted since is left (the
#   newer one is the correction);
# - a capture the last cut applied written again (the same instant: the order cannot be
#   told) makes a new cutter, whose cut checks the files against the active cut;
# - a file rewritten with a row cut short is refused at that slot (ALERT, no cut, the
#   active cut stays), and once mended the cuts go on, continued;
# - the store verifies; the last cut holds both actas (the late one as captured, not its
#   older copy), and its databases, made by a cutter that went on over re-read files, hold
#   the same rows and figures as a site rendered from nothing from the same files at the
#   same instant (prep render);
# - the drill started again with the same clock.start is refused as behind its own cuts
#   (captures-behind), not blaming the files, until its clock passes them.
# Usage: tests/integ/institute_live_captures.sh PATH/TO/prep
set -euo pipefail
PREP=$1
T=$(mktemp -d)
mkdir -p "$T/logs"
. "$(dirname "$0")/lib/night.sh"
trap 'set +e; stop institute; rm -rf "$T"' EXIT # the daemon may have ended by itself
cd "$T"
"$PREP" sim catalog --scale tiny --seed 5 --out cat.cat >/dev/null
"$PREP" sim actas --catalog cat.cat --out full --seed 5 2>/dev/null
"$PREP" keygen --out k --drill >/dev/null
# the actas whose captures are written late: the third captured of gub (21:09 on the
# night's clock, written after cut 2 at 20:55) and the first (written after cut 5, 21:10)
read -r early late < <(python3 - full/gub.csv <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8'), delimiter='|'))
h = rows[0]; k, v, c = h.index('CLAVE_ACTA'), h.index('FECHA_HORA_VERIFICACION'), h.index('FECHA_HORA_CAPTURA')
got = sorted((r[v] or r[c], r[k]) for r in rows[1:] if (r[v] or r[c]))
assert got[0][0] < '2021-06-06 21:10' and '2021-06-06 20:55' < got[2][0], got[:3]
print(got[0][1], got[2][1])
PY
)
mkdir actas
cp full/*.csv actas/
grep -v "|$late|\||$early|" full/gub.csv >actas/gub.csv
row=$(grep "|$late|" full/gub.csv)
erow=$(grep "|$early|" full/gub.csv)
[ -n "$row" ] && [ -n "$erow" ] || { echo "no row for $late or $early"; exit 1; }
# an older capture of $late (21:05, one vote more in its first vote column), written after
# the 21:09 one was counted; and an acta of a section the catalogue lacks (fuera de
# catálogo), also dated 21:05
{ read -r orow; read -r xrow; } < <(python3 - full/gub.csv "$late" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8'), delimiter='|'))
h = rows[0]; r = next(r for r in rows[1:] if r[h.index('CLAVE_ACTA')] == sys.argv[2])
for f in ('FECHA_HORA_CAPTURA', 'FECHA_HORA_VERIFICACION'): r[h.index(f)] = '2021-06-06 21:05:00'
j = h.index('TOTAL_VOTOS_SACADOS') + 1; r[j] = str(int(r[j]) + 1)
x = list(r)
for f in ('CLAVE_CASILLA', 'CLAVE_ACTA'):
    k = x[h.index(f)]; x[h.index(f)] = k[:k.index('=') + 4 if k.startswith('=') else 2] + '9999' + k[(k.index('=') + 8 if k.startswith('=') else 6):]
x[h.index('SECCION')] = '9999'
print('|'.join(r)); print('|'.join(x))
PY
)
[ -n "$xrow" ] || { echo "no row out of the catalogue"; exit 1; }
cat >instituto.json <<EOF
{
  "catalog": "$T/cat.cat", "actas": "$T/actas", "key": "$T/k.key", "pubkey": "$T/k.pub",
  "store": "$T/inst", "drill": true,
  "clock": {"start": "2021-06-06 20:50", "seconds_per_cut": 2},
  "max_cuts": 14
}
EOF
start institute "$PREP" institute --config "$T/instituto.json"
log=$T/logs/institute.log
wait_for() { # PATTERN SECONDS: the daemon's log says it
  for _ in $(seq 1 $(($2 * 10))); do grep -q "$1" "$log" && return 0; sleep 0.1; done
  echo "the daemon did not say '$1' in $2 s"; cat "$log"; return 1
}
wait_for "corte 2 " 30
printf '%s\n' "$row" >>actas/gub.csv
wait_for "actas/gub.csv changed since it was read: reading the captures again" 10
wait_for "the next cut continues from the last" 10
wait_for "corte 4 " 20
grep -q "a new cutter read them" "$log" && { echo "an appended capture after the last cut was taken for a changed past"; cat "$log"; exit 1; }
wait_for "corte 5 " 20
printf '%s\n%s\n%s\n' "$erow" "$orow" "$xrow" >>actas/gub.csv
wait_for "2 written late (dated before it) counted now" 10
wait_for "corte 7 " 20
printf '%s\n' "$erow" >>actas/gub.csv
wait_for "a new cutter read them" 10
wait_for "corte 9 " 20
# a rewrite with a row cut short (the capture system's copy interrupted): refused at its
# slot, nothing signed from the captures read before
cp actas/ayu.csv ayu.good
head -c -40 ayu.good >actas/ayu.csv
wait_for "ALERT: the captures in $T/actas cannot be read as they are now" 10
n=$(sed -n 's/^sequence //p' inst/active)
sleep 3
[ "$(sed -n 's/^sequence //p' inst/active)" = "$n" ] || { echo "a cut was made from a file cut short"; cat "$log"; exit 1; }
cont=$(grep -c "the next cut continues from the last" "$log")
cp ayu.good actas/ayu.csv
wait_for "corte $((n + 1)) " 10
[ "$(grep -c "the next cut continues from the last" "$log")" -gt "$cont" ] || { echo "the mended file did not continue the cutter"; cat "$log"; exit 1; }
for _ in $(seq 1 100); do kill -0 "${PID[institute]}" 2>/dev/null || break; sleep 0.2; done
"$PREP" verify --store inst --pubkey k.pub --drill >verify.out 2>&1 || { echo "the store does not verify"; cat verify.out; exit 1; }
# the last cut (made by the cutter continued over the mended files) against a site rendered
# from nothing from the same files at its instant: the same rows and figures in every
# database; only the line with the cut's time (the third) differs (a drill signs the real moment)
last=$(sed -n 's/^sequence //p' inst/active)
at=$(sed -n "s|.*corte $last (noche simulada hasta \([0-9]*\)/\([0-9]*\)/\([0-9]*\) \([0-9:]*\) .*|\3-\2-\1 \4|p" "$log")
[ -n "$at" ] || { echo "no instant for cut $last"; cat "$log"; exit 1; }
"$PREP" export --store inst --out made >/dev/null
"$PREP" render --catalog cat.cat --actas actas --at "$at" --seq "$last" --drill --out scratch >/dev/null
for db in made/base-de-datos/*.csv; do
  b=$(basename "$db")
  diff <(sed 3d "$db") <(sed 3d "scratch/base-de-datos/$b") >/dev/null ||
    { echo "$b of cut $last differs from a render from nothing at $at:"; diff <(sed 3d "$db") <(sed 3d "scratch/base-de-datos/$b") | head; exit 1; }
done
grep -q "|$early|" made/base-de-datos/gub.csv || { echo "acta $early, written dated before the last cut, is not in cut $last"; exit 1; }
grep -q "FUERA DE CAT" <(grep "|9999|" made/base-de-datos/gub.csv) || { echo "the acta out of the catalogue is not in cut $last"; grep "|9999|" made/base-de-datos/gub.csv; exit 1; }
[ "$(grep -c "|$late|.*|2021-06-06 21:09" made/base-de-datos/gub.csv)" = 1 ] && ! grep -q "|$late|.*21:05:00" made/base-de-datos/gub.csv ||
  { echo "acta $late is not its 21:09 capture in cut $last"; grep "|$late|" made/base-de-datos/gub.csv; exit 1; }
# the drill started again with the same clock.start, behind the cuts it made: its slots are
# refused as such (captures-behind, the files not blamed) until its clock passes them (15 slots of 0.5 s)
sed 's/"seconds_per_cut": 2/"seconds_per_cut": 0.5/; s/"max_cuts": 14/"max_cuts": 1/' instituto.json >again.json
timeout 60 "$PREP" institute --config "$T/again.json" >again.log 2>&1 || { echo "the restarted drill failed"; cat again.log; exit 1; }
grep -q "captures-behind: the active cut $last published captures up to" again.log ||
  { echo "the restart behind the cuts was not said as such"; cat again.log; exit 1; }
! grep -q "published-acta-missing\|count-decreased" again.log || { echo "the files were blamed"; cat again.log; exit 1; }
[ "$(sed -n 's/^sequence //p' inst/active)" = $((last + 1)) ] || { echo "no cut once the clock passed"; cat again.log; exit 1; }
"$PREP" export --store inst --out site >/dev/null
grep -q "2021-06-06 21:" <(grep "|$late|" site/base-de-datos/gub.csv) ||
  { echo "acta $late written after the start is not captured in the last cut"; grep "|$late|" site/base-de-datos/gub.csv; exit 1; }
echo "institute_live_captures: ok ($(grep -c 'reading the captures again' "$log") re-readings, last cut $(sed -n 's/^sequence //p' inst/active))"
