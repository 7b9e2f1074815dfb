#!/usr/bin/env bash
# Operator mistakes at the institute that used to reach the public as a signed, active cut
# (a probe of election-night mistakes, session 31). Each must now be refused with a message
# naming what is wrong, nothing signed, and the last good cut still active and verifying;
# or, for a store that lost an object, a cut that writes the object again.
#   1. the active pointer deleted: no second chain from sequence 1 (prep verify fails too)
#   2. another key than the chain's: refused before anything is rendered
#   3. an object of the active cut deleted, truncated, or with a byte flipped (same size):
#      the next cut moves a damaged one to STORE/damaged/, writes it again and verifies
#   4. --at outside the catalogue's window (a year typo): refused; with --override-reason
#      made, the reason published; an instant before the active cut's: "instant-regress",
#      not a blamed captures file
#   5. --pubkey of another key than --key: refused (the pages would name the wrong key)
#   6. prep cut --from an empty or a nearly empty directory: refused; --allow-shrink makes it
#   7. prep institute whose config can never cut (a drill key for live cuts; "until" before
#      "clock.start"): exit 2 at start, not a daemon failing every 5 minutes
#   8. actas the active cut published, gone from the captures (rows removed; another
#      night's files): refused, each acta named
#   9. another catalogue than the active cut's, with the same process id: refused
#      (STORE/catalog); --override-reason publishes the change
#  10. STORE/catalog damaged (cut short, a line edited, a line added, blanks added, grown
#      past 4 KiB): refused like 9, not
#      read as "no note"; --override-reason makes the cut and writes the note again
#  12. prep cut --from a directory with a file cut short while it was copied (a page of the
#      active cut truncated to 300 bytes, a datos.json without its end, the database cut
#      mid-line, a new page cut short beside complete ones): refused naming each file;
#      --allow-cut-short publishes it (--allow-shrink does not); the complete directory is
#      published
#  11. no STORE/catalog (an older store), a catalogue with one more party (the active cut's
#      database no longer reads with it) and truncated captures: the counts still come from
#      that database's header block, so the drop is refused
set -euo pipefail
[ -n "${DEBUG:-}" ] && set -x
PREP=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out good --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" keygen --out otra --drill >/dev/null
keycut() { # key pub at [extra args]: a drill cut of $ACTAS (default good/) into store; sets rc, stderr in err
  local key=$1 pub=$2 at=$3; shift 3
  set +e
  "$PREP" cut --catalog tiny.cat --actas "${ACTAS:-good}" --at "$at" --key "$key" --pubkey "$pub" --store store --drill "$@" >out 2>err
  rc=$?
  set -e
}
mkcut() { keycut drill.key drill.pub "$@"; }
verify() { "$PREP" verify --store store --pubkey drill.pub --drill --now '2021-06-07T03:01:00-05:00' >vout 2>&1; }
fresh() { # a store with good cuts 1 (21:00) and 2 (23:00)
  rm -rf store
  mkcut "2021-06-06 21:00"; [ $rc -eq 0 ] || { cat err; exit 1; }
  mkcut "2021-06-06 23:00"; [ $rc -eq 0 ] || { cat err; exit 1; }
  before=$(cat store/active)
}
refused() { # what kind: exit 1 or 2, the diag kind in err, the active cut unchanged and verifying
  [ $rc -eq 1 ] || [ $rc -eq 2 ] || { echo "$1: exit $rc, expected a refusal"; cat err; exit 1; }
  grep -q "$2" err || { echo "$1: no '$2' in the message"; cat err; exit 1; }
  [ "$(cat store/active)" = "$before" ] || { echo "$1: the active cut changed"; exit 1; }
  verify || { echo "$1: the store no longer verifies"; cat vout; exit 1; }
}

# 1. the active pointer deleted
fresh; rm store/active
mkcut "2021-06-07 03:00"
[ $rc -eq 2 ] && grep -q "store: active-missing: the store holds cuts up to 2 but no active pointer" err ||
  { echo "1: a lost pointer was not refused"; cat err; exit 1; }
grep -q '^# instant: 2021-06-06T21:00:00' store/cuts/1/manifest || { echo "1: cut 1 was signed again"; exit 1; }
if verify; then echo "1: prep verify passed a store without its pointer"; exit 1; fi
grep -q "active-missing" vout || { echo "1: prep verify did not say why"; cat vout; exit 1; }
printf '%s\n' "$before" >store/active
mkcut "2021-06-07 03:00"; [ $rc -eq 0 ] || { echo "1: no cut once the pointer is back"; cat err; exit 1; }

# 2. another key than the chain's
fresh
keycut otra.key otra.pub "2021-06-07 03:00"
refused "2 (other key)" "store/cuts/2/manifest.sig: chain-key: the active cut 2 does not verify with the signing key"
grep -q "starts over" err && { echo "2: rendered before refusing"; cat err; exit 1; }

# 3. an object of the active cut deleted, then truncated
fresh
o=$(grep -m1 '  assets/' store/cuts/2/manifest | cut -d' ' -f1)
obj=store/objects/${o:0:2}/${o:2}
rm "$obj"
mkcut "2021-06-07 03:00"
[ $rc -eq 0 ] || { echo "3: no cut over a lost object"; cat err; exit 1; }
grep -q "the store lacks or holds damaged 1 object(s) of the active cut 2" err || { echo "3: not said"; cat err; exit 1; }
[ -f "$obj" ] || { echo "3: the object was not written again"; exit 1; }
"$PREP" verify --store store --pubkey drill.pub --drill --cut 3 >vout 2>&1 || { echo "3: cut 3 does not verify"; cat vout; exit 1; }
for damage in truncated flipped; do
  fresh
  chmod u+w "$obj"
  if [ $damage = truncated ]; then : >"$obj"; else
    size=$(stat -c %s "$obj"); cp "$obj" whole.obj
    hx=$(printf '%02x' $(( $(od -An -tu1 -j $((size / 2)) -N1 "$obj") ^ 1 )))
    printf "\\x$hx" | dd of="$obj" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    [ "$(stat -c %s "$obj")" = "$size" ] && [ "$(cmp -l whole.obj "$obj" | wc -l)" = 1 ] || { echo "3: not one byte flipped"; exit 1; }
  fi
  mkcut "2021-06-07 03:00"
  [ $rc -eq 0 ] || { echo "3 ($damage): no cut over a damaged object"; cat err; exit 1; }
  grep -q "object $o of assets/.* was damaged .*: moved to damaged/, the next cut stores it again" err ||
    { echo "3 ($damage): the damage was not said"; cat err; exit 1; }
  [ "$(sha256sum <"$obj" | cut -c1-64)" = "$o" ] || { echo "3 ($damage): the object was not written again whole"; exit 1; }
  ls store/damaged/"$o".* >/dev/null || { echo "3 ($damage): the damaged bytes were not kept"; exit 1; }
  grep -q "error object $o" store/log || { echo "3 ($damage): not in the store's log"; exit 1; }
  "$PREP" verify --store store --pubkey drill.pub --drill --cut 3 >vout 2>&1 || { echo "3 ($damage): cut 3 does not verify"; cat vout; exit 1; }
done

# 4. --at outside the window; before the active cut
fresh
mkcut "2031-06-07 03:00"
refused "4 (year typo)" "tiny.cat: outside-window: the captures' instant 2031-06-07T03:00:00-06:00 is outside the catalogue's publication window"
mkcut "2021-06-06 08:00"
refused "4 (before the window)" "outside-window"
mkcut "2021-06-06 22:00"
refused "4 (before the active cut)" "store: instant-regress: the cut instant is before the active cut's (2021-06-06T23:00:00-05:00)"
grep -q "count-decreased" err && { echo "4: the captures were blamed for the clock"; cat err; exit 1; }
mkcut "2021-06-08 03:00" --override-reason "corte final tardío por falla eléctrica"
[ $rc -eq 0 ] || { echo "4: the override did not make the cut"; cat err; exit 1; }
"$PREP" export --store store --out site >/dev/null
grep -q "corte final tardío por falla eléctrica" site/corte.json || { echo "4: the reason is not published"; exit 1; }
grep -q "outside the window" site/corte.json || { echo "4: what was overridden is not published"; exit 1; }

# 5. --pubkey of another key
fresh
keycut drill.key otra.pub "2021-06-07 03:00"
refused "5 (public key of another key)" "otra.pub: key-pair: this public key .* is not the one of the signing key drill.key"

# 6. prep cut --from an empty, then a nearly empty directory
fresh
mkdir -p vacio poco
from() { # dir [extra]
  local dir=$1; shift
  set +e
  "$PREP" cut --from "$dir" --process "$(sed -n 's/^# process: //p' store/cuts/2/manifest)" --at "2021-06-07 03:00" \
    --key drill.key --store store --drill "$@" >out 2>err
  rc=$?
  set -e
}
from vacio
refused "6 (empty)" "store: empty-cut: the cut has no file"
echo '<!doctype html><title>x</title></html>' >poco/index.html # a whole page: only the count is wrong
from poco
refused "6 (one file)" "store: cut-shrinks: the cut has 1 files against the active cut 2's"
from poco --allow-shrink
[ $rc -eq 0 ] || { echo "6: --allow-shrink did not make the cut"; cat err; exit 1; }

# 12. prep cut --from a directory with a file cut short while it was copied
fresh
"$PREP" export --store store --out site >/dev/null
mkdir -p sitio && (cd site && tar cf - --exclude=./SHA256SUMS --exclude=./SHA256SUMS.sig --exclude=./cortes .) | (cd sitio && tar xf -)
page=$(cd sitio && find . -name index.html -size +2k | sort | sed -n 2p); page=${page#./}
json=$(cd sitio && find . -name '*.json' -size +1k | sort | sed -n 1p); json=${json#./}
db=$(cd sitio && find . -name '*.csv' -size +2k | sort | sed -n 1p); db=${db#./}
[ -n "$page" ] && [ -n "$json" ] && [ -n "$db" ] || { echo "12: no page, JSON or CSV to cut short"; ls -R sitio; exit 1; }
cp -a sitio entero
cutshort() { # file bytes: sitio/file cut to its first bytes
  cp "entero/$1" "sitio/$1"; truncate -s "$2" "sitio/$1"
}
cutshort "$page" 300
from sitio
refused "12 (page cut short)" "sitio/$page: file-cut-short: it does not end with </html>, as its version in the active cut 2"
grep -q "1 file of the directory ends short of a complete file; nothing is signed" err || { echo "12: no summary"; cat err; exit 1; }
cp "entero/$page" "sitio/$page"
cutshort "$json" $(( $(stat -c %s "entero/$json") - 7 ))
cutshort "$db" $(( $(stat -c %s "entero/$db") / 2 + 3 ))
from sitio
refused "12 (JSON and CSV cut short)" "sitio/$json: file-cut-short: it does not end with a closing } or \], as its version"
grep -q "sitio/$db: file-cut-short: it does not end with a line end" err || { echo "12: the CSV cut mid-line passed"; cat err; exit 1; }
grep -q "2 files of the directory end short" err || { echo "12: not both named"; cat err; exit 1; }
cp "entero/$json" "sitio/$json"; cp "entero/$db" "sitio/$db"
head -c 500 "entero/$page" >sitio/nueva.html
from sitio
refused "12 (a new page cut short)" "sitio/nueva.html: file-cut-short: it does not end with </html>, as [0-9]* of the cut's [0-9]* other files of its kind do"
rm sitio/nueva.html
cutshort "$page" 300
from sitio --allow-shrink
refused "12 (--allow-shrink is for a smaller directory)" "sitio/$page: file-cut-short"
from sitio --allow-cut-short
[ $rc -eq 0 ] || { echo "12: --allow-cut-short did not publish the directory"; cat err; exit 1; }
cp "entero/$page" "sitio/$page"
before=$(cat store/active)
from sitio
[ $rc -eq 0 ] || { echo "12: the complete directory was refused"; cat err; exit 1; }
# a new text file without a final line end is the institute's habit, not a file cut short;
# a JSON file whose brackets never balance (a comment) is judged the same in the active
# cut as now, so its next version is not refused either
printf 'nota sin fin de linea' >sitio/nota.txt
printf '{"a": 1} // ]\n' >sitio/raro.json
from sitio --allow-cut-short
[ $rc -eq 0 ] || { echo "12: nota.txt and raro.json not published"; cat err; exit 1; }
printf '{"a": 2} // ]\n' >sitio/raro.json
printf 'otra nota' >sitio/nota.txt
printf 'otra nota nueva' >sitio/nota2.txt
from sitio
[ $rc -eq 0 ] || { echo "12: a file that never ended so was refused"; cat err; exit 1; }
# a byte flipped in the store's copy of a file the directory still has: moved aside and
# stored again from the directory (before, trusted by its size and named again)
o=$(grep -m1 '  assets/' store/cuts/$(sed -n 's/^sequence //p' store/active)/manifest | cut -d' ' -f1)
obj=store/objects/${o:0:2}/${o:2}
chmod u+w "$obj"; size=$(stat -c %s "$obj")
hx=$(printf '%02x' $(( $(od -An -tu1 -j $((size / 2)) -N1 "$obj") ^ 1 )))
printf "\\x$hx" | dd of="$obj" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
[ "$(sha256sum <"$obj" | cut -c1-64)" != "$o" ] || { echo "12: no byte flipped"; exit 1; }
printf 'y otra' >>sitio/nota2.txt
from sitio
[ $rc -eq 0 ] || { echo "12: no cut over a damaged object"; cat err; exit 1; }
grep -q "object $o of assets/.* was damaged" err || { echo "12: the damaged object was not said"; cat err; exit 1; }
[ "$(sha256sum <"$obj" | cut -c1-64)" = "$o" ] || { echo "12: the object was not stored again whole"; exit 1; }
verify || { echo "12: the store does not verify"; cat vout; exit 1; }

# 8. actas the active cut published, gone from the captures (rows removed by hand: the
#    totals need not go down when newer captures come in; or a file of another night)
fresh
mkdir -p quitadas otra
cp good/* quitadas/
read -r a1 a2 < <(python3 - good/gub.csv <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8'), delimiter='|'))
h = rows[0]; k, t = h.index('CLAVE_ACTA'), h.index('FECHA_HORA_CAPTURA')
done = sorted((r[t], r[k]) for r in rows[1:] if r[t])
print(done[0][1], done[1][1])
PY
)
grep -v -e "$a1" -e "$a2" good/gub.csv >quitadas/gub.csv
ACTAS=quitadas mkcut "2021-06-07 03:00"
refused "8 (published actas removed)" "quitadas/gub.csv: published-acta-missing: acta $a1 .* was published as captured in the active cut 2"
grep -q "published-acta-missing: acta $a2 " err || { echo "8: the second acta not named"; cat err; exit 1; }
"$PREP" sim actas --catalog tiny.cat --out otra --seed 9 2>/dev/null
ACTAS=otra mkcut "2021-06-07 03:00"
refused "8 (another night's captures)" "otra/gub.csv: published-acta-missing"
# the captures the active cut published must still be there as published: a row of it
# edited in place (same instants, PAN 10 lower), or every capture replaced by a later one
# (another night's, all captured after this one's), is refused; a correction, a new row
# with its own later time, is not
mkdir -p editada tarde corregida
cp good/* editada/; cp good/* tarde/; cp good/* corregida/
python3 - good/gub.csv "$a1" editada/gub.csv tarde/gub.csv corregida/gub.csv <<'PY'
import sys
src, key, edited, later, corrected = sys.argv[1:]
lines = open(src, encoding='utf-8').read().split('\n')
h = lines[0].split('|')
pan, k = h.index('PAN'), h.index('CLAVE_ACTA')
times = [h.index(n) for n in ('FECHA_HORA_ACOPIO', 'FECHA_HORA_CAPTURA', 'FECHA_HORA_VERIFICACION')]
def put(path, rows):
    open(path, 'w', encoding='utf-8').write('\n'.join(rows))
ed, la, extra = [lines[0]], [lines[0]], None
for ln in lines[1:]:
    f = ln.split('|')
    if len(f) < len(h):
        ed.append(ln); la.append(ln); continue
    g = list(f)
    if f[k] == key:
        g[pan] = str(int(f[pan]) - 10)
        c = list(g)
        for t in times:  # the correction: an hour later (captures before 23:00 stay before 03:00)
            if c[t]: c[t] = c[t][:11] + '%02d' % ((int(c[t][11:13]) + 1) % 24) + c[t][13:]
        extra = '|'.join(c)
    ed.append('|'.join(g))
    for t in times:  # every capture 10 minutes later
        if f[t]:
            hh, mm = int(f[t][11:13]), int(f[t][14:16]) + 10
            hh, mm = (hh + mm // 60) % 24, mm % 60
            f[t] = f[t][:11] + '%02d:%02d' % (hh, mm) + f[t][16:]
    la.append('|'.join(f))
put(edited, ed); put(later, la)
put(corrected, [l for l in lines if l] + [extra, ''])
PY
ACTAS=editada mkcut "2021-06-07 03:00"
refused "8 (a published capture edited in place)" "editada/gub.csv:[0-9]*: published-acta-changed: acta $a1 was published in the active cut 2"
ACTAS=tarde mkcut "2021-06-07 03:00"
refused "8 (every published capture replaced by a later one)" "tarde/gub.csv:[0-9]*: published-acta-replaced"
ACTAS=corregida mkcut "2021-06-07 03:00"
[ $rc -eq 0 ] || { echo "8: a correction (a later capture) was refused"; cat err; exit 1; }

# a store given as a directory that is something else: the captures' directory, an exported
# docroot (the store's files would be published, then removed by the next export)
"$PREP" export --store store --out docroot >/dev/null
for dir in good docroot; do
  set +e
  "$PREP" cut --catalog tiny.cat --actas good --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store $dir \
    --drill >out 2>err
  rc=$?
  set -e
  [ $rc -eq 2 ] && grep -q "^$dir: not-a-store: is not a prep store and not empty" err ||
    { echo "a store in '$dir': exit $rc"; cat err; exit 1; }
  [ ! -e $dir/objects ] && [ ! -e $dir/active ] || { echo "a store was made in '$dir'"; exit 1; }
done

# a value forgotten: the next option is not taken for it (it was: "--store" as the time,
# then "unexpected argument 'store'")
set +e
"$PREP" cut --catalog tiny.cat --actas good --at --store store --key drill.key --drill >out 2>err
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "option '--at' needs a value (TIME), not the option '--store'" err ||
  { echo "8: --at without its value: exit $rc"; cat err; exit 1; }

# 9. another catalogue with the same process id (its expected actas, lista nominal and names
#    differ): refused; with --override-reason made, the reason published
fresh
"$PREP" sim catalog --scale tiny --seed 9 --out otro.cat >/dev/null
[ -f store/catalog ] || { echo "9: the store does not say its catalogue"; exit 1; }
set +e
"$PREP" cut --catalog otro.cat --actas good --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store store --drill >out 2>err
rc=$?
set -e
refused "9 (another catalogue)" "otro.cat: catalogue-changed: this catalogue .* is not the one the active cut 2 was made with"
set +e
"$PREP" cut --catalog otro.cat --actas good --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store store --drill \
  --override-reason "catálogo corregido por el consejo" >out 2>err
rc=$?
set -e
[ $rc -eq 0 ] || { echo "9: the override did not make the cut"; cat err; exit 1; }
"$PREP" export --store store --out site9 >/dev/null
grep -q "another catalogue than cut 2" site9/corte.json || { echo "9: the change is not published"; exit 1; }

# 10. the store's catalogue note damaged (cut short, or edited): refused like another
#     catalogue, not read as no note (which skips the check); with --override-reason made,
#     and the note written whole again
grow() { cat "$1"; head -c 5000 /dev/zero | tr '\0' x; } # past the 4 KiB a note may be
blanks() { sed 's/$/ /' "$1"; }
for damage in "head -c 40" "sed s/sha256/sha/" "sed \$a\\extra" blanks grow; do
  fresh
  $damage store/catalog >cat.tmp && mv cat.tmp store/catalog
  set +e
  "$PREP" cut --catalog tiny.cat --actas good --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store store \
    --drill >out 2>err
  rc=$?
  set -e
  [ $rc -eq 1 ] || { echo "10 ($damage): exit $rc, expected 1"; cat err; exit 1; }
  refused "10 ($damage)" "store/catalog:1: catalogue-note: is not the note of the catalogue the active cut 2 was made with"
done
set +e
"$PREP" cut --catalog tiny.cat --actas good --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store store --drill \
  --override-reason "nota del catálogo restaurada" >out 2>err
rc=$?
set -e
[ $rc -eq 0 ] || { echo "10: the override did not make the cut"; cat err; exit 1; }
[ "$(sed -n 2p store/catalog)" = "sha256 $(sha256sum <tiny.cat | cut -c1-64)" ] || { echo "10: note not rewritten"; exit 1; }

# 11. (above)
fresh
rm store/catalog
/usr/bin/python3 - tiny.cat extra.cat <<'PY'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
s = s.replace("MORENA|Morena|#B5261E\n", "MORENA|Morena|#B5261E\nPVEM|Partido Verde|#50A845\n", 1)
s = s.replace("|entity|1|PAN PRI PT MC MORENA", "|entity|1|PAN PRI PT MC MORENA PVEM", 1)
s = s.replace("[candidacies]\nelection|unit|contender|name\n", "[candidacies]\nelection|unit|contender|name\ngub|*|PVEM|Ana Verde Ruiz\n", 1)
open(sys.argv[2], "w", encoding="utf-8").write(s)
PY
mkdir -p corta
for f in good/*.csv; do head -n 3 "$f" >"corta/${f#good/}"; done
awk -F'|' 'BEGIN{OFS="|"} NR==1{for (i = 1; i <= NF; i++) if ($i == "MORENA") m = i}
  NR<=3 {$m = $m OFS (NR == 1 ? "PVEM" : "0"); print}' good/gub.csv >corta/gub.csv
set +e
"$PREP" cut --catalog extra.cat --actas corta --at "2021-06-07 03:00" --key drill.key --pubkey drill.pub --store store \
  --drill >out 2>err
rc=$?
set -e
grep -q "base-de-datos/gub.csv (cut 2) cannot be read back" err || { echo "11: the database read with the new catalogue"; cat err; exit 1; }
refused "11 (one more party, no note)" "corta/gub.csv: count-decreased: ACTAS_CAPTURADAS of gub would go from"

# 7. prep institute that could never cut
fresh
inst() { # config text: prep institute must exit 2 at once with the message
  printf '%s\n' "$1" >i.json
  set +e
  timeout 20 "$PREP" institute --config i.json >out 2>err
  rc=$?
  set -e
  [ $rc -eq 2 ] || { echo "7: prep institute exit $rc, expected 2 at start"; cat err; exit 1; }
  grep -q "$2" err || { echo "7: no '$2'"; cat err; exit 1; }
  [ "$(cat store/active)" = "$before" ] || { echo "7: the active cut changed"; exit 1; }
}
inst '{"catalog": "tiny.cat", "actas": "good", "key": "drill.key", "store": "store",
 "clock": {"start": "2021-06-07 03:30", "seconds_per_cut": 0.5}, "max_cuts": 1}' \
  "drill.key: key-mode: a drill key cannot sign live cuts"
inst '{"catalog": "tiny.cat", "actas": "good", "key": "drill.key", "store": "store", "drill": true,
 "clock": {"start": "2021-06-07 03:30", "seconds_per_cut": 0.5}, "until": "2021-06-07 03:00", "max_cuts": 1}' \
  'i.json: config-range: "until" 2021-06-07T03:00:00-05:00 is before "clock.start"'
inst '{"catalog": "tiny.cat", "actas": "good", "key": "drill.key", "store": "store", "drill": true,
 "clock": {"start": "2031-06-07 03:30", "seconds_per_cut": 0.5}, "max_cuts": 1}' \
  'i.json: config-range: "clock.start" 2031-06-07T03:30:00-06:00 is outside the catalogue'"'"'s window'
echo "cut_operator_mistakes: ok"
