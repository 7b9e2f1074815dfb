#!/usr/bin/env bash
# Issue 8: on the real Quintana Roo 2019 PREP file, `prep tally` (a catalogue derived from the
# file, each acta classified by prep's own Anexo 13 rules, not by the file's flags) recomputes
# the summary block from the 2,136 rows; it must equal the block the file itself states (line 5
# of the file), figure by figure. The expectation is read from the file, never from our output.
# (`--check`, which takes the file's flags as the institute's decision: real_files.sh.)
set -euo pipefail
PREP=$1
F=${PREP_SHARED_DATA:-$(dirname "$0")/../../../shared/data}/qroo-2019-prep-dip-loc/QROO_DIP_LOC_2019.csv
[ -f "$F" ] || { echo "missing $F"; exit 1; }
expected_names=$(sed -n 4p "$F" | tr -d '\r')
expected_values=$(sed -n 5p "$F" | tr -d '\r')
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
out=$("$PREP" tally --actas "$F" 2>"$T/first.err") || { cat "$T/first.err"; echo "prep tally failed"; exit 1; }
got_names=$(sed -n 3p <<<"$out")
got_values=$(sed -n 4p <<<"$out")
[ "$got_names" = "$expected_names" ] || { echo "names differ:"; echo " file: $expected_names"; echo " ours: $got_names"; exit 1; }
[ "$got_values" = "$expected_values" ] || { echo "values differ:"; echo " file: $expected_values"; echo " ours: $got_values"; exit 1; }
grep -q "all 13 figures equal" "$T/first.err"
# The file's own election name and cut line are printed back as the file states them.
[ "$(sed -n 1p <<<"$out")" = "$(sed -n 2p "$F" | tr -d '\r')" ]
[ "$(sed -n 2p <<<"$out")" = "$(sed -n 3p "$F" | tr -d '\r')" ]

# A tampered copy: ten votes added to PAN in the first (counted) row, still under its lista
# nominal: the recount differs from the block and says so.
awk -F'|' 'BEGIN{OFS="|"} NR==8{$17=$17+10} {print}' "$F" >"$T/tampered.csv"
"$PREP" tally --actas "$T/tampered.csv" >/dev/null 2>"$T/err"
grep -q "TOTAL_VOTOS_C_CS: file says 263005, rows give 263015" "$T/err" || { cat "$T/err"; exit 1; }

# The two readings of a published file agree (`prep tally`, and `--check`, which takes the
# file's own flags) on what the Lineamientos leave to the file's writer:
# a. An acta on two rows: the first row's acta again at the end, two more votes for PAN
#    (fields 17, 40, 41), captured and verified an hour later: the later capture counts
#    once, so both say TOTAL_VOTOS_C_CS 263005 - 77 + 79 = 263007 (by hand), and --check
#    names the row left out. The same row dated an hour earlier is the earlier capture:
#    the file's own row counts and all 13 figures equal.
awk -F'|' 'BEGIN{OFS="|"} {print} NR==8{r=$0} END{$0=r; $17+=2; $40+=2; $41+=2; $49="2019-06-03 03:56:32";
  $50="2019-06-03 04:07:10"; print}' "$F" >"$T/later.csv"
awk -F'|' 'BEGIN{OFS="|"} {print} NR==8{r=$0} END{$0=r; $17+=2; $40+=2; $41+=2; $48="2019-06-03 00:45:00";
  $49="2019-06-03 00:56:32"; $50="2019-06-03 01:07:10"; print}' "$F" >"$T/earlier.csv"
"$PREP" tally --actas "$T/later.csv" >/dev/null 2>"$T/err" || true
grep -q "TOTAL_VOTOS_C_CS: file says 263005, rows give 263007" "$T/err" || { cat "$T/err"; exit 1; }
"$PREP" tally --actas "$T/later.csv" --check >"$T/out" 2>"$T/err" && { echo "--check passed a changed total"; exit 1; }
grep -Eq "^TOTAL_VOTOS_C_CS +263005 +263007 +DIFFERS" "$T/out" || { cat "$T/out"; exit 1; }
grep -q "later.csv:8: repeated-acta: acta 230085B010002 is also on line 2145" "$T/err" || { cat "$T/err"; exit 1; }
# A third row of that acta, not arrived (every fact '-'), after both: the tally never reads
# it, so --check leaves it out too, naming the row that counts.
awk -F'|' 'BEGIN{OFS="|"} {print} END{for (i = 13; i <= NF; i++) if (i != 42) $i = "-"; print}' "$T/later.csv" \
  >"$T/later3.csv"
"$PREP" tally --actas "$T/later3.csv" --check >"$T/out" 2>"$T/err" && { echo "--check passed a changed total (3)"; exit 1; }
grep -Eq "^TOTAL_VOTOS_C_CS +263005 +263007 +DIFFERS" "$T/out" || { cat "$T/out"; exit 1; }
grep -Eq "^ACTAS_CAPTURADAS +2136 +2136 +equal" "$T/out" || { cat "$T/out"; exit 1; }
grep -q "later3.csv:2146: repeated-acta: acta 230085B010002 is also on line 2145" "$T/err" || { cat "$T/err"; exit 1; }
"$PREP" tally --actas "$T/earlier.csv" >/dev/null 2>"$T/err" || true
grep -q "all 13 figures equal" "$T/err" || { echo "earlier capture counted"; cat "$T/err"; exit 1; }
"$PREP" tally --actas "$T/earlier.csv" --check >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; exit 1; }
grep -q "PASS: 13 of 13" "$T/out"
grep -q "earlier.csv:2145: repeated-acta" "$T/err" || { cat "$T/err"; exit 1; }
# b. The block's percentages written with 6 decimals, computed here independently (exact
#    fractions, truncated) from the block's own counts: both readings compare them at 6
#    decimals and find them equal; one off in the 6th decimal differs in both.
/usr/bin/python3 - "$F" "$T/pct6.csv" "$T/pct6bad.csv" <<'PY'
import sys
from fractions import Fraction as Fr
L = open(sys.argv[1], encoding="utf-8").read().split("\n")
v = L[4].split("|")
esp, cap, cont, ln, ccs = int(v[0]), int(v[3]), int(v[5]), int(v[9]), int(v[10])
def t6(x):
    n = int(x * 10**6)
    return "%d.%06d" % (n // 10**6, n % 10**6)
inc = next(k for k in range(esp + 1) if int(Fr(k * 10**6, esp)) == int(v[7].replace(".", "")))
v[4], v[6], v[7], v[12] = t6(Fr(cap * 100, esp)), t6(Fr(cont * 100, esp)), t6(Fr(inc * 100, esp)), t6(Fr(ccs * 100, ln))
L[4] = "|".join(v)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(L))
n = int(v[6].replace(".", "")) + 1
v[6] = "%d.%06d" % (n // 10**6, n % 10**6)
L[4] = "|".join(v)
open(sys.argv[3], "w", encoding="utf-8").write("\n".join(L))
PY
"$PREP" tally --actas "$T/pct6.csv" >/dev/null 2>"$T/err" || true
grep -q "all 13 figures equal" "$T/err" || { echo "6 decimals: tally"; cat "$T/err"; exit 1; }
"$PREP" tally --actas "$T/pct6.csv" --check >"$T/out" 2>&1 || { cat "$T/out"; exit 1; }
grep -Eq "^PORCENTAJE_ACTAS_CONTABILIZADAS +95.084269 +95.084269 +equal" "$T/out" || { cat "$T/out"; exit 1; }
"$PREP" tally --actas "$T/pct6bad.csv" >/dev/null 2>"$T/err" || true
grep -q "file says 95.084270, rows give 95.084269" "$T/err" || { echo "6 decimals, one off: tally"; cat "$T/err"; exit 1; }
"$PREP" tally --actas "$T/pct6bad.csv" --check >"$T/out" 2>&1 && { echo "6 decimals, one off: --check passed"; exit 1; }
grep -Eq "^PORCENTAJE_ACTAS_CONTABILIZADAS +95.084270 +95.084269 +DIFFERS" "$T/out" || { cat "$T/out"; exit 1; }
echo "real QROO 2019 summary block reproduced; tampering detected; repeated actas and 6-decimal blocks read alike"
