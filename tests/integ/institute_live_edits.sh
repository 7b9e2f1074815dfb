#!/usr/bin/env bash
# prep institute reading changed files on a live night, the two cases session 36's audit
# (helper-36) found a continued cutter getting wrong:
# 1. out-of-catalogue rows whose CLAVE_ACTA is "-" (it names no acta, so the tally tells
#    such rows apart by their line): the capture system writes the file again without its
#    "sep=|" line and appends another such row, which lands on the first one's old line.
#    The continued cutter took the new row for the old one and lost a capture; now a
#    moved line of such a row makes a new cutter, and cut 2's databases equal a render
#    from nothing of the same files at its instant.
# 2. the catalogue edited during the night (a lista nominal changed): the continued cutter
#    kept signing with the catalogue it read at start. Now the catalogue is watched like
#    the actas files; a new cutter reads it and its cut is refused as a restarted
#    daemon's is (catalogue-changed), the active cut staying.
# 3. (not wrong, but costly) rows of one instant written again in another order: each such
#    rewrite made a new cutter and a whole cut; now the cutter continues.
# Usage: tests/integ/institute_live_edits.sh PATH/TO/prep
set -euo pipefail
PREP=$1
T=$(mktemp -d)
PID=
trap 'if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi; rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; [ -f log ] && tail -20 log; exit 1; }
"$PREP" sim catalog --scale tiny --seed 5 --out cat.cat >/dev/null
"$PREP" sim actas --catalog cat.cat --out full --seed 5 2>/dev/null
"$PREP" keygen --out k --drill >/dev/null
# the night's rows by election, and those captured by 21:30 (the first cut's)
cat >night.py <<'PY'
import csv
def elections():
    for el in ('gub', 'ayu', 'dip'):
        rows = list(csv.reader(open(f'full/{el}.csv', encoding='utf-8'), delimiter='|'))
        h = rows[0]; I = h.index
        t = lambda r, I=I: r[I('FECHA_HORA_VERIFICACION')] or r[I('FECHA_HORA_CAPTURA')]
        yield el, rows, h, I, t, [r for r in rows[1:] if t(r) and t(r) <= '2021-06-06 21:30:00']
PY
same_as_scratch() { # CUT ELECTION...: its databases equal a render from nothing of actas/ at 21:35
  local cut=$1; shift
  rm -rf made scratch
  "$PREP" export --store inst --cut "$cut" --out made --no-twins --no-archive >/dev/null
  "$PREP" render --catalog cat.cat --actas actas --at "2021-06-06 21:35" --seq "$cut" --drill --out scratch >/dev/null 2>&1
  for e in "$@"; do
    diff <(sed 3d made/base-de-datos/$e.csv) <(sed 3d scratch/base-de-datos/$e.csv) >diff.txt ||
      { cat diff.txt; fail "$e.csv of cut $cut differs from a render from nothing"; }
  done
}
wait_for() { # PATTERN SECONDS
  for _ in $(seq 1 $(($2 * 10))); do grep -q "$1" log 2>/dev/null && return 0; sleep 0.1; done
  fail "the daemon did not say '$1' in $2 s"
}
daemon() { # CUTS: a drill from 21:30, a cut every 2 s
  cat >inst.json <<EOF
{"catalog": "$T/cat.cat", "actas": "$T/actas", "key": "$T/k.key", "pubkey": "$T/k.pub", "store": "$T/inst",
 "drill": true, "clock": {"start": "2021-06-06 21:30", "seconds_per_cut": 2}, "max_cuts": $1}
EOF
  "$PREP" institute --config inst.json >log 2>&1 &
  PID=$!
}

# 1. The files as captured up to 21:30, gub.csv with "sep=|" and row A ("-", section 999,
# 21:01) last; gub.next without "sep=|", with A and then B ("-", section 998, 21:32).
mkdir actas
python3 - <<'PY'
from night import *
for el, rows, h, I, t, keep in elections():
    pre = []
    if el == 'gub':
        def ooc(sec, when):
            r = list(rows[1]); r[I('CLAVE_CASILLA')] = '-'; r[I('CLAVE_ACTA')] = '-'; r[I('SECCION')] = sec
            r[I('FECHA_HORA_CAPTURA')] = r[I('FECHA_HORA_VERIFICACION')] = when
            return r
        A, B = ooc('999', '2021-06-06 21:01:00'), ooc('998', '2021-06-06 21:32:00')
        open('gub.next', 'w', encoding='utf-8').write('\n'.join('|'.join(r) for r in [h] + keep + [A, B]) + '\n')
        keep.append(A); pre = ['sep=|']
    open(f'actas/{el}.csv', 'w', encoding='utf-8').write('\n'.join(pre + ['|'.join(r) for r in [h] + keep]) + '\n')
PY
daemon 2
wait_for "corte 1 (" 30
mv gub.next actas/gub.csv
wait "$PID" || fail "the daemon failed"
grep -q "a new cutter read them" log || fail "a moved row whose key names no acta did not make a new cutter"
same_as_scratch 2 gub
[ "$(grep -c "FUERA DE CATALOGO" made/base-de-datos/gub.csv)" = 2 ] || fail "cut 2 lacks one of the two rows out of the catalogue"
echo "rows whose key names no acta, their lines moved: a new cutter, cut 2 as a render from nothing"

# 3. Rows of one instant written again in another order (an export ordered by time alone:
# ties come in any order), with a new row: the cutter continues (within an instant only one
# acta's captures have an order that counts), and cut 2 equals a render from nothing.
rm -rf inst actas
mkdir actas
python3 - <<'PY'
from night import *
for el, rows, h, I, t, keep in elections():
    new = [r for r in rows[1:] if t(r) and '2021-06-06 21:30:00' < t(r) <= '2021-06-06 21:35:00']
    for r in keep[:3]:  # three actas captured at one instant
        r[I('FECHA_HORA_CAPTURA')] = r[I('FECHA_HORA_VERIFICACION')] = '2021-06-06 21:20:00'
    w = lambda rs: '\n'.join('|'.join(r) for r in [h] + rs) + '\n'
    open(f'actas/{el}.csv', 'w', encoding='utf-8').write(w(keep))
    open(f'{el}.next', 'w', encoding='utf-8').write(w(keep[2::-1] + keep[3:] + new))
PY
daemon 3
wait_for "corte 1 (" 30
for e in gub ayu dip; do mv $e.next actas/$e.csv; done
touch cat.cat # the catalogue's time changes, not its bytes: read once, then not again
wait "$PID" || fail "the daemon failed"
grep -q "the next cut continues from the last" log || fail "rows of one instant reordered did not continue the cutter"
! grep -q "a new cutter read them" log || fail "rows of one instant reordered made a new cutter"
[ "$(grep -c "changed since it was read" log)" = 1 ] || fail "files read again at a slot where nothing changed"
same_as_scratch 2 gub ayu dip
echo "rows of one instant reordered: continued, cut 2 as a render from nothing"

# 2. The catalogue edited after cut 1 (a casilla's lista nominal), the files growing too.
rm -rf inst
daemon 4
wait_for "corte 1 (" 30
python3 - <<'PY'
lines = open('cat.cat', encoding='utf-8').read().split('\n')
i = next(k for k, l in enumerate(lines) if l.strip() == '[casillas]') + 2  # its first row
f = lines[i].split('|'); f[5] = str(int(f[5]) + 100); lines[i] = '|'.join(f)
open('cat.cat', 'w', encoding='utf-8').write('\n'.join(lines))
PY
tail -n +2 full/ayu.csv | sed -n 1p >>actas/ayu.csv
wait_for "catalogue-changed" 20
sleep 3 # the next slots: refused as well
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
[ "$(sed -n 's/^sequence //p' inst/active)" = 1 ] || fail "a cut was signed after the catalogue changed"
echo "the catalogue edited during the night: refused as catalogue-changed, the active cut stays"
