#!/usr/bin/env bash
# Issue 13, input integrity at the institute: `prep cut --catalog` refuses (exit 1, nothing
# signed, the active cut unchanged) a captures file with a truncated row (also one cut at a
# field boundary, its field count right, no end of line: session 31), a negative vote,
# a conflicting duplicate of one acta, or one whose counts go below the active cut's (a
# file cut short at a row boundary); each refusal names file, line and column (the count,
# the file and the figure). --override-reason publishes anyway and the reason, with what it
# let through, is in the signed cut (corte.json, the verification page).
set -euo pipefail
PREP=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out good --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
AT="2021-06-07 03:00"
do_cut() { # actas-dir [extra args]: runs prep cut, sets rc, keeps stderr in err
  local dir=$1; shift
  set +e
  "$PREP" cut --catalog tiny.cat --actas "$dir" --at "$AT" --key drill.key --pubkey drill.pub --store store --drill "$@" >out 2>err
  rc=$?
  set -e
}
active() { sed -n 's/^seq \([0-9]*\).*/\1/p' store/active 2>/dev/null || head -c 40 store/active; }
do_cut good
[ $rc -eq 0 ] || { cat err; exit 1; }
before=$(cat store/active)
el=gub
F=good/$el.csv
hdr=$(grep -n '^CLAVE_CASILLA' "$F" | cut -d: -f1)
rows=$(wc -l <"$F")
[ "$rows" -gt $((hdr + 5)) ] || { echo "too few captures in $F"; exit 1; }
refused() { # what: the cut must be refused with exit 1, the diag, and the store unchanged
  [ $rc -eq 1 ] || { echo "$1: exit $rc, expected 1"; cat err; exit 1; }
  [ "$(cat store/active)" = "$before" ] || { echo "$1: the active cut changed"; exit 1; }
  grep -q "nothing is signed" err || { echo "$1: no refusal message"; cat err; exit 1; }
}
mk() { rm -rf bad; cp -r good bad; }

# 1. truncated in the middle of a row (the last line cut short)
mk; head -c -9 "$F" >bad/$el.csv
do_cut bad; refused truncated
grep -Eq "bad/$el.csv:$rows:[0-9]+: field-count" err || { echo "truncated: no file:line:col"; cat err; exit 1; }

# 2. a negative vote in the first capture's first vote column
mk
vc=$(sed -n "${hdr}p" "$F" | tr '|' '\n' | grep -n '^TOTAL_VOTOS_SACADOS$' | cut -d: -f1); vc=$((vc + 1))
awk -F'|' -v l=$((hdr + 1)) -v c=$vc 'BEGIN{OFS="|"} NR==l{$c="-7"} {print}' "$F" >bad/$el.csv
do_cut bad; refused negative
grep -q "bad/$el.csv:$((hdr + 1)):$vc: bad-vote" err || { echo "negative: no file:line:col"; cat err; exit 1; }

# 3. a conflicting duplicate: the first capture again, same instant, one more vote
mk
awk -F'|' -v l=$((hdr + 1)) -v c=$vc 'BEGIN{OFS="|"} {print} NR==l{$c=$c+1; print}' "$F" >bad/$el.csv
do_cut bad; refused duplicate
grep -q "bad/$el.csv:$((hdr + 2)):1: conflicting-duplicate: .*lines $((hdr + 1)) and $((hdr + 2))" err || { echo "duplicate: not named"; cat err; exit 1; }

# 4. counts going back: the file cut at a row boundary (every row readable)
mk; head -n $((hdr + 3)) "$F" >bad/$el.csv
do_cut bad; refused decreasing
grep -q "bad/$el.csv: count-decreased: ACTAS_CAPTURADAS of $el would go from" err || { echo "decrease: not named"; cat err; exit 1; }

# 4b. the last row cut short at a field boundary, so its field count is still right (the
#    capture system still writing it, its last field not yet there): no end of line
mk; head -n $((rows - 1)) "$F" >bad/$el.csv; sed -n "${rows}p" "$F" | sed 's/|[^|]*$/|/' | tr -d '\n' >>bad/$el.csv
do_cut bad; refused unterminated
grep -q "bad/$el.csv:$rows: unterminated: the last row has no end of line" err || { echo "unterminated: not named"; cat err; exit 1; }

# 5. the count decrease with an override: published, the reason in the signed cut
mk; head -n $((hdr + 3)) "$F" >bad/$el.csv
do_cut bad --override-reason "recaptura del distrito 1 autorizada por el consejo"
[ $rc -eq 0 ] || { echo "override: exit $rc"; cat err; exit 1; }
[ "$(cat store/active)" != "$before" ] || { echo "override: no new cut"; exit 1; }
"$PREP" verify --store store --pubkey drill.pub --drill --now "2021-06-07T03:01:00-05:00" >/dev/null
"$PREP" export --store store --out site >/dev/null 2>&1
grep -q '"excepcion":{"motivo":"recaptura del distrito 1 autorizada por el consejo","detalle":".*ACTAS_CAPTURADAS' site/corte.json || { echo "override: not in corte.json"; cat site/corte.json; exit 1; }
grep -q "corte.json" site/SHA256SUMS
grep -q "Excepción autorizada en este corte" site/verificar/index.html
grep -q "recaptura del distrito 1 autorizada por el consejo" site/verificar/index.html
(cd site && sha256sum -c --strict --quiet SHA256SUMS)
# 6. a catalogue that says its captures are a published results file (a derived
#    catalogue's rule, whose leniencies election night must not have): refused, even with
#    an override, the line named, nothing signed
cp tiny.cat pub.cat; printf '[rules]\nprofile = ine\npublished = yes\n' >>pub.cat
pl=$(grep -n '^published = yes$' pub.cat | cut -d: -f1)
before=$(cat store/active)
set +e
"$PREP" cut --catalog pub.cat --actas good --at "$AT" --key drill.key --pubkey drill.pub --store store --drill \
  --override-reason "prueba" >out 2>err; rc=$?
set -e
refused published
grep -q "pub.cat:$pl: \[rules\] published = yes" err || { echo "published: line not named"; cat err; exit 1; }
echo "integrity: truncated, unterminated, negative, conflicting and decreasing inputs refused with their place; override published and signed; a published-file catalogue refused"
