#!/usr/bin/env bash
# The night's progress (issue 16 item 3) with the real binary: five `prep cut` calls on one
# store — each a new process, so the series is read back from the previous signed cut —
# give every election page an "Avance de la noche" chart whose series has one point per
# cut, and whose last point is the page's own figures (recomputed here from the series'
# counts, and checked against the cut's database header block). The series files are in
# the signed SHA256SUMS. A damaged series in the store never stops the next cut: it starts
# over from that cut, and the log says so; so does a previous cut that the signing key did
# not sign.
set -euo pipefail
PREP=$1
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"
"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
n=0
for at in "2021-06-06 20:30" "2021-06-06 21:00" "2021-06-06 22:24" "2021-06-07 01:00" "2021-06-07 03:00"; do
  n=$((n + 1))
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub --store store --drill \
    >/dev/null 2>"log$n"
done
"$PREP" export --store store --out site >/dev/null 2>&1
(cd site && sha256sum -c --strict --quiet SHA256SUMS)
for id in gub ayu dip; do grep -q " avance/$id.json\$" site/SHA256SUMS || { echo "avance/$id.json not signed"; exit 1; }; done

python3 - site <<'EOF'
import json, re, sys
site = sys.argv[1]
def pct(num, den, dec=4):  # truncated, as the publication's rules say (written here, not taken from prep)
    if den <= 0 or num <= 0:
        return "0." + "0" * dec + "%"
    q = num * 100 * 10**dec // den
    return "%d.%0*d%%" % (q // 10**dec, dec, q % 10**dec)
def commas(v):
    return "{:,}".format(v)
for eid, slug in (("gub", "gubernatura"), ("ayu", "ayuntamientos"), ("dip", "diputaciones-locales")):
    s = json.load(open(f"{site}/avance/{eid}.json"))
    assert s["formato"] == "prep-avance/1" and s["eleccion"] == eid, s
    pts = s["puntos"]
    assert [p[0] for p in pts] == [1, 2, 3, 4, 5], [p[0] for p in pts]
    assert pts[-1][1] == "2021-06-07T03:00:00-05:00", pts[-1][1]
    seq, inst, cont, esp, part, ln, total, votes = pts[-1]
    assert len(votes) == len(s["contendientes"])
    page = open(f"{site}/{slug}/index.html", encoding="utf-8").read()
    assert "<h2>Avance de la noche</h2>" in page and 'role="img"' in page
    # the summary of the page: counted actas, participation, total votes
    assert f"<dd>{commas(cont)} de {commas(esp)} ({pct(cont, esp)})</dd>" in page, (eid, cont, esp)
    assert f"<dt>Participación ciudadana</dt><dd>{pct(part, ln)}</dd>" in page, (eid, part, ln)
    assert f"<dt>Total de votos</dt><dd>{commas(total)}</dd>" in page, (eid, total)
    # the table's newest row (the last cut that changed a figure) shows the same figures
    row = re.search(r'<tbody><tr><th scope="row">(\d+)<br/><time datetime="([^"]+)">[^<]*</time></th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>', page)
    assert row and row.group(3) == pct(cont, esp) and row.group(4) == pct(part, ln), row and row.groups()
    last_change = max(i for i, p in enumerate(pts) if i == 0 or p[2:] != pts[i - 1][2:])
    assert int(row.group(1)) == pts[last_change][0] and row.group(2) == pts[last_change][1], (row.groups(), pts[last_change])
    # and the database of the cut says the same (its header block)
    lines = open(f"{site}/base-de-datos/{eid}.csv", encoding="utf-8").read().split("\n")
    h = dict(zip(lines[3].split("|"), lines[4].split("|")))
    assert int(h["ACTAS_CONTABILIZADAS"]) == cont and int(h["ACTAS_ESPERADAS"]) == esp, h
    assert int(h["LISTA_NOMINAL_ACTAS_CONTABILIZADAS"]) == ln and int(h["TOTAL_VOTOS_C_CS"]) == total, h
    assert h["PORCENTAJE_PARTICIPACION_CIUDADANA"] + "%" == pct(part, ln), h
    # each leader's line: the drawn contender shares are in the table header
    print(f"{eid}: 5 points, last = page figures ({cont}/{esp} actas, participation {pct(part, ln)})")
EOF

# A damaged series in the store: the next cut is still made, its series starts over, the log says why.
obj=$(python3 -c "
import sys
for l in open('site/SHA256SUMS'):
    if l.rstrip().endswith(' avance/gub.json'): print(l.split()[0])")
f="store/objects/${obj:0:2}/${obj:2}"
[ -f "$f" ] || { echo "object of avance/gub.json not found at $f"; exit 1; }
chmod u+w "$f"; printf 'broken' >"$f"
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-07 04:00" --key drill.key --pubkey drill.pub --store store --drill \
  >/dev/null 2>log6
grep -q "progress: avance/gub.json of cut 5 cannot be read or does not match the cut's SHA256SUMS" log6 || { cat log6; exit 1; }
"$PREP" export --store store --out site2 --no-archive >/dev/null 2>export2.err || { cat export2.err; exit 1; }
python3 -c "
import json
g = json.load(open('site2/avance/gub.json')); a = json.load(open('site2/avance/ayu.json'))
assert [p[0] for p in g['puntos']] == [6], g['puntos']
assert [p[0] for p in a['puntos']] == [1, 2, 3, 4, 5, 6], a['puntos']
"
# A cut signed with another key: the chain continues only under the key that signed it,
# so the cut is refused before anything is rendered (chain-key), and the store stays.
"$PREP" keygen --out other --drill >/dev/null
before=$(cat store/active)
set +e
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-07 05:00" --key other.key --pubkey other.pub --store store --drill \
  >/dev/null 2>log7
rc=$?
set -e
[ $rc -eq 2 ] && grep -q "chain-key: the active cut 6 does not verify with the signing key" log7 || { echo "exit $rc"; cat log7; exit 1; }
[ "$(cat store/active)" = "$before" ] || { echo "the active cut changed"; exit 1; }
echo "5 cuts: a progress series per election built from the chain of cuts, its last point the page's figures; a damaged series starts over without stopping the cut; another key is refused"
