#!/usr/bin/env bash
# `prep tally --actas F` without a catalogue on every public real PREP file
# (../shared/data): prep derives a catalogue from the file (parties, combinations,
# independents, geography, the institute's rule profile, docs/formats/actas.md "Derived
# catalogue"), reads the file with it as a published file ("Published files"), counts it
# with the same tally as election night, and compares the 13 figures with the file's own
# header block. What each file must give is written here by hand:
#   - the figures the rows reproduce: the file's own header, read by this script
#     (python's csv module), never prep's output;
#   - where the rows cannot give the stated figure, the value they give and why (each
#     reason checked by hand on the file, the same rows `prep tally --check` names);
#   - the files no catalogue can yet describe: the error and its kind.
set -euo pipefail
PREP=$1
D=${PREP_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
[ -d "$D" ] || { echo "missing $D"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export INTEG_DIR; INTEG_DIR=$(cd "$(dirname "$0")/lib" && pwd)

# file | exit | NAME=value;... the figures that differ, and the value the rows give |
#   the file's candidaturas CSV, when given (the same figures: it names the candidates and
#   says who runs where; Puebla and Campeche write a coalition's candidacy SUM-PAN-PRD,
#   Puebla MOR for the column MORENA, and both list CNR, no contender)
#   QRO 2018 line 780: TOTAL_VOTOS_CALCULADO 364, its vote fields add up to 345 (19 votes
#     the file counts that no field holds): C_CS 911,945 - 19, S_CS 910,293 - 19,
#     participation 911,926 / 1,453,978 = 62.71932 %, truncated.
#   PUE 2018 governor line 3613, local deputies lines 5770 and 6392: flagged 0 with no
#     OBSERVACIONES and no vote written: not counted, so in ACTAS_NO_CONTABILIZADAS (1174 + 1,
#     1199 + 2) and, no field legible, all illegible (308 + 1 of 7,548 = 4.09379 %;
#     305 + 2 of 7,547 = 4.06784 %).
#   SON 2021 deputies line 3774 (260777S0100's RP acta): TOTAL_VOTOS_CALCULADO 538, its
#     vote fields add up to 536 (59+185+3+8+7+80+154+9+5+2+11+0+13): C_CS 809,615 - 2,
#     participation 809,613 / 1,841,000 = 43.97680 %, truncated (S_CS leaves out special
#     casillas). That file also has parties CC_PAN_PRI_PRD and CC_MORENA_PT_PVEM_NA
#     (candidaturas comunes), four independents named CAND_IND_JHZM ... CAND_IND_JTVG,
#     TIPO_ACTA slips (3}, 3., 734), ILEGIBLE where a column is not on the ballot, and 25
#     special casillas each with an RP acta marked 3ERP beside the MR acta 3EMR (or 3, or
#     both marked alike: the later row is the RP acta), the RP ones with the votes of
#     parties the MR ballot has only in a candidatura comun.
#   CAMP 2021 ayuntamientos and juntas municipales: sections split between two units
#     (ayuntamientos: 332 and 333 in Champotón and Seybaplaya; juntas: ten sections between
#     two juntas), each casilla with an acta in each part under one CLAVE_ACTA and the
#     part's own lista nominal (040333C0100: 605 and 9); the candidaturas name an
#     independent CI1 (CAND_IND_1) and the juntas' unit ID_JUNTA. The juntas file states
#     TOTAL_VOTOS_S_CS 0, though no junta has a special casilla: the rows give C_CS,
#     64,965 (`prep tally --check` says the same, real_files.sh).
cat >"$T/expect" <<'EOF'
camp-2021-prep/CAMP_AYUN_2021.csv|0|
camp-2021-prep/CAMP_JUNTAS_2021.csv|0|TOTAL_VOTOS_S_CS=64965
camp-2021-prep/CAMP_AYUN_2021.csv|0||camp-2021-prep/CAMP_AYUN_CANDIDATURA_2021.csv
camp-2021-prep/CAMP_JUNTAS_2021.csv|0|TOTAL_VOTOS_S_CS=64965|camp-2021-prep/CAMP_JUNTAS_CANDIDATURA_2021.csv
qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv|0|
son-2021-prep/SON_GOB_2021.csv|0|
camp-2021-prep/CAMP_GOB_2021.csv|0|
camp-2021-prep/cut-2021-06-06-2240/CAMP_GOB_2021.csv|0|
qro-2018-prep-dip-loc/QRO_DIP_LOC_2018.csv|0|TOTAL_VOTOS_C_CS=911926;TOTAL_VOTOS_S_CS=910274;PORCENTAJE_PARTICIPACION_CIUDADANA=62.7193
pue-2018-prep/PUE_GOB_2018.csv|0|ACTAS_NO_CONTABILIZADAS=1175;PORCENTAJE_ACTAS_INCONSISTENCIAS=4.0937
pue-2018-prep/PUE_DIP_LOC_2018.csv|0|ACTAS_NO_CONTABILIZADAS=1201;PORCENTAJE_ACTAS_INCONSISTENCIAS=4.0678
son-2021-prep/SON_DIP_LOC_2021.csv|0|TOTAL_VOTOS_C_CS=809613;PORCENTAJE_PARTICIPACION_CIUDADANA=43.9768
qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv|0||qroo-2019-prep-dip-loc/QROO_DIP_CANDIDATURAS_2019.csv
camp-2021-prep/CAMP_GOB_2021.csv|0||camp-2021-prep/CAMP_GOB_CANDIDATURA_2021.csv
pue-2018-prep/PUE_GOB_2018.csv|0|ACTAS_NO_CONTABILIZADAS=1175;PORCENTAJE_ACTAS_INCONSISTENCIAS=4.0937|pue-2018-prep/PUE_GOB_CANDIDATURAS_2018.csv
pue-2018-prep/PUE_DIP_LOC_2018.csv|0|ACTAS_NO_CONTABILIZADAS=1201;PORCENTAJE_ACTAS_INCONSISTENCIAS=4.0678|pue-2018-prep/PUE_DIP_LOC_CANDIDATURAS_2018.csv
EOF

cat >"$T/verify.py" <<'EOF'
import os, re, sys
sys.path.insert(0, os.environ['INTEG_DIR'])
from real_header import canonical, header
path, err, wrong = sys.argv[1], sys.argv[2], sys.argv[3]
names, stated = header(path)
exp = dict(item.split('=') for item in filter(None, wrong.split(';')))
said = {}
for l in open(err, encoding='utf-8', errors='replace'):
    m = re.match(r'prep tally: (\S+): file says (\S+), rows give (\S+)$', l.strip())
    if m: said[canonical(m.group(1))] = (m.group(2), m.group(3))
errors = []
for n in names:
    key, v = canonical(n), stated[canonical(n)]
    if key in exp:
        got = said.get(key)
        if not got: errors.append('%s: expected %s from the rows, the file says %s; reported equal' % (key, exp[key], v))
        elif got != (v, exp[key]): errors.append('%s: reported %s / %s, expected %s / %s' % (key, got[0], got[1], v, exp[key]))
    elif key in said:
        errors.append('%s: the file says %s, the rows give %s; expected equal' % (key, v, said[key][1]))
if not exp and 'all 13 figures equal' not in open(err, encoding='utf-8', errors='replace').read():
    errors.append('no "all 13 figures equal" line')
if errors:
    print(path); print('\n'.join('  ' + e for e in errors)); sys.exit(1)
print('%-60s %s' % (path.split('/data/')[-1], 'all 13 figures' if not exp else 'all but ' + ', '.join(exp)))
EOF

fail=0
while IFS='|' read -r f want wrong cand; do
  set +e
  "$PREP" tally --actas "$D/$f" ${cand:+--candidaturas "$D/$cand"} >"$T/out" 2>"$T/err"; rc=$?
  set -e
  if [ "$rc" != "$want" ]; then echo "$f: exit $rc, expected $want"; cat "$T/err"; fail=1; continue; fi
  grep -q "unreadable" "$T/err" && { echo "$f: rows left out"; cat "$T/err"; fail=1; }
  python3 "$T/verify.py" "$D/$f" "$T/err" "$wrong" || fail=1
done <"$T/expect"

# The same files as other institutes write theirs (the layouts seen in OPLE exports and
# spreadsheets): CRLF line ends with every field quoted; ';' as the separator; UTF-16
# with tabs (a spreadsheet's "Unicode text"); the header block's percentages with '%' and
# its counts with thousands separators; its figures in another order, named with blanks,
# and one more of the institute's own; written down, one figure per line; number columns as floats (554.0); ISO dates; dates
# as a Spanish spreadsheet writes them (7/6/2021 1:51, 07/06/2021 01:51:00 a. m.); columns
# of the institute's own outside the vote columns (left out, each named); a totals row and
# a source note under the table (left out, named); a separator ending every row (an empty
# last column). Made here with python's csv module
# from the real file; each must give the same 13 figures as the file itself.
cat >"$T/variant.py" <<'EOF'
import csv, io, re, sys
src, kind, out = sys.argv[1], sys.argv[2], sys.argv[3]
raw = open(src, 'rb').read()
try:
    text, enc = raw.decode('utf-8-sig'), 'utf-8'
except UnicodeDecodeError:
    text, enc = raw.decode('latin-1'), 'latin-1'
lines = text.replace('\r\n', '\n').split('\n')
sep = ','
if lines[0].startswith('sep='):
    sep = lines[0][4]
    lines = lines[1:]
k = next(i for i, l in enumerate(lines) if l.lstrip('"').startswith('CLAVE_CASILLA'))
head, body = lines[:k], [l for l in lines[k:] if l]
rows = list(csv.reader(body, delimiter=sep))
h = next(i for i, l in enumerate(head) if 'ACTAS_ESPERADAS' in l)
block = [next(csv.reader([l], delimiter=sep)) if l else [] for l in head]
def write(blk, rs, osep, quoting=csv.QUOTE_MINIMAL, end='\n', extra=False):
    b = io.StringIO()
    w = csv.writer(b, delimiter=osep, quoting=quoting, lineterminator=end)
    w.writerows(blk)
    w.writerows([r + [''] for r in rs] if extra else rs)
    return b.getvalue()
if kind == 'crlf-quoted':
    data = write(block, rows, sep, csv.QUOTE_ALL, '\r\n')
elif kind == 'semicolon':
    data = write(block, rows, ';')
elif kind == 'header-signs':
    block[h + 1] = [v + '%' if '.' in v else '{:,}'.format(int(v)) for v in block[h + 1]]
    data = write(block, rows, sep)
elif kind == 'iso-dates':
    data = re.sub(r'(\d\d)/(\d\d)/(\d{4}) (\d\d:\d\d)', r'\3-\2-\1 \4', write(block, rows, sep))
elif kind == 'sheet-dates':
    data = re.sub(r'(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d)(?::\d\d)?(?! \()',
                  lambda m: '%d/%d/%s %d:%s' % (int(m.group(1)), int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)),
                  write(block, rows, sep))
elif kind == 'twelve-hour':
    data = re.sub(r'(\d\d/\d\d/\d{4}) (\d\d):(\d\d:\d\d)(?! \()',
                  lambda m: '%s %02d:%s %s' % (m.group(1), int(m.group(2)) % 12 or 12, m.group(3),
                                               'a. m.' if int(m.group(2)) < 12 else 'p. m.'),
                  write(block, rows, sep))
elif kind == 'extra-columns':
    # an institute's own columns: a circunscripción among the identity columns, a
    # publication time at the end; read as a published file, both are left out, said
    at = rows[0].index('SECCION')
    for i, r in enumerate(rows):
        r.insert(at, 'ID_CIRCUNSCRIPCION' if i == 0 else '1')
        r.append('FECHA_HORA_PUBLICACION' if i == 0 else '07/06/2021 20:00:00')
    data = write(block, rows, sep)
elif kind == 'summary-order':
    # the summary's figures in another order, named with blanks, and a figure of the
    # institute's own after them: each figure is found by its name
    names, vals = block[h][::-1], block[h + 1][::-1]
    block[h] = [n.replace('_', ' ') for n in names] + ['ACTAS_ESPECIALES']
    block[h + 1] = vals + ['12']
    data = write(block, rows, sep)
elif kind == 'vertical-summary':
    # the summary written down, one figure per line, its counts with unquoted thousands
    # separators in a comma file (1,847,519 is three fields)
    pairs = [[n] + ('{:,}'.format(int(v)).split(',') if v.isdigit() and sep == ',' else [v])
             for n, v in zip(block[h], block[h + 1])]
    block[h:h + 2] = pairs
    data = write(block, rows, sep)
elif kind == 'float-columns':
    # a data tool's float columns: every number but the keys and the SHA written 554.0
    keep = {'CLAVE_CASILLA', 'CLAVE_ACTA', 'SHA'}
    for r in rows[1:]:
        for i, name in enumerate(rows[0]):
            if i < len(r) and name not in keep and r[i].isdigit():
                r[i] = '%d.0' % int(r[i])
    data = write(block, rows, sep)
elif kind == 'utf16-tabs':
    # a spreadsheet's "Unicode text": UTF-16LE with its byte-order mark, tab-separated
    data, enc = write(block, rows, '\t'), 'utf-16'
elif kind == 'totals-and-note':
    # a totals row after the actas and a source note under the table
    total = ['TOTAL'] + [''] * (len(rows[0]) - 1)
    data = write(block, rows + [total], sep) + 'Fuente: base de datos del PREP, publicada por el instituto\n'
elif kind == 'trailing-separator':
    data = write(block, rows, sep, extra=True)
open(out, 'wb').write(data.encode(enc))
EOF
for f in son-2021-prep/SON_GOB_2021.csv qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv; do
  for v in crlf-quoted semicolon utf16-tabs header-signs summary-order vertical-summary float-columns iso-dates sheet-dates twelve-hour extra-columns \
    totals-and-note trailing-separator; do
    python3 "$T/variant.py" "$D/$f" $v "$T/variant.csv"
    set +e
    "$PREP" tally --actas "$T/variant.csv" >"$T/out" 2>"$T/err"; rc=$?
    set -e
    if [ $rc -ne 0 ] || ! grep -q "all 13 figures equal" "$T/err"; then
      echo "$f written $v: exit $rc, not the file's 13 figures"; cat "$T/err"; fail=1
    elif [ $v = vertical-summary ] && grep -q "bad-header-block" "$T/err"; then
      echo "$f written $v: the block written down not taken as a block"; cat "$T/err"; fail=1
    elif [ $v = totals-and-note ] && [ "$(grep -c "aside-line: a \(totals row\|note\), not an acta" "$T/err")" != 2 ]; then
      echo "$f written $v: the totals row and the note not named as left out"; cat "$T/err"; fail=1
    elif [ $v = extra-columns ] && [ "$(grep -c "ignored-column: column [0-9]* '\(ID_CIRCUNSCRIPCION\|FECHA_HORA_PUBLICACION\)'" "$T/err")" != 2 ]; then
      echo "$f written $v: the two added columns not named as left out"; cat "$T/err"; fail=1
    else echo "$f written $v: all 13 figures"; fi
  done
done

# A file whose LISTA_NOMINAL is under a name prep does not know: not counted on guesses
# (every cap and the participation hang on it), the column left out named as the suspect
sed '0,/,LISTA_NOMINAL,/s//,LN_CASILLA,/' "$D/son-2021-prep/SON_GOB_2021.csv" >"$T/ln.csv"
set +e
"$PREP" tally --actas "$T/ln.csv" >"$T/out" 2>"$T/err"; rc=$?
set -e
if [ $rc -ne 2 ] || ! grep -q "missing-column: no LISTA_NOMINAL column: .*(is it one of the columns not read: LN_CASILLA?)" "$T/err"; then
  echo "LISTA_NOMINAL renamed: exit $rc, expected 2 naming LN_CASILLA"; cat "$T/err"; fail=1
else echo "LISTA_NOMINAL renamed: refused, LN_CASILLA named"; fi

# Campeche 2021's split sections, found by python from the rows (a section with rows in
# two municipalities, or two juntas): each is named once as split-section, and no other.
for f in camp-2021-prep/CAMP_AYUN_2021.csv:ID_MUNICIPIO camp-2021-prep/CAMP_JUNTAS_2021.csv:ID_DISTRITO_LOCAL; do
  col=${f#*:}; f=${f%%:*}
  want=$(python3 - "$D/$f" "$col" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8', errors='replace')))
k = next(i for i, r in enumerate(rows) if r and r[0] == 'CLAVE_CASILLA')
h = rows[k]; s, u = h.index('SECCION'), h.index(sys.argv[2])
units = {}
for r in rows[k + 1:]:
    if len(r) == len(h) and r[h.index('TIPO_ACTA')] != '-': units.setdefault(int(r[s]), set()).add(r[u])
print(' '.join(str(n) for n in sorted(n for n, v in units.items() if len(v) > 1)))
PY
)
  "$PREP" tally --actas "$D/$f" >"$T/out" 2>"$T/err"
  got=$(sed -n 's/.*split-section: section \([0-9]*\) is split.*/\1/p' "$T/err" | sort -n | tr '\n' ' ' | sed 's/ $//')
  if [ -z "$want" ] || [ "$got" != "$want" ]; then echo "$f: split sections named: '$got', expected '$want'"; fail=1
  else echo "$f: split sections $want, each named"; fi
done

# A section whose casillas stand in two districts of a governor's file (one unit): split,
# its parts sharing no casilla, the same 13 figures; a casilla in both places (its acta
# twice over one ballot box in that unit) is refused (section-conflict), naming it.
python3 - "$D/son-2021-prep/SON_GOB_2021.csv" "$T" <<'PY'
import csv, io, sys
src, out = sys.argv[1], sys.argv[2]
text = open(src, encoding='utf-8').read()
lines = text.split('\n')
k = next(i for i, l in enumerate(lines) if l.startswith('CLAVE_CASILLA'))
h = next(csv.reader([lines[k]]))
d, sec = h.index('ID_DISTRITO_LOCAL'), h.index('SECCION')
rows = [next(csv.reader([l])) for l in lines[k + 1:] if l]
# the first section with two casillas: its second casilla moves to another district
i = next(i for i in range(1, len(rows)) if rows[i][sec] == rows[i - 1][sec] and rows[i][d] == rows[i - 1][d])
other = next(r[d] for r in rows if r[d] != rows[i][d])
def dump(rs, name):
    b = io.StringIO(); w = csv.writer(b, lineterminator='\n'); w.writerows(rs)
    open(out + '/' + name, 'w', encoding='utf-8').write('\n'.join(lines[:k + 1]) + '\n' + b.getvalue())
moved = [r[:] for r in rows]; moved[i][d] = other
dump(moved, 'moved.csv')
twice = [r[:] for r in rows]; dup = rows[i][:]; dup[d] = other
twice.insert(i + 1, dup)
dump(twice, 'twice.csv')
print('casilla %s of section %s moved to district %s' % (rows[i][0].lstrip("'"), rows[i][sec], other))
PY
"$PREP" tally --actas "$T/moved.csv" >"$T/out" 2>"$T/err" || { echo "moved casilla: exit $?"; cat "$T/err"; fail=1; }
if grep -q "split-section: section [0-9]* is split" "$T/err" && python3 "$T/verify.py" "$T/moved.csv" "$T/err" "" >/dev/null; then
  echo "a section's casilla in another district of the governor's file: split, all 13 figures"
else echo "moved casilla: not split, or figures differ"; cat "$T/err"; fail=1; fi
set +e
"$PREP" tally --actas "$T/twice.csv" >"$T/out" 2>"$T/err"; rc=$?
set -e
if [ $rc -eq 2 ] && grep -q "section-conflict: casilla [0-9A-Z]* is in district" "$T/err"; then
  echo "the same casilla in two districts of the governor's file: refused, named"
else echo "casilla twice: exit $rc, expected 2 with section-conflict"; cat "$T/err"; fail=1; fi

# A municipality column that is no municipality (here each row's its own, 1..500): no
# section is split that many ways, so the file is refused at once, the reason in view
# among the first lines (the split notes stop after 20), not made into hundreds of parts.
python3 - "$D/camp-2021-prep/CAMP_AYUN_2021.csv" "$T/garbage.csv" <<'PY'
import csv, io, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
k = next(i for i, l in enumerate(lines) if l.startswith('CLAVE_CASILLA'))
h = next(csv.reader([lines[k]])); m = h.index('ID_MUNICIPIO')
rows = [next(csv.reader([l])) for l in lines[k + 1:] if l]
for i, r in enumerate(rows): r[m] = str(i % 500 + 1)
b = io.StringIO(); csv.writer(b, lineterminator='\n').writerows(rows)
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines[:k + 1]) + '\n' + b.getvalue())
PY
set +e
timeout 20 "$PREP" tally --actas "$T/garbage.csv" >"$T/out" 2>"$T/err"; rc=$?
set -e
if [ $rc -eq 2 ] && grep -q "section-conflict: section [0-9]* is in .*more than 8 places" <(head -30 "$T/err"); then
  echo "a municipality column that is no municipality: refused, the reason among the first lines"
else echo "garbage municipalities: exit $rc, expected 2 with section-conflict in view"; head -30 "$T/err"; fail=1; fi

# A local file titled or named with words INE's federal files use: "PRESIDENCIAS
# MUNICIPALES" (Campeche's ayuntamientos are elected as presidencias municipales), a
# governor's file saved as presidencia_municipal.csv, a title naming the old "DISTRITO
# FEDERAL". Each is still a local election, counted by its institute's rules: the file's own
# 13 figures (session 31: these read as INE's federal layout and gave other figures).
retitle() { # src title out: the file with its election line (the first) replaced
  { printf '%s\n' "$2"; tail -n +2 "$1"; } >"$3"
}
mkdir -p "$T/named"
retitle "$D/camp-2021-prep/CAMP_AYUN_2021.csv" "PRESIDENCIAS MUNICIPALES" "$T/named/ayun.csv"
retitle "$D/camp-2021-prep/CAMP_GOB_2021.csv" "GUBERNATURA (ANTES DISTRITO FEDERAL)" "$T/named/gub.csv"
for v in ayun.csv:camp-2021-prep/CAMP_AYUN_2021.csv gub.csv:camp-2021-prep/CAMP_GOB_2021.csv; do
  n=${v%%:*}; src=${v#*:}
  set +e
  "$PREP" tally --actas "$T/named/$n" >"$T/out" 2>"$T/err"; rc=$?
  set -e
  if [ $rc -ne 0 ] || ! grep -q "all 13 figures equal" "$T/err"; then
    echo "$src as $n ($(head -1 "$T/named/$n")): exit $rc, not the file's 13 figures"; cat "$T/err"; fail=1
  else echo "$src as $n ($(head -1 "$T/named/$n" | tr -d '\r')): all 13 figures"; fi
done
# without its header block, a file's name tells its election: the governor's rows saved as
# presidencia_municipal.csv give what they give as CAMP_GOB_2021.csv (the same bytes)
sed -n '/^CLAVE_CASILLA/,$p' "$D/camp-2021-prep/CAMP_GOB_2021.csv" >"$T/named/CAMP_GOB_2021.csv"
cp "$T/named/CAMP_GOB_2021.csv" "$T/named/presidencia_municipal.csv"
"$PREP" tally --actas "$T/named/CAMP_GOB_2021.csv" >"$T/named/a.out" 2>/dev/null
"$PREP" tally --actas "$T/named/presidencia_municipal.csv" >"$T/named/b.out" 2>/dev/null
if ! cmp -s "$T/named/a.out" "$T/named/b.out" || ! grep -q '^1190,1095,3,1092,' "$T/named/a.out"; then
  echo "the governor's rows as presidencia_municipal.csv: other figures"; diff "$T/named/a.out" "$T/named/b.out"; fail=1
else echo "the governor's rows as presidencia_municipal.csv: the same figures as under their own name"; fi

# One casilla's acta twice with two LISTA_NOMINAL (QROO 2019's first counted acta again at
# the end, its lista nominal 100 more, the same capture instants): the later line's counts
# (it replaces the earlier capture), whichever order the rows come in, and the conflict is
# named at that line. Expected: the file's own LISTA_NOMINAL_ACTAS_CONTABILIZADAS + 100.
python3 - "$D/qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv" "$T/ln2.csv" >"$T/ln2.want" <<'PY'
import csv, sys
src, out = sys.argv[1], sys.argv[2]
lines = open(src, encoding='utf-8').read().split('\n')
k = next(i for i, l in enumerate(lines) if l.startswith('CLAVE_CASILLA') or l.startswith('"CLAVE_CASILLA'))
h = next(csv.reader([lines[k]], delimiter='|'))
b = next(i for i, l in enumerate(lines) if 'ACTAS_ESPERADAS' in l)
names = next(csv.reader([lines[b]], delimiter='|')); vals = next(csv.reader([lines[b + 1]], delimiter='|'))
rows = [l for l in lines[k + 1:] if l]
ci, li = h.index('CONTABILIZADA'), h.index('LISTA_NOMINAL')
j = next(i for i, l in enumerate(rows) if next(csv.reader([l], delimiter='|'))[ci] == '1')
f = rows[j].split('|'); f[li] = str(int(f[li]) + 100)
open(out, 'w', encoding='utf-8').write('\n'.join(lines[:k + 1] + rows + ['|'.join(f)]) + '\n')
print(int(vals[names.index('LISTA_NOMINAL_ACTAS_CONTABILIZADAS')]) + 100, k + 2 + len(rows))
PY
read -r want_ln want_line <"$T/ln2.want"
set +e
"$PREP" tally --actas "$T/ln2.csv" >"$T/out" 2>"$T/err"; rc=$?
set -e
got_ln=$(sed -n 's/.*LISTA_NOMINAL_ACTAS_CONTABILIZADAS: file says [0-9]*, rows give \([0-9]*\)$/\1/p' "$T/err")
if [ $rc -ne 0 ] || [ "$got_ln" != "$want_ln" ] || ! grep -q "ln2.csv:$want_line:[0-9]*: lista-nominal-conflict" "$T/err"; then
  echo "one acta twice with two LISTA_NOMINAL: exit $rc, LN '$got_ln' (want $want_ln), conflict at line $want_line?"; cat "$T/err"; fail=1
else echo "one acta twice with two LISTA_NOMINAL: the later line's counts ($want_ln), the conflict named at line $want_line"; fi

# Rows that cannot be read are left out, each named; the figures are then the other rows'
# (exit 1), and with no row read there are none (exit 2); prep render writes no site of
# them (session 31: exit 0, and a 7,586-file site when every row was unreadable).
python3 - "$D/qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv" "$T/bad1.csv" "$T/badall.csv" <<'PY'
import sys
src, one, every = sys.argv[1:]
lines = open(src, encoding='utf-8').read().split('\n')
k = next(i for i, l in enumerate(lines) if 'CLAVE_CASILLA' in l and 'CLAVE_ACTA' in l)
h = lines[k].split('|'); pan = h.index('PAN')
def spoil(l):
    f = l.split('|'); f[pan] = 'abc'; return '|'.join(f)
rows = [l for l in lines[k + 1:] if l]
open(one, 'w', encoding='utf-8').write('\n'.join(lines[:k + 1] + [spoil(rows[0])] + rows[1:]) + '\n')
open(every, 'w', encoding='utf-8').write('\n'.join(lines[:k + 1] + [spoil(r) for r in rows]) + '\n')
PY
for v in bad1:1 badall:2; do
  n=${v%%:*}; want=${v#*:}
  set +e
  "$PREP" tally --actas "$T/$n.csv" >"$T/out" 2>"$T/err"; rc=$?
  "$PREP" render --actas "$T/$n.csv" --out "$T/site-$n" >/dev/null 2>"$T/rerr"; rrc=$?
  set -e
  if [ $rc -ne "$want" ] || ! grep -q "rows were unreadable and left out: the figures above are of the others" "$T/err" ||
    [ $rrc -eq 0 ] || [ -e "$T/site-$n/index.html" ] || ! grep -q "cannot be read (above); nothing is written" "$T/rerr"; then
    echo "$n: tally exit $rc (want $want), render exit $rrc"; cat "$T/err" "$T/rerr" | tail -5; fail=1
  else echo "$n: unreadable rows named, tally exit $rc, render refused and wrote nothing"; fi
done

[ $fail -eq 0 ] && echo "every public real file: derived tally as expected"
exit $fail
