#!/usr/bin/env bash
# Issue 14: the catalogue's [rules] profile drives the tally on the institute's own
# captures. One simulated night (Querétaro scale) is counted under three profiles; for each,
# the database the tally writes is then checked by `prep tally --check` under the same
# profile, an independent recount from the written rows' flags and OBSERVACIONES: the
# header block must be reproduced. Between profiles the figures move as the rules say,
# checked against counts of the rows' OBSERVACIONES made here with awk.
set -euo pipefail
PREP=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$PREP" sim catalog --scale qro2021 --seed 7 --out "$T/ine.cat" >/dev/null
"$PREP" sim actas --catalog "$T/ine.cat" --out "$T/actas" --seed 7 >/dev/null
for p in ieec-2021 ieeq-2018; do
  "$PREP" sim catalog --scale qro2021 --seed 7 --rules $p --out "$T/$p.cat" >/dev/null
done
grep -q '^profile = ieec-2021$' "$T/ieec-2021.cat"
el=$(awk '/^\[elections\]/{getline; getline; split($0,a,"|"); print a[1]; exit}' "$T/ine.cat")
for p in ine ieec-2021 ieeq-2018; do
  "$PREP" tally --catalog "$T/$p.cat" --actas "$T/actas" --db-out "$T/db-$p" >/dev/null 2>&1
  rules=$p
  if ! "$PREP" tally --actas "$T/db-$p/$el.csv" --check --rules $rules >"$T/check-$p.txt" 2>&1; then
    echo "profile $p: the database's block is not reproduced by its rows"; cat "$T/check-$p.txt"; exit 1
  fi
done
fig() { # profile figure-index (1-based): the value in the database's header block
  sed -n 5p "$T/db-$1/$el.csv" | tr -d '\r' | cut -d'|' -f"$2"
}
obs() { # profile regex: rows whose OBSERVACIONES matches
  awk -F'|' -v re="$2" 'NR==7{for(i=1;i<=NF;i++) if($i=="OBSERVACIONES") c=i; next} NR>7 && $c ~ re {n++} END{print n+0}' "$T/db-$1/$el.csv"
}
esp=$(fig ine 1)
some=$(obs ine '^ALGUN'); all=$(obs ine '^TODOS'); exc=$(obs ine '^EXCEDE'); sin=$(obs ine '^SIN ACTA')
[ "$some" -gt 0 ] && [ "$sin" -gt 0 ] || { echo "the simulated night has no illegible or sin acta rows: the test proves nothing"; exit 1; }
pct() { awk -v n="$1" -v d="$2" 'BEGIN{v=int(n*1000000/d); printf "%d.%04d", v/10000, v%10000}'; }
# ine: some + all + exceeds; ieec-2021: all + exceeds; ieeq-2018: all four
[ "$(fig ine 8)" = "$(pct $((some + all + exc)) "$esp")" ] || { echo "ine inconsistencies $(fig ine 8)"; exit 1; }
[ "$(fig ieec-2021 8)" = "$(pct $((all + exc)) "$esp")" ] || { echo "ieec inconsistencies $(fig ieec-2021 8)"; exit 1; }
[ "$(fig ieeq-2018 8)" = "$(pct $((some + all + exc + sin)) "$esp")" ] || { echo "ieeq inconsistencies $(fig ieeq-2018 8)"; exit 1; }
# no contabilizadas: ieeq-2018 leaves the sin acta rows out
[ "$(fig ieeq-2018 9)" -eq $(( $(fig ine 9) - sin )) ] || { echo "ieeq no contabilizadas $(fig ieeq-2018 9), ine $(fig ine 9), sin acta $sin"; exit 1; }
# participation: ieec-2021 includes the special casillas at every cut (C_CS / LN)
[ "$(fig ieec-2021 13)" = "$(pct "$(fig ine 11)" "$(fig ine 10)")" ] || { echo "ieec participation $(fig ieec-2021 13)"; exit 1; }
echo "rule profiles: the tally follows each profile and its database recounts under it"
