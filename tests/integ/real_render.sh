#!/usr/bin/env bash
# `prep render --actas RESULTS.csv` (no catalogue) on real published files: the public
# site of the file's own cut, counted with a catalogue derived from it
# (docs/formats/actas.md, "Published files"). For Campeche 2021's governor (with its
# candidaturas CSV) and Sonora 2021's (without), the gubernatura page's open data must
# give:
#   - the summary the file's own header states (read by tests/integ/lib/real_header.py);
#   - each candidacy's votes as summed here from the file's counted rows (CONTABILIZADA
#     1) with python's csv module alone: a party's column, or for a coalition (PAN-PRI-PRD)
#     every column whose parties are among its own (PAN, PRI, PRD, C_PAN_PRI...), which is
#     how the institute totals a coalition's candidate;
#   - the candidates' names from the candidaturas CSV (Campeche);
# and the page itself shows the cut's instant as the file's header writes it, and the
# winner's votes.
set -euo pipefail
PREP=$1
D=${PREP_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
[ -d "$D" ] || { echo "missing $D"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export INTEG_DIR; INTEG_DIR=$(cd "$(dirname "$0")/lib" && pwd)

cat >"$T/verify.py" <<'EOF'
import csv, json, os, sys
sys.path.insert(0, os.environ['INTEG_DIR'])
from real_header import header
path, site, cand = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ''
_, stated = header(path)
d = json.load(open(site + '/gubernatura/datos.json'))
errors = []
res = d['resumen']
for key, name in [('actas_esperadas', 'ACTAS_ESPERADAS'), ('actas_capturadas', 'ACTAS_CAPTURADAS'),
                  ('actas_contabilizadas', 'ACTAS_CONTABILIZADAS'), ('actas_no_contabilizadas', 'ACTAS_NO_CONTABILIZADAS'),
                  ('lista_nominal', 'LISTA_NOMINAL_ACTAS_CONTABILIZADAS'), ('total_votos', 'TOTAL_VOTOS_C_CS'),
                  ('porcentaje_capturadas', 'PORCENTAJE_ACTAS_CAPTURADAS'),
                  ('porcentaje_contabilizadas', 'PORCENTAJE_ACTAS_CONTABILIZADAS'),
                  ('participacion', 'PORCENTAJE_PARTICIPACION_CIUDADANA')]:
    if float(str(res[key])) != float(stated[name]):
        errors.append('%s: the page says %s, the file %s' % (key, res[key], stated[name]))
# the counted rows' column sums
text = open(path, encoding='utf-8-sig').read()
rows = list(csv.reader(text.splitlines()))
k = next(i for i, r in enumerate(rows) if r and r[0].lstrip("'") == 'CLAVE_CASILLA')
h = rows[k]
ix = {n: i for i, n in enumerate(h)}
cols = h[ix['TOTAL_VOTOS_SACADOS'] + 1:ix['TOTAL_VOTOS_ASENTADO']]
tot = dict.fromkeys(cols, 0)
for r in rows[k + 1:]:
    if len(r) == len(h) and r[ix['CONTABILIZADA']] == '1':
        for c in cols:
            if r[ix[c]].isdigit(): tot[c] += int(r[ix[c]])
def parts(col):
    return set((col[2:] if col.startswith('C_') else col).split('_'))
want = {}
for c in d['candidaturas']:
    label = c['etiqueta']
    if label in tot:
        want[label] = tot[label]
    else:
        ps = set(label.split('-'))
        want[label] = sum(v for col, v in tot.items() if col not in ('NO_REGISTRADOS', 'NULOS') and parts(col) <= ps)
    if c['votos'] != want[label]:
        errors.append('%s: the page says %d votes, the rows give %d' % (label, c['votos'], want[label]))
listed = sum(c['votos'] for c in d['candidaturas']) + tot['NO_REGISTRADOS'] + tot['NULOS']
if listed != int(stated['TOTAL_VOTOS_C_CS']):
    errors.append('the candidacies, no registrados and nulos add up to %d, the file says %s' % (listed, stated['TOTAL_VOTOS_C_CS']))
if cand:
    names = {r['PARTIDO_CI'].replace('SUM-', ''): r.get('CANDIDATURA_PROPIETARIA', '') for r in csv.DictReader(open(cand, encoding='utf-8'))}
    for c in d['candidaturas']:
        if names.get(c['etiqueta']) and c['nombre'] != names[c['etiqueta']]:
            errors.append('%s: named %r, the candidaturas CSV says %r' % (c['etiqueta'], c['nombre'], names[c['etiqueta']]))
page = open(site + '/gubernatura/index.html', encoding='utf-8').read()
cut = text.splitlines()[1].strip().strip('"')           # "07/06/2021 20:00 (UTC-5)"
dd, mm, rest = cut.split('/', 2)
yyyy, hhmm = rest.split(' ')[0], rest.split(' ')[1]
if 'datetime="%s-%s-%sT%s:00' % (yyyy, mm, dd, hhmm) not in page:
    errors.append('the page does not show the cut %s' % cut)
top = max(d['candidaturas'], key=lambda c: c['votos'])
if '{:,}'.format(top['votos']) not in page:
    errors.append('the page does not show the leader\'s %s votes' % '{:,}'.format(top['votos']))
if errors:
    print(path); print('\n'.join('  ' + e for e in errors)); sys.exit(1)
print('%-45s summary as stated, %d candidacies as summed from the rows; leader %s, %d votes'
      % (path.split('/data/')[-1], len(d['candidaturas']), top['etiqueta'], top['votos']))
EOF

fail=0
run() { # FILE [CANDIDATURAS [THE SAME CANDIDATURAS AS GIVEN TO prep]]
  rm -rf "$T/site"
  local given=${3:-${2:+$D/$2}}
  if ! "$PREP" render --actas "$D/$1" ${given:+--candidaturas "$given"} --out "$T/site" >"$T/out" 2>"$T/err"; then
    echo "$1: render failed"; cat "$T/err"; fail=1; return
  fi
  python3 "$T/verify.py" "$D/$1" "$T/site" ${2:+"$D/$2"} || fail=1
}
run camp-2021-prep/CAMP_GOB_2021.csv camp-2021-prep/CAMP_GOB_CANDIDATURA_2021.csv
run son-2021-prep/SON_GOB_2021.csv
# Campeche's candidaturas as a spreadsheet saves them as "Unicode text" (UTF-16LE with its
# mark, tab-separated, numbers as floats, the header retyped as words): the same names in
# the same places
python3 - "$D/camp-2021-prep/CAMP_GOB_CANDIDATURA_2021.csv" "$T/cand16.csv" <<'EOF'
import csv, io, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig')))
assert rows[0] == ['ID_ESTADO', 'PARTIDO_CI', 'CANDIDATURA_PROPIETARIA'], rows[0]
rows[0] = ['Id Estado', 'Partido Político', 'Candidatura propietaria']
rows[1:] = [[('%d.0' % int(v)) if v.isdigit() else v for v in r] for r in rows[1:]]
b = io.StringIO()
csv.writer(b, delimiter='\t', lineterminator='\r\n').writerows(rows)
open(sys.argv[2], 'wb').write(b.getvalue().encode('utf-16'))
EOF
run camp-2021-prep/CAMP_GOB_2021.csv camp-2021-prep/CAMP_GOB_CANDIDATURA_2021.csv "$T/cand16.csv"
# The cut line as other institutes write it (a label, the date in words, a 12-hour clock,
# the zone's name): the pages show the same instant as the file's own 20:00 (UTC-5)
python3 - "$D/camp-2021-prep/CAMP_GOB_2021.csv" "$T/cutline.csv" <<'EOF'
import sys
lines = open(sys.argv[1], encoding='utf-8-sig').read().split('\n')
assert lines[1].strip('"') == '07/06/2021 20:00 (UTC-5)', lines[1]
lines[1] = 'Fecha y hora de corte: 7 de junio de 2021, 8:00 p. m. (Tiempo del Centro)'
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines))
EOF
rm -rf "$T/site"
if ! "$PREP" render --actas "$T/cutline.csv" --out "$T/site" >"$T/out" 2>"$T/err"; then
  echo "cut line in words: render failed"; cat "$T/err"; fail=1
elif grep -q "bad-cut-time" "$T/err" || ! grep -q '"2021-06-07T20:00:00-05:00"' "$T/site/corte.json" ||
     ! grep -q 'datetime="2021-06-07T20:00' "$T/site/gubernatura/index.html"; then
  echo "cut line in words: not the cut of 7 June 2021 20:00 (UTC-5)"; cat "$T/err"; grep -o '"instante[^,]*' "$T/site/corte.json"; fail=1
else echo "cut line in words: the pages show 2021-06-07 20:00 (UTC-5)"; fi

# Campeche 2021's ayuntamientos: sections 332 and 333 are split between Champotón (4) and
# Seybaplaya (13), each casilla with an acta in each. The whole file's figures are its
# header's (five actas verified at 20:00:05 are in the cut of 20:00, as the file counts
# them), and Seybaplaya's page gives what python sums from the rows that name municipality
# 13 (the split casillas' Seybaplaya actas with them); each part has its page, linked.
"$PREP" render --actas "$D/camp-2021-prep/CAMP_AYUN_2021.csv" --out "$T/ayun" >"$T/out" 2>"$T/err" ||
  { echo "CAMP_AYUN: render failed"; cat "$T/err"; fail=1; }
python3 - "$D/camp-2021-prep/CAMP_AYUN_2021.csv" "$T/ayun" <<'PY' || fail=1
import csv, json, os, sys
sys.path.insert(0, os.environ['INTEG_DIR'])
from real_header import header
path, site = sys.argv[1], sys.argv[2]
_, stated = header(path)
errors = []
res = json.load(open(site + '/ayuntamientos/datos.json'))['resumen']
for key, name in [('actas_esperadas', 'ACTAS_ESPERADAS'), ('actas_capturadas', 'ACTAS_CAPTURADAS'),
                  ('actas_contabilizadas', 'ACTAS_CONTABILIZADAS'), ('lista_nominal', 'LISTA_NOMINAL_ACTAS_CONTABILIZADAS'),
                  ('total_votos', 'TOTAL_VOTOS_C_CS'), ('participacion', 'PORCENTAJE_PARTICIPACION_CIUDADANA')]:
    if float(str(res[key])) != float(stated[name]):
        errors.append('%s: the page says %s, the file %s' % (key, res[key], stated[name]))
rows = list(csv.reader(open(path, encoding='utf-8')))
k = next(i for i, r in enumerate(rows) if r and r[0] == 'CLAVE_CASILLA')
h = rows[k]; ix = {n: i for i, n in enumerate(h)}
vote = h[ix['TOTAL_VOTOS_SACADOS'] + 1:ix['TOTAL_VOTOS_ASENTADO']]
mine = [r for r in rows[k + 1:] if len(r) == len(h) and r[ix['ID_MUNICIPIO']] == '013' and r[ix['TIPO_ACTA']] != '-']
counted = [r for r in mine if r[ix['CONTABILIZADA']] == '1']
want = {'actas_esperadas': len(mine), 'actas_contabilizadas': len(counted),
        'lista_nominal': sum(int(r[ix['LISTA_NOMINAL']]) for r in counted),
        'total_votos': sum(int(r[ix[c]]) for r in counted for c in vote if r[ix[c]].isdigit())}
got = json.load(open(site + '/ayuntamientos/seybaplaya/datos.json'))['resumen']
for key, v in want.items():
    if got[key] != v: errors.append('Seybaplaya %s: the page says %s, the rows %s' % (key, got[key], v))
if want['actas_esperadas'] < 3: errors.append('Seybaplaya: no split casillas among its rows')
for part in ('0332', '0332-seybaplaya', '0333', '0333-seybaplaya'):
    if not os.path.exists('%s/seccion/%s/index.html' % (site, part)): errors.append('no page seccion/%s/' % part)
page = open(site + '/seccion/0333/index.html').read()
if 'href="../0333-seybaplaya/"' not in page: errors.append('seccion/0333/ does not link its other part')
if errors:
    print('CAMP_AYUN:'); print('\n'.join('  ' + e for e in errors)); sys.exit(1)
print('CAMP_AYUN: the header\'s figures; Seybaplaya as its rows (%d actas, %d votes); both parts of 332 and 333'
      % (want['actas_esperadas'], want['total_votos']))
PY

[ $fail -eq 0 ] && echo "real files rendered as their rows say"
exit $fail
