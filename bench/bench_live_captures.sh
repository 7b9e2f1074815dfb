#!/usr/bin/env bash
# Benchmark: `prep institute` on a live night whose capture system appends to the actas
# files as captures come in (docs/institute.md, "Captures that change"). A drill on an
# accelerated clock from the busiest hour (21:30, a cut every 5 simulated minutes); after
# each cut the script appends to each election's file the captures of the next 5 minutes
# less LAG seconds (default 60: written in capture order a minute after they are made, as
# a capture system would, so each cut's files hold a minute of captures dated before the
# last cut: written late). So every cut reads changed files:
# - cuts 2 to 5 and 7: the files only grew, and the cutter goes on from its last cut
#   (tally, render cache, hash cache and last site kept), the late captures counted;
# - cut 6, the reference in the same run: one row written again dated before the last cut
#   (a capture up to it changed), so a new cutter reads the files and makes the cut whole,
#   which before session 36 was every re-reading's cost.
# Prints per cut: the captures applied (and written late), the CPU of reading the files
# again, the CPU of the
# cut (tally + render + sign + store), and which path it took; then the continued cuts'
# largest reading + cut beside the whole one's.
# A benchmark, not a test (~6 min and ~4 GB of RAM at national scale on 2 cores).
# Usage: bench/bench_live_captures.sh PATH/TO/prep [--scale national|national-small]
#        [--seconds-per-cut S] [--lag SECONDS] [--dir DIR]
set -uo pipefail
case ${1:-} in
  ''|-h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
SCALE=national SPC=40 LAG=60 DIR=/dev/shm/bench-live-captures
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --seconds-per-cut) SPC=$2; shift 2 ;;
    --lag) LAG=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    *) echo "usage: $0 PREP [--scale national|national-small] [--seconds-per-cut S] [--lag SECONDS] [--dir DIR]" >&2; exit 2 ;;
  esac
done
rm -rf "$DIR"
mkdir -p "$DIR/actas"
cd "$DIR" || exit 2
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"' EXIT
"$PREP" sim catalog --scale "$SCALE" --seed 5 --out cat.cat >/dev/null || exit 1
"$PREP" sim actas --catalog cat.cat --out full --seed 5 2>/dev/null || exit 1
"$PREP" keygen --out k --drill >/dev/null || exit 1
START="2021-06-06 21:30"
CUTS=7 PAST=6
cat >instituto.json <<EOF
{
  "catalog": "$DIR/cat.cat", "actas": "$DIR/actas", "key": "$DIR/k.key", "pubkey": "$DIR/k.pub",
  "store": "$DIR/inst", "drill": true,
  "clock": {"start": "$START", "seconds_per_cut": $SPC},
  "max_cuts": $CUTS
}
EOF
# The capture system: the files as they are at the first cut (LAG seconds behind it), then
# 5 more minutes of captures appended after each cut is logged (and, after cut PAST-1, one
# applied row again).
python3 - full actas "$START" institute.log $CUTS $PAST $LAG <<'PY' &
import csv, datetime, os, sys, time
full, out, start, log, cuts, past = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
lag = datetime.timedelta(seconds=int(sys.argv[7]))
t0 = datetime.datetime.strptime(start, '%Y-%m-%d %H:%M')
files = {}
for name in sorted(os.listdir(full)):
    lines = open(os.path.join(full, name), encoding='utf-8').read().split('\n')
    h = next(csv.reader([lines[0]], delimiter='|'))
    v, c = h.index('FECHA_HORA_VERIFICACION'), h.index('FECHA_HORA_CAPTURA')
    rows = []
    for l in lines[1:]:
        if not l: continue
        r = next(csv.reader([l], delimiter='|'))
        t = r[v] or r[c]
        if t: rows.append((datetime.datetime.strptime(t[:19], '%Y-%m-%d %H:%M:%S'), l))
    rows.sort(key=lambda x: x[0])
    files[name] = (lines[0], rows)
def write_until(until, mode):
    for name, (head, rows) in files.items():
        with open(os.path.join(out, name), mode, encoding='utf-8') as f:
            if mode == 'w': f.write(head + '\n')
            f.write(''.join(l + '\n' for t, l in rows if (mode == 'w' or t > until - datetime.timedelta(minutes=5)) and t <= until))
write_until(t0 - lag, 'w')
open(log + '.ready', 'w').close()
for k in range(1, cuts):
    while True:
        try:
            if f'prep institute: corte {k} (' in open(log, encoding='utf-8').read(): break
        except FileNotFoundError: pass
        time.sleep(0.1)
    write_until(t0 + datetime.timedelta(minutes=5 * k) - lag, 'a')
    if k == past - 1:  # a row the last cut applied, written again: the past changed
        name, (head, rows) = next(iter(files.items()))
        with open(os.path.join(out, name), 'a', encoding='utf-8') as f: f.write(rows[0][1] + '\n')
PY
until [ -f institute.log.ready ]; do sleep 0.2; done
"$PREP" institute --config "$DIR/instituto.json" >institute.log 2>&1 &
PID=$!
wait "$PID"
PID=
python3 - institute.log $PAST <<'PY'
import re, sys
log, past = open(sys.argv[1], encoding='utf-8').read().split('\n'), int(sys.argv[2])
read, path, late, rows = None, 'first', '', []
for l in log:
    m = re.search(r', (\d+) written late .*next cut continues from the last \(read in ([0-9.]+) s CPU\)', l)
    if m: late, read, path = m.group(1), float(m.group(2)), 'continued'
    m = re.search(r'a new cutter read them \(([0-9.]+) s CPU\)', l)
    if m: read, path = float(m.group(1)), 'whole (new cutter)'
    m = re.search(r'corte (\d+) \(.*?(\d+) capturas nuevas, ([0-9.]+) s CPU', l)
    if m:
        rows.append((int(m.group(1)), int(m.group(2)), late, read, float(m.group(3)), path))
        read, path, late = None, 'no re-reading', ''
print(f"{'cut':>4} {'captures':>9} {'of them late':>13} {'read again, CPU s':>18} {'cut, CPU s':>11}  path")
for seq, n, lt, rd, cpu, p in rows:
    print(f"{seq:>4} {n:>9} {lt:>13} {'' if rd is None else f'{rd:.2f}':>18} {cpu:>11.2f}  {p}")
cont = [r for r in rows if r[5] == 'continued']
whole = [r for r in rows if r[5].startswith('whole')]
if cont and whole:
    c = max(r[3] + r[4] for r in cont); w = max(r[3] + r[4] for r in whole)
    print(f"a re-reading that continues: at most {c:.2f} CPU s (read + cut); one that makes the cut whole "
          f"(the reference, every re-reading's cost before): {w:.2f} CPU s")
else:
    print("missing paths in the log:"); print('\n'.join(l for l in log if 'ALERT' in l or 'refus' in l)); sys.exit(1)
PY
