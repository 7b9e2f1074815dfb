#!/usr/bin/env bash
# prep serve restarted on a store whose active cut lost an object (issue 13). Before the
# fix it served the waiting page (503) on every path while /health said "ok corte 0",
# though the previous whole cut was in the store. Now:
#   1. two cuts, cut 2 active, an object only cut 2 uses deleted: serve starts on cut 1
#      (200, x-prep-corte: 1, corte.json and the home page of cut 1), logs why cut 2 was
#      refused and which cut stands in; /health is 200 "degraded corte 1: active cut 2
#      cannot be loaded (missing-object ...)" and /metrics prep_serve_fallback_from_cut 2;
#      a third cut activated while serving ends the fallback (x-prep-corte: 3, "ok corte 3");
#   2. a store whose only cut lost an object: the waiting page (503) and /health not ok
#      (503 "unavailable: ...", see docs/internals/serve.md "/health").
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -20 err.txt; exit 1; }

"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
cut_at() { # store time
  "$PREP" cut --catalog tiny.cat --actas actas --at "$2" --key drill.key --pubkey drill.pub --store "$1" \
    --drill >/dev/null 2>&1 || fail "prep cut $1 $2"
}
# objs MANIFEST: every object (64-hex token naming a file under objects/) the manifest uses.
objs() {
  grep -oE '[0-9a-f]{64}' "$1" | sort -u | while read -r h; do
    if [ -f "$2/objects/${h:0:2}/${h:2}" ]; then echo "$h"; fi
  done
}
# start STORE: prep serve on a free port; sets SPID and U (its base URL).
start() {
  "$PREP" serve --store "$1" --listen 127.0.0.1:0 --threads 1 --poll-ms 100 >out.txt 2>err.txt &
  SPID=$!
  peer_track "$SPID"
  for _ in $(seq 150); do grep -q "listening on http://" out.txt 2>/dev/null && break; sleep 0.1; done
  local p
  p=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/ (http/1.1)$|\1|p' out.txt)
  [ -n "$p" ] || fail "no listening line: $(cat out.txt)"
  U=http://127.0.0.1:$p
}
C=(curl -sS --max-time 10)

# ---------------------------------------------------------------- 1. fall back to cut 1
cut_at s2 "2021-06-06 21:00"
cut_at s2 "2021-06-06 22:00"
objs s2/cuts/1/manifest s2 >o1.txt
CJ=$(grep ' corte.json$' s2/cuts/2/manifest | cut -c1-64)
grep -qx "$CJ" o1.txt && fail "corte.json of cut 2 is also cut 1's"
rm "s2/objects/${CJ:0:2}/${CJ:2}"
start s2
grep -q "^prep serve: corte 1 activo" out.txt || fail "not serving cut 1: $(cat out.txt)"
grep -q "active cut 2 cannot be loaded" err.txt || fail "no reason logged for cut 2"
grep -q "missing-object" err.txt || fail "the missing object is not named in the log"
grep -q "serving cut 1, the newest whole cut, instead of active cut 2" err.txt || fail "no fallback line"
echo "ok: restart with cut 2 damaged serves cut 1 and logs why"

code=$("${C[@]}" -o home.html -D h.txt -w '%{http_code}' "$U/")
[ "$code" = 200 ] || fail "/ answered $code"
grep -qi '^x-prep-corte: 1' h.txt || fail "x-prep-corte: $(grep -i x-prep-corte h.txt)"
grep -q '"corte":1,"instante":"2021-06-06T21:00:00-05:00"' <("${C[@]}" "$U/corte.json") ||
  fail "corte.json is not cut 1's"
H1=$(grep -E "^[0-9a-f]{64}  index.html$" s2/cuts/1/manifest | cut -c1-64)
[ -n "$H1" ] && [ "$H1" = "$(sha256sum home.html | cut -c1-64)" ] || fail "the home page is not cut 1's ($H1)"
echo "ok: / and corte.json are cut 1's (200, x-prep-corte: 1)"

hc=$("${C[@]}" -o health.txt -w '%{http_code}' "$U/health")
[ "$hc" = 200 ] || fail "/health status $hc while serving cut 1"
grep -q "^degraded corte 1: active cut 2 cannot be loaded (missing-object" health.txt ||
  fail "/health: $(cat health.txt)"
grep -qx "prep_serve_fallback_from_cut 2" <("${C[@]}" "$U/metrics") || fail "/metrics: no prep_serve_fallback_from_cut 2"
echo "ok: /health 200 '$(cut -c1-60 health.txt)...', /metrics fallback gauge"

# A newer cut activated while serving ends the fallback.
cut_at s2 "2021-06-06 23:00"
for _ in $(seq 100); do
  [ "$("${C[@]}" "$U/health")" = "ok corte 3" ] && break
  sleep 0.1
done
[ "$("${C[@]}" "$U/health")" = "ok corte 3" ] || fail "after cut 3: /health $("${C[@]}" "$U/health")"
"${C[@]}" -o /dev/null -D h3.txt "$U/"
grep -qi '^x-prep-corte: 3' h3.txt || fail "after cut 3: $(grep -i x-prep-corte h3.txt)"
grep -qx "prep_serve_fallback_from_cut 0" <("${C[@]}" "$U/metrics") || fail "/metrics after cut 3"
echo "ok: cut 3 activated while serving: served, /health ok corte 3"
peer_stop "$SPID" || true

# ---------------------------------------------------------------- 2. the only cut is broken
cut_at s1 "2021-06-06 21:00"
CJ=$(grep ' corte.json$' s1/cuts/1/manifest | cut -c1-64)
rm "s1/objects/${CJ:0:2}/${CJ:2}"
start s1
grep -q "no whole cut older than 1" err.txt || fail "no 'no whole cut' line: $(cat err.txt)"
code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$U/")
[ "$code" = 503 ] || fail "/ answered $code with the only cut broken"
hc=$("${C[@]}" -o health.txt -w '%{http_code}' "$U/health")
grep -q "^unavailable: active cut 1 cannot be loaded" health.txt || fail "/health says: $(cat health.txt)"
grep -qx "prep_serve_unavailable 1" <("${C[@]}" "$U/metrics") || fail "/metrics: no prep_serve_unavailable 1"
[ "$hc" = 503 ] || fail "/health answered $hc while serving the waiting page with cuts in the store"
echo "ok: only cut broken: waiting page 503, /health 503 '$(cat health.txt)'"
peer_stop "$SPID" || true

# ---------------------------------------------------------------- 3. an empty store is fine
mkdir s0
start s0
[ "$("${C[@]}" "$U/health")" = "ok corte 0" ] || fail "empty store: /health $("${C[@]}" "$U/health")"
echo "ok: empty store: waiting page, /health ok corte 0"
echo "PASS"
