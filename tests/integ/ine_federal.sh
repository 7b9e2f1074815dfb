#!/usr/bin/env bash
# Issue 15 item 2: INE's federal actas layout (2018 and 2021 LEEMEs), read by the same
# reader as every other family. The test files of tests/data/actas/ine20*.csv are written
# by tests/data/actas/gen_ine_federal.py (several entities, federal districts numbered
# per entity, special casillas with an MR and an RP acta, votes from abroad, prison
# votes, out-of-catalogue rows, every inconsistency); its header block comes from the
# generator's own model of each acta. Here a second, independent recount in Python reads
# the rows as text (csv module) by the LEEME definitions and must give that block, and
# `prep tally --actas F --check --json` must give the same 13 figures.
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data/actas
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0

# The committed files are the generator's output (deterministic).
python3 "$DATA/gen_ine_federal.py" "$T"
for f in "$DATA"/ine20*.csv; do
  cmp -s "$f" "$T/$(basename "$f")" || { echo "$(basename "$f"): not what gen_ine_federal.py writes"; fail=1; }
done

cat >"$T/recount.py" <<'EOF'
"""Recounts the 13 header figures of an INE federal results file from its rows.

LEEME INE 2018 / 2021 (../shared/data/ine-20*-prep-dip-fed/LEEME.txt), section C.a:
ESPERADAS every acta of the approved casillas (a special casilla's RP acta is an acta of
its own; votes from abroad and prison votes are casillas of the catalogue); fuera de
catalogo: CLAVE_CASILLA "-" (2021), TIPO_ACTA 0 (2018) or OBSERVACIONES saying so;
REGISTRADAS includes them, CAPTURADAS excludes them; CONTABILIZADAS: CONTABILIZADA 1;
inconsistencies: Excede lista nominal, Ilegible, Sin dato (also "todos"); NO
CONTABILIZADAS: every other registered acta, fuera de catalogo included (item 9);
C_CS every counted acta, S_CS without special casillas (TIPO_CASILLA S: both the MR and
the RP acta); participation S_CS / LN while the night runs, C_CS / LN once every expected
acta is captured (item 13). Percentages: 4 decimals, truncated."""
import csv, io, json, sys, unicodedata
raw = open(sys.argv[1], 'rb').read()
try:
    text = raw.decode('utf-8')
except UnicodeDecodeError:
    text = raw.decode('latin-1')
lines = text.replace('\r\n', '\n').split('\n')
hi = next(i for i, l in enumerate(lines) if l.startswith('CLAVE_CASILLA'))
sep = '|' if '|' in lines[hi] else ','
ni = next(i for i, l in enumerate(lines) if l.startswith('ACTAS_ESPERADAS'))
stated = lines[ni + 1].split(sep)
rows = list(csv.DictReader(io.StringIO('\n'.join(lines[hi:])), delimiter=sep))
def fold(s):
    return ''.join(c for c in unicodedata.normalize('NFD', s) if not unicodedata.combining(c)).upper()
VOTE_END = 'NO_REGISTRADOS'
cols = list(rows[0].keys())
first = cols.index('TOTAL_VOTOS_SACADOS') + 1
while cols[first].startswith('CODIGOS_'): first += 1
vote_cols = cols[first:cols.index('NULOS') + 1]
esp = reg = out = cap = cont = nc = inc = ln = ccs = scs = 0
for r in rows:
    obs = fold(r['OBSERVACIONES'])
    votes = [r[c] for c in vote_cols]
    arrived = r['CONTABILIZADA'] in ('0', '1', '2') or obs != '' or any(v not in ('', '-') for v in votes)
    if r['CLAVE_CASILLA'] == '-' or r['TIPO_ACTA'] in ('0', '-'):
        out += 1; reg += 1; nc += 1  # listed only because captured
        continue
    if 'FUERA DE CATALOGO' in obs:
        out += arrived; reg += arrived; nc += arrived
        continue
    esp += 1
    if not arrived: continue
    reg += 1; cap += 1
    if r['CONTABILIZADA'] == '1':
        cont += 1
        ln += int(r['LISTA_NOMINAL'])
        t = sum(int(v) for v in votes if v.isdigit())
        assert t == int(r['TOTAL_VOTOS_CALCULADO']), r['CLAVE_ACTA']
        ccs += t
        if r['TIPO_CASILLA'] != 'S': scs += t
    else:
        nc += 1
    if 'EXCEDE' in obs or 'ILEGIBLE' in obs or 'SIN DATO' in obs or 'VACIOS' in obs: inc += 1
def pct(a, b):
    v = a * 1000000 // b if b else 0
    return '%d.%04d' % (v // 10000, v % 10000)
figs = [esp, reg, out, cap, pct(cap, esp), cont, pct(cont, esp), pct(inc, esp), nc, ln, ccs, scs,
        pct(ccs if cap == esp else scs, ln)]
figs = [str(x) for x in figs]
errors = []
if figs != stated:
    errors.append('recount %s != header %s' % (figs, stated))
r = json.load(open(sys.argv[2]))
got = [f['computed'] for f in r['figures']]
if got != figs: errors.append('prep computed %s != recount %s' % (got, figs))
if not all(f['equal'] for f in r['figures']): errors.append('prep: a figure differs from the header')
if not r['ok'] or r['rows_unreadable']: errors.append('prep: ok=%s unreadable=%s' % (r['ok'], r['rows_unreadable']))
if r['cut'] == '' or '(UTC-5)' not in r['cut']: errors.append('prep: cut line %r' % r['cut'])
if errors:
    print(sys.argv[1]); print('\n'.join('  ' + e for e in errors)); sys.exit(1)
print('%-28s %s' % (sys.argv[1].split('/')[-1], '|'.join(figs)))
EOF

for f in "$DATA"/ine20*.csv; do
  set +e
  "$PREP" tally --actas "$f" --check --json >"$T/out.json" 2>"$T/err"; rc=$?
  set -e
  [ $rc -eq 0 ] || { echo "$(basename "$f"): prep --check exit $rc"; cat "$T/err"; fail=1; continue; }
  python3 "$T/recount.py" "$f" "$T/out.json" || fail=1
  # --audit: the generator gave each acta the status the Anexo 13 rules give it (special
  # casillas' cap: 750 ballots in 2018, 1,000 in 2021, plus representatives)
  "$PREP" tally --actas "$f" --check --audit --json >"$T/audit.json" 2>/dev/null || { echo "$(basename "$f"): --audit failed"; fail=1; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r.get("audit") and not r.get("audit_not_recomputable"), r.get("audit"); assert r["rules"]["special_ballots"] == int(sys.argv[2]), r["rules"]' \
    "$T/audit.json" "$(case "$f" in *2018*) echo 750;; *) echo 1000;; esac)" || { echo "$(basename "$f"): audit"; fail=1; }
done

# The same files read against their national catalogues (tests/data/actas/ine2018.cat,
# ine2021.cat, written by the generator from its model): prep classifies every acta
# itself by the Anexo 13 rules (not by the file's flags), tallies them with the RP acta of
# each special casilla in a slot of its own, and must print the file's header block; its
# database (--db-out, INE's federal layout) must then check against its own block.
for spec in 2018:presidencia:pres 2018:senadurias:sen 2018:diputaciones:dip 2021:diputaciones:dip; do
  IFS=: read -r y n e <<<"$spec"
  F=$DATA/ine${y}_$n.csv
  rm -rf "$T/db"
  "$PREP" tally --catalog "$DATA/ine$y.cat" --actas "$F" --election "$e" --db-out "$T/db" >"$T/tally.out" 2>"$T/err" ||
    { echo "ine${y}_$n.csv: prep tally --catalog failed"; cat "$T/err"; fail=1; continue; }
  grep -q "0 unreadable rows" "$T/err" || { echo "ine${y}_$n.csv: unreadable rows"; cat "$T/err"; fail=1; }
  want=$(grep -a -A1 '^ACTAS_ESPERADAS' "$F" | tail -1 | tr -d '\r' | tr ',' '|')
  got=$(sed -n 4p "$T/tally.out" | tr ',' '|')
  [ "$got" = "$want" ] || { echo "ine${y}_$n.csv: tally with the catalogue gives $got, the file says $want"; fail=1; }
  grep -q '^CLAVE_CASILLA.CLAVE_ACTA.ID_ESTADO.ESTADO.ID_DISTRITO_FEDERAL.DISTRITO_FEDERAL.SECCION.' <(head -8 "$T/db/$e.csv") ||
    { echo "ine${y}_$n.csv: the database is not in the federal layout"; head -8 "$T/db/$e.csv"; fail=1; }
  "$PREP" tally --actas "$T/db/$e.csv" --check >"$T/dbcheck.out" 2>&1 ||
    { echo "ine${y}_$n.csv: its database does not check"; cat "$T/dbcheck.out"; fail=1; }
  echo "ine${y}_$n.csv: tally with ine$y.cat = the header block; its database checks"
done

# Without a catalogue: prep derives a national one from each file (entities, their
# districts and sections, acta types, the special casillas' RP actas, the votes from
# abroad) and its tally must give the header block too.
for f in "$DATA"/ine20*.csv; do
  "$PREP" tally --actas "$f" >"$T/derived.out" 2>"$T/err" || { echo "$(basename "$f"): derive failed"; cat "$T/err"; fail=1; continue; }
  want=$(grep -a -A1 '^ACTAS_ESPERADAS' "$f" | tail -1 | tr -d '\r')
  grep -a -q -x -F "$want" "$T/derived.out" || { echo "$(basename "$f"): derived tally differs"; cat "$T/derived.out" "$T/err"; fail=1; }
  grep -q "all 13 figures equal" "$T/err" || { echo "$(basename "$f"): derived tally: not all figures equal"; cat "$T/err"; fail=1; }
done

# The LEEMEs do not say which district a mesa of votes from abroad names: the same
# senadurias file with its M rows in district 1 ("JESUS MARIA") instead of 0 derives and
# reads the same (they stay in section 0 of district 0 of their entity).
python3 - "$DATA/ine2018_senadurias.csv" "$T/m_district.csv" <<'PY'
import sys
raw = open(sys.argv[1], 'rb').read().decode('latin-1').split('\r\n')
cols = next(l for l in raw if l.startswith('CLAVE_CASILLA')).split('|')
out = []
for l in raw:
    f = l.split('|')
    if len(f) == len(cols) and f[cols.index('TIPO_CASILLA')] == 'M':
        f[cols.index('ID_DISTRITO_FEDERAL')] = '1'
        f[cols.index('DISTRITO_FEDERAL')] = 'JESUS MARIA'
    out.append('|'.join(f))
open(sys.argv[2], 'wb').write('\r\n'.join(out).encode('latin-1'))
PY
want=$(grep -a -A1 '^ACTAS_ESPERADAS' "$DATA/ine2018_senadurias.csv" | tail -1 | tr -d '\r')
"$PREP" tally --actas "$T/m_district.csv" >"$T/md.out" 2>"$T/err" && grep -a -q -x -F "$want" "$T/md.out" ||
  { echo "M rows in district 1: derived tally differs"; cat "$T/md.out" "$T/err"; fail=1; }
"$PREP" tally --catalog "$DATA/ine2018.cat" --actas "$T/m_district.csv" --election sen >"$T/md.out" 2>"$T/err" &&
  grep -q " 0 unreadable rows" "$T/err" && grep -a -q -x -F "$want" "$T/md.out" ||
  { echo "M rows in district 1: tally with the catalogue differs"; cat "$T/md.out" "$T/err"; fail=1; }

# tamper IN OUT COLUMN VALUE PARTY: IN with ten votes more for PARTY (and in
# TOTAL_VOTOS_CALCULADO) in the first counted row whose COLUMN is VALUE; then
# `prep tally --check --json` of OUT into OUT.json, which must exit 1.
tamper() {
  python3 - "$@" <<'PY'
import sys
src, dst, col, val, party = sys.argv[1:6]
raw = open(src, 'rb').read().decode('latin-1').split('\r\n')
hdr = next(i for i, l in enumerate(raw) if l.startswith('CLAVE_CASILLA'))
cols = raw[hdr].split('|')
for i in range(hdr + 1, len(raw)):
    f = raw[i].split('|')
    if len(f) == len(cols) and f[cols.index(col)] == val and f[cols.index('CONTABILIZADA')] == '1':
        for c in (party, 'TOTAL_VOTOS_CALCULADO'):
            f[cols.index(c)] = str(int(f[cols.index(c)]) + 10)
        raw[i] = '|'.join(f)
        break
open(dst, 'wb').write('\r\n'.join(raw).encode('latin-1'))
PY
  local rc
  set +e
  "$PREP" tally --actas "$2" --check --json >"$2.json" 2>/dev/null; rc=$?
  set -e
  [ $rc -eq 1 ] || { echo "$2 tampered: exit $rc, expected 1"; fail=1; }
}

# How the RP acta of a special casilla counts: ten votes more in one counted RP acta
# (TIPO_ACTA 8, diputaciones 2018) move TOTAL_VOTOS_C_CS and not TOTAL_VOTOS_S_CS.
tamper "$DATA/ine2018_diputaciones.csv" "$T/rp.csv" TIPO_ACTA 8 PAN
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); f = {x["name"]: x for x in r["figures"]}
assert f["TOTAL_VOTOS_C_CS"]["equal"] is False and int(f["TOTAL_VOTOS_C_CS"]["computed"]) == int(f["TOTAL_VOTOS_C_CS"]["stated"]) + 10, f["TOTAL_VOTOS_C_CS"]
assert f["TOTAL_VOTOS_S_CS"]["equal"] is True, f["TOTAL_VOTOS_S_CS"]
' "$T/rp.csv.json" || fail=1

# Votes from abroad are no special casilla: ten votes more in a counted M acta
# (presidencia 2018, TIPO_ACTA 1) move both totals.
tamper "$DATA/ine2018_presidencia.csv" "$T/m.csv" TIPO_CASILLA M PRI
python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); f = {x["name"]: x for x in r["figures"]}
for n in ("TOTAL_VOTOS_C_CS", "TOTAL_VOTOS_S_CS"):
    assert f[n]["equal"] is False and int(f[n]["computed"]) == int(f[n]["stated"]) + 10, f[n]
' "$T/m.csv.json" || fail=1

[ $fail -eq 0 ] && echo "INE federal layouts: every figure recounted"
exit $fail
