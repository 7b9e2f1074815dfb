#!/usr/bin/env bash
# The institute's path end to end with the real binary: simulate a (tiny) process and its
# night, make three signed drill cuts from the catalogue and captures, verify the chain,
# export the active cut, and check it with stock tools only (signify, sha256sum). Pages
# must carry the cut's sequence, time and the SIMULACRO banner; a live key must refuse to
# sign a drill cut and a drill key a live one.
set -euo pipefail
PREP=$1
SPLIT=$(cd "$(dirname "$0")/../../fuzz/corpus/catalog" && pwd)/split_sections.cat
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" keygen --out live >/dev/null
n=0
for at in "2021-06-06 21:00" "2021-06-06 23:00" "2021-06-07 03:00"; do
  n=$((n + 1))
  out=$("$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub --store store --drill 2>/dev/null)
  grep -q "^cut $n (drill, " <<<"$out" || { echo "unexpected: $out"; exit 1; }
done
out=$("$PREP" verify --store store --pubkey drill.pub --drill --now "2021-06-07T03:01:00-05:00")
grep -q "cuts 1..3 verified" <<<"$out"

# Refusals: a drill cut with the live key, a live cut with the drill key; the store stays at 3.
set +e
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-07 03:05" --key live.key --store store --drill >/dev/null 2>e1; r1=$?
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-07 03:05" --key drill.key --store store >/dev/null 2>e2; r2=$?
"$PREP" cut --catalog tiny.cat --at "2021-06-07 03:05" --key drill.key --store store --drill >/dev/null 2>e3; r3=$?
set -e
[ $r1 -ne 0 ] && [ $r2 -ne 0 ] || { echo "a key signed the other mode's cut"; cat e1 e2; exit 1; }
[ $r3 -eq 2 ] && grep -q -- "--actas DIR is required" e3
out=$("$PREP" verify --store store --pubkey drill.pub --drill --now "2021-06-07T03:06:00-05:00")
grep -q "cuts 1..3 verified" <<<"$out"

# Export and check with stock tools only.
"$PREP" export --store store --out site >/dev/null 2>&1
cd site
signify-openbsd -V -p ../drill.pub -m SHA256SUMS >/dev/null
sha256sum -c --strict --quiet SHA256SUMS
grep -q "# sequence: 3" SHA256SUMS
grep -q "# mode: drill" SHA256SUMS
# Every page shows the cut: sequence 3, 7 June 2021 03:00 (UTC-5), and the drill banner.
pages=$(find . -name index.html -not -path './cortes/*' | wc -l)
[ "$pages" -gt 20 ]
bad=$(find . -name index.html -not -path './cortes/*' -print0 | xargs -0 grep -L "7 de junio de 2021, 03:00 (UTC-5)" || true)
[ -z "$bad" ] || { echo "pages without the cut time: $bad"; exit 1; }
bad=$(find . -name index.html -not -path './cortes/*' -print0 | xargs -0 grep -L "SIMULACRO" || true)
[ -z "$bad" ] || { echo "drill pages without SIMULACRO: $bad"; exit 1; }
# The database in the cut is the official layout, cut line included.
csv=$(find . -name '*.csv' -path '*base-de-datos*' -not -path './cortes/*' -print -quit)
[ -n "$csv" ] && grep -qx "07/06/2021 03:00 (UTC-5)" <(sed -n 3p "$csv")
# A flipped byte in an exported page is caught by the stock checksum.
f=$(find . -name index.html -not -path './cortes/*' -print -quit)
cp "$f" "$T/orig"; printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
if sha256sum -c --strict --quiet SHA256SUMS 2>/dev/null; then echo "tampered page passed sha256sum"; exit 1; fi

# A catalogue with a split section (docs/formats/catalog.md: 333 in Champotón and in
# Seybaplaya, each casilla with an acta in each part, lista nominal 606 + 605 and 9 + 9;
# 332 whole, 512):
# the night's captures, written by prep and read back, each go to their part; the cut
# holds both parts' pages. Expected counts from the catalogue's text: 5 actas, 2 of them
# in Seybaplaya (municipality 13).
[ -f "$SPLIT" ] || { echo "missing $SPLIT"; exit 1; }
mkdir "$T/split" && cd "$T/split"
"$PREP" sim actas --catalog "$SPLIT" --out actas --seed 3 2>/dev/null
[ "$(grep -c '|13|SEYBAPLAYA|333|' actas/ayu.csv)" = 2 ] || { echo "split: captures not in their part"; cat actas/ayu.csv; exit 1; }
# expected 5, captured 5, and (all counted) the lista nominal 512 + 606 + 605 + 9 + 9
"$PREP" tally --catalog "$SPLIT" --actas actas --final 2>/dev/null | grep '^[0-9]' | tail -1 | cut -d'|' -f1,4,10 |
  grep -qx '5|5|1741' || { echo "split: not 5 of 5 actas, lista nominal 1741"; "$PREP" tally --catalog "$SPLIT" --actas actas; exit 1; }
"$PREP" cut --catalog "$SPLIT" --actas actas --at "2021-06-07 20:00" --key "$T/drill.key" --pubkey "$T/drill.pub" \
  --store store --drill >out 2>err || { echo "split: the cut failed"; cat err; exit 1; }
"$PREP" export --store store --out site >/dev/null 2>&1
[ -f site/seccion/0333/index.html ] && [ -f site/seccion/0333-seybaplaya/index.html ] &&
  [ -f site/ayuntamientos/seybaplaya/seccion-0333-seybaplaya/index.html ] || { echo "split: a part's page is missing"; exit 1; }
grep -q 'href="../0333-seybaplaya/"' site/seccion/0333/index.html || { echo "split: 0333 does not link its other part"; exit 1; }
echo "3 signed drill cuts made from the catalogue, verified by prep and by stock tools; a split section's night cut"
