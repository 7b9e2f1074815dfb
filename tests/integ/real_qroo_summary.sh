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
out=$("$PREP" tally --actas "$F" 2>/tmp/real_qroo.err) || { cat /tmp/real_qroo.err; echo "prep tally --check failed"; exit 1; }
got_names=$(sed -n 3p <<<"$out")
got_values=$(sed -n 4p <<<"$out")
[ "$got_names" = "$expected_names" ] || { echo "names differ:"; echo " file: $expected_names"; echo " ours: $got_names"; exit 1; }
[ "$got_values" = "$expected_values" ] || { echo "values differ:"; echo " file: $expected_values"; echo " ours: $got_values"; exit 1; }
grep -q "all 13 figures equal" /tmp/real_qroo.err
# The file's own election name and cut line are printed back as the file states them.
[ "$(sed -n 1p <<<"$out")" = "$(sed -n 2p "$F" | tr -d '\r')" ]
[ "$(sed -n 2p <<<"$out")" = "$(sed -n 3p "$F" | tr -d '\r')" ]

# A tampered copy: ten votes added to PAN in the first (counted) row, still under its lista
# nominal: the recount differs from the block and says so.
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
awk -F'|' 'BEGIN{OFS="|"} NR==8{$17=$17+10} {print}' "$F" >"$T/tampered.csv"
"$PREP" tally --actas "$T/tampered.csv" >/dev/null 2>"$T/err"
grep -q "TOTAL_VOTOS_C_CS: file says 263005, rows give 263015" "$T/err" || { cat "$T/err"; exit 1; }
echo "real QROO 2019 summary block reproduced; tampering detected"
