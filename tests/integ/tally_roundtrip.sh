#!/usr/bin/env bash
# The CLI path of the drill: a simulated Querétaro night, a cut at 23:00, the official
# database written; reading each database file back must give the same summary block
# (round trip through the published layout), and bad usage exits 2 with a clear message.
set -euo pipefail
PREP=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$PREP" sim catalog --scale qro2021 --seed 3 --out "$T/qro.cat" >/dev/null
"$PREP" sim actas --catalog "$T/qro.cat" --out "$T/actas" --seed 3 2>/dev/null
"$PREP" tally --catalog "$T/qro.cat" --actas "$T/actas" --at "2021-06-06 23:00" --db-out "$T/db" >"$T/cut.txt" 2>/dev/null
for e in gub ayu dip; do
  [ -s "$T/db/$e.csv" ] || { echo "no database for $e"; exit 1; }
  grep -qx 'sep=|' <(head -1 "$T/db/$e.csv")
  # the values line of the published file...
  pub=$(sed -n 5p "$T/db/$e.csv")
  # ...equals the block recomputed from the published rows alone
  back=$("$PREP" tally --catalog "$T/qro.cat" --actas "$T/db/$e.csv" --election "$e" --at "2021-06-06 23:00" 2>/dev/null | sed -n 4p)
  [ "$pub" = "$back" ] || { echo "$e: published $pub, read back $back"; exit 1; }
done
grep -q "^06/06/2021 23:00 (UTC-5)$" "$T/cut.txt"
grep -q "LISTA_NOMINAL" "$T/db/LEEME.txt"

# Later cut has at least as many actas counted as the earlier one (monotone night).
"$PREP" tally --catalog "$T/qro.cat" --actas "$T/actas/gub.csv" --election gub --at "2021-06-06 22:00" >"$T/a" 2>/dev/null
"$PREP" tally --catalog "$T/qro.cat" --actas "$T/actas/gub.csv" --election gub --at "2021-06-07 02:00" >"$T/b" 2>/dev/null
a=$(sed -n 4p "$T/a" | cut -d'|' -f6); b=$(sed -n 4p "$T/b" | cut -d'|' -f6)
[ "$a" -lt "$b" ] || { echo "counted actas did not grow: $a then $b"; exit 1; }

# Usage errors: exit 2, message names the problem.
set +e
"$PREP" tally --catalog "$T/qro.cat" --actas "$T/actas" --at "yesterday" 2>"$T/e1"; r1=$?
"$PREP" tally --bogus 2>"$T/e2"; r2=$?
"$PREP" sim catalog --scale mars --out "$T/x" 2>"$T/e3"; r3=$?
set -e
[ $r1 -eq 2 ] && grep -q "'yesterday' is not a time" "$T/e1"
[ $r2 -eq 2 ] && grep -q "unknown option '--bogus'" "$T/e2"
[ $r3 -eq 2 ] && grep -q "unknown --scale 'mars'" "$T/e3"
grep -q "^usage: prep tally" <("$PREP" tally --help)
grep -q "^usage: prep sim actas" <("$PREP" sim actas --help)
echo "round trip through the published database holds; usage errors are clear"
