#!/usr/bin/env bash
# Issue 14: `prep tally --actas F --check --json` on every public real PREP file
# (../shared/data, six institutes, 2018-2021). For each file the expected verdict is
# written here by hand: which figures the rows reproduce and, where the file contradicts
# itself, what the rows give instead and which rows are behind it. The stated values are
# read from the file's own header block by this script (python's csv module), never from
# prep's output. Exit codes: 0 when every figure is equal, 1 otherwise.
set -euo pipefail
PREP=$1
D=${PREP_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
[ -d "$D" ] || { echo "missing $D"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export INTEG_DIR; INTEG_DIR=$(cd "$(dirname "$0")/lib" && pwd)

# file | expected exit | figure=computed@line,line;... for the figures the file gets wrong
cat >"$T/expect" <<'EOF'
qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv|0|
camp-2021-prep/CAMP_GOB_2021.csv|0|
camp-2021-prep/CAMP_AYUN_2021.csv|0|
camp-2021-prep/CAMP_JUNTAS_2021.csv|1|TOTAL_VOTOS_S_CS=64965@
camp-2021-prep/cut-2021-06-06-2240/CAMP_GOB_2021.csv|0|
pue-2018-prep/PUE_GOB_2018.csv|1|ACTAS_NO_CONTABILIZADAS=1175@3613
pue-2018-prep/PUE_DIP_LOC_2018.csv|1|ACTAS_NO_CONTABILIZADAS=1201@5770,6392
son-2021-prep/SON_GOB_2021.csv|0|
son-2021-prep/SON_DIP_LOC_2021.csv|0|
qro-2018-prep-dip-loc/QRO_DIP_LOC_2018.csv|0|
EOF

cat >"$T/verify.py" <<'EOF'
import json, os, sys
sys.path.insert(0, os.environ['INTEG_DIR'])
from real_header import header
path, out_json, wrong = sys.argv[1], sys.argv[2], sys.argv[3]
_, stated = header(path)
r = json.load(open(out_json))
exp = {}
for item in filter(None, wrong.split(';')):
    name, rest = item.split('=')
    comp, lns = rest.split('@')
    exp[name] = (comp, [int(x) for x in lns.split(',') if x])
errors = []
figs = r['figures']
if [f['name'] for f in figs][:13] != ['ACTAS_ESPERADAS', 'ACTAS_REGISTRADAS', 'ACTAS_FUERA_CATALOGO',
        'ACTAS_CAPTURADAS', 'PORCENTAJE_ACTAS_CAPTURADAS', 'ACTAS_CONTABILIZADAS',
        'PORCENTAJE_ACTAS_CONTABILIZADAS', 'PORCENTAJE_ACTAS_INCONSISTENCIAS', 'ACTAS_NO_CONTABILIZADAS',
        'LISTA_NOMINAL_ACTAS_CONTABILIZADAS', 'TOTAL_VOTOS_C_CS', 'TOTAL_VOTOS_S_CS',
        'PORCENTAJE_PARTICIPACION_CIUDADANA']:
    errors.append('figure names/order')
for f in figs:
    n = f['name']
    if n not in stated:
        errors.append(n + ': not in the file header but JSON has stated=%r' % f['stated']); continue
    if f['stated'] != stated[n]: errors.append('%s: stated %r, file says %r' % (n, f['stated'], stated[n]))
    if n in exp:
        comp, lns = exp[n]
        if f['equal'] is not False: errors.append(n + ': expected unequal')
        if f['computed'] != comp: errors.append('%s: computed %s, expected %s' % (n, f['computed'], comp))
        if not f.get('note'): errors.append(n + ': no note explaining the difference')
        if lns and f.get('lines') != lns: errors.append('%s: lines %s, expected %s' % (n, f.get('lines'), lns))
    else:
        if f['equal'] is not True: errors.append('%s: stated %s, computed %s, expected equal' % (n, f['stated'], f['computed']))
        # numerically equal: the same number (percentages to 4 decimals, the file may drop zeros)
        a = float(f['stated'].replace("'", '').replace('%', '').replace(',', ''))
        if abs(a - float(f['computed'])) > 1e-9: errors.append(n + ': equal but numbers differ')
if r['rows_unreadable'] != 0: errors.append('unreadable rows: %d' % r['rows_unreadable'])
if r['ok'] != (not exp): errors.append('ok=%r' % r['ok'])
if errors:
    print(path); print('\n'.join('  ' + e for e in errors)); sys.exit(1)
print('%-60s %s' % (path.split('/data/')[-1], 'reproduced' if not exp else 'the file contradicts itself: ' + ', '.join(exp)))
EOF

fail=0
while IFS='|' read -r f want wrong; do
  set +e
  "$PREP" tally --actas "$D/$f" --check --json >"$T/out.json" 2>"$T/err"; rc=$?
  set -e
  if [ "$rc" != "$want" ]; then echo "$f: exit $rc, expected $want"; cat "$T/err"; fail=1; continue; fi
  python3 "$T/verify.py" "$D/$f" "$T/out.json" "$wrong" || fail=1
done <"$T/expect"

# The rows the file contradicts itself with are named (QRO 2018 line 780, Sonora line
# 3774: TOTAL_VOTOS_CALCULADO against the sum of the vote fields, checked by hand).
"$PREP" tally --actas "$D/qro-2018-prep-dip-loc/QRO_DIP_LOC_2018.csv" --check --json >"$T/q.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=[(x["line"],x["kind"]) for x in r["contradictions"]]; assert (780,"calculated-total") in c, c' "$T/q.json" || fail=1

# A tampered copy of Quintana Roo 2019: ten votes more in TOTAL_VOTOS_CALCULADO of the
# first counted row (line 8) must fail the check, naming the figure.
F=$D/qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv
col=$(sed -n 7p "$F" | tr '|' '\n' | grep -n '^TOTAL_VOTOS_CALCULADO$' | cut -d: -f1)
awk -F'|' -v c="$col" 'BEGIN{OFS="|"} NR==8{$c=$c+10} {print}' "$F" >"$T/tampered.csv"
set +e
"$PREP" tally --actas "$T/tampered.csv" --check >"$T/t.out" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || { echo "tampered: exit $rc, expected 1"; cat "$T/t.out"; fail=1; }
grep -q "TOTAL_VOTOS_C_CS  *263005  *263015  DIFFERS" "$T/t.out" || { echo "tampered: C_CS not reported"; cat "$T/t.out"; fail=1; }
grep -q "line 8 .*calculated-total" "$T/t.out" || { echo "tampered: row 8 not named"; fail=1; }

# An explicit profile is applied as given (no rule taken from the file): Campeche's
# governor file under the INE profile differs in its inconsistencies (29 vs 258 actas).
set +e
"$PREP" tally --actas "$D/camp-2021-prep/CAMP_GOB_2021.csv" --check --json --rules ine >"$T/c.json" 2>/dev/null; rc=$?
set -e
[ $rc -eq 1 ] || { echo "campeche under ine: exit $rc, expected 1"; fail=1; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); f=r["figures"][7]; assert f["equal"] is False and f["computed"]=="21.6806", f; assert r["rules"]["inferred"]=="", r["rules"]' "$T/c.json" || fail=1

[ $fail -eq 0 ] && echo "every public real file: verdict as expected"
exit $fail
