#!/usr/bin/env bash
# The drill (prep demo) for a bounded time, checked from outside as a reader would:
# both broadcasters serve a newer cut over time over HTTPS, every page fetched shows the
# cut it belongs to (number and time, the same cut its x-prep-corte header names), the
# SHA256SUMS each one serves is the institute's signed manifest of that cut, and the
# monitor board ends green. A part killed hard is started again by the drill. Then Ctrl-C
# (SIGINT) stops everything and removes the temporary directory.
# Env (tests/integ/demo_national_small.sh sets them): PREP_DEMO_SCALE (default tiny),
# PREP_DEMO_SPC seconds per cut (default 2), PREP_DEMO_WAIT the seconds a site may take to
# serve a cut (default 30: a first pull of a national-small cut takes minutes),
# PREP_DEMO_ADVANCE how many cuts past its first each site must reach (default 3). Every
# store keeps 2 cuts whole (--store-keep 2), and its retention must have run.
set -euo pipefail
PREP=${1:?usage: demo.sh PATH/TO/prep}
SCALE=${PREP_DEMO_SCALE:-tiny} SPC=${PREP_DEMO_SPC:-2} WAIT=${PREP_DEMO_WAIT:-30} ADVANCE=${PREP_DEMO_ADVANCE:-3}
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-demo-test-XXXXXX)
chmod 755 "$T"
DEMO_PID=
cleanup() {
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then kill -INT "$DEMO_PID"; wait "$DEMO_PID" || true; fi
  pkill -f "$T/" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- demo output:" >&2; cat "$T/out" >&2 || true;
         for f in "$T"/d/logs/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done; exit 1; }
pass() { echo "ok: $*"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
apache_expected=0; [ -x /usr/sbin/apache2 ] && apache_expected=1
"$PREP" demo --scale "$SCALE" --seconds-per-cut "$SPC" --duration $((300 + 4 * WAIT)) --dir "$T/d" --port "$port" \
  --store-keep 2 >"$T/out" 2>&1 &
DEMO_PID=$!

# the URLs the drill prints
for _ in $(seq 1 300); do grep -q "tablero del monitor" "$T/out" 2>/dev/null && break; sleep 0.2; done
grep -q "tablero del monitor" "$T/out" || fail "the drill did not print its URLs"
A=$(sed -n 's/^  difusor 1, prep serve: *\(https:[^ ]*\).*/\1/p' "$T/out")
B=$(sed -n 's/^  difusor 2, Apache httpd: *\(https:[^ ]*\).*/\1/p' "$T/out")
BOARD=$(sed -n 's|^  tablero del monitor: *file://\(.*\)/index.html|\1|p' "$T/out")
[ -n "$A" ] || fail "no prep serve URL printed"
urls=("$A")
if [ "$apache_expected" = 1 ]; then [ -n "$B" ] || fail "apache2 is installed but no Apache URL printed"; urls+=("$B"); fi
pass "URLs printed: ${urls[*]} board $BOARD"

corte_of() { curl -sk -o /dev/null -w '%header{x-prep-corte}' "$1"; }
# Polled 5 times a second for cuts 2 s apart, once a second for cuts 30 s apart (national
# small): each poll is a TLS handshake, ~950 of them were ~15 CPU s of that test's 59.
POLL_PER_S=5 POLL_NAP=0.2; [ "$SPC" -ge 10 ] && { POLL_PER_S=1; POLL_NAP=1; }
wait_corte() { # URL MIN: wait until the site serves a cut >= MIN, print it
  local c
  for _ in $(seq 1 $((WAIT * POLL_PER_S))); do
    c=$(corte_of "$1" || true)
    if [ -n "$c" ] && [ "$c" -ge "$2" ]; then echo "$c"; return 0; fi
    sleep "$POLL_NAP"
  done
  echo "${c:-none}"; return 1
}

declare -A first
for u in "${urls[@]}"; do
  first[$u]=$(wait_corte "$u" 1) || fail "$u never served a cut"
done
pass "both broadcasters serve a cut: ${first[*]}"
for u in "${urls[@]}"; do
  want=$((first[$u] + ADVANCE))
  got=$(wait_corte "$u" "$want") || fail "$u stayed at cut ${first[$u]} (wanted >= $want, got $got)"
  pass "$u moved from cut ${first[$u]} to $got"
done

# every page fetched shows its cut: number and time, the cut its header names; the
# manifest it serves is the institute's for that cut
store="$T/d/instituto"
for u in "${urls[@]}"; do
  curl -sk -D "$T/h" -o "$T/sums" "${u}SHA256SUMS" || fail "$u: no SHA256SUMS"
  seq=$(tr -d '\r' <"$T/h" | sed -n 's/^x-prep-corte: *//Ip')
  cmp -s "$T/sums" "$store/cuts/$seq/manifest" || fail "$u: SHA256SUMS is not the institute's manifest of cut $seq"
  # a spread of about 15 pages over the whole tree (both trees: main and embebido/)
  pages=$(awk '$2 ~ /\.html$/ {print $2}' "$T/sums" | awk '{a[NR]=$0} END {s=int(NR/15); if (s<1) s=1; for (i=1;i<=NR;i+=s) print a[i]}')
  n=0
  for pth in index.html $pages; do
    curl -sk --compressed -D "$T/h" -o "$T/page" "$u$pth" || fail "$u$pth: fetch failed"
    code=$(head -1 "$T/h" | awk '{print $2}')
    [ "$code" = 200 ] || fail "$u$pth: HTTP $code"
    c=$(tr -d '\r' <"$T/h" | sed -n 's/^x-prep-corte: *//Ip')
    grep -q "data-corte=\"$c\"" "$T/page" || fail "$u$pth: the page does not name cut $c (its header)"
    grep -q "Corte <b>$c</b>" "$T/page" || fail "$u$pth: no visible 'Corte $c'"
    grep -q '<time datetime="[0-9-]*T[0-9:]*[-+][0-9:]*">[^<]*([A-Z]*[-+0-9:]*)</time>' "$T/page" ||
      fail "$u$pth: no visible cut time"
    want=$(sed -n 's/^# instant: //p' "$store/cuts/$c/manifest")
    grep -q "<time datetime=\"$want\">" "$T/page" || fail "$u$pth: the time shown is not cut $c's instant $want"
    n=$((n + 1))
  done
  pass "$u: $n pages each show their cut number and instant; SHA256SUMS is cut $seq's signed manifest"
done

# the cutter keeps its last site for the next render: whole at a local scale; at the
# national scales the section pages' body parts by hash only, once a cut holds them
# (prep_render_site_shed): at national-small, with few sections a district, ~37 of ~52 MB
ilog=$(ls "$T"/d/logs/institut*.log 2>/dev/null | sed -n 1p)
[ -n "$ilog" ] || fail "no institute log under $T/d/logs"
held=$(sed -n 's/^prep institute: corte \([2-9]\|[1-9][0-9]\+\) (.*): [0-9]* archivos, \([0-9.]*\) MB (\([0-9.]*\) MB en memoria).*/\2 \3/p' "$ilog" | tail -1)
[ -n "$held" ] || fail "no cut after the first in $ilog with its bytes and what stays in memory"
read -r site_mb mem_mb <<<"$held"
case $SCALE in
  national*) awk -v s="$site_mb" -v m="$mem_mb" 'BEGIN {exit !(m < s * 0.9)}' ||
    fail "the institute keeps $mem_mb of a $site_mb MB site in memory (the section pages' parts were not shed)" ;;
  *) [ "$mem_mb" = "$site_mb" ] || fail "at $SCALE the institute keeps $mem_mb of a $site_mb MB site (want all of it)" ;;
esac
pass "the institute keeps $mem_mb MB of its last $site_mb MB site in memory"

# the board: every broadcaster green after a round that saw them current
[ -n "$BOARD" ] || fail "no board path"
ok=0
for _ in $(seq 1 $((WAIT > 60 ? WAIT : 60))); do
  if [ -f "$BOARD/board.json" ] && python3 - "$BOARD/board.json" "${#urls[@]}" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
rows = b.get("broadcasters") or b.get("rows") or []
states = [r.get("state") or r.get("status") for r in rows]
sys.exit(0 if len(rows) == int(sys.argv[2]) and all(s == "green" for s in states) else 1)
PY
  then ok=1; break; fi
  sleep 1
done
[ "$ok" = 1 ] || { cat "$BOARD/board.json" >&2 || true; fail "the board did not turn green for every broadcaster"; }
[ -s "$BOARD/index.html" ] || fail "no board page"
pass "the monitor board is green for all ${#urls[@]} broadcasters"

# every store applies its retention (--store-keep 2 here, 24 by default) and Apache's
# docroot archives 2 cuts whole, so that the drill's disk stays bounded however long it
# runs (without them a Querétaro drill grew ~1.5 GB a minute)
grep -q "^prep institute: almacén: [0-9]* cortes reducidos" "$ilog" || fail "the institute's store kept every cut whole"
grep -q "^prep serve: store: [0-9]* cortes pruned" "$T"/d/logs/difusor-uaq-serve.log ||
  fail "prep serve's store kept every cut whole"
if [ "$apache_expected" = 1 ]; then
  grep -q "^prep receive: store: [0-9]* cortes pruned" "$T"/d/logs/difusor-diario-receive.log ||
    fail "the Apache broadcaster's store kept every cut whole"
  pgrep -f -- " receive --store $T/d/.* --archive-full 2 " >/dev/null || fail "the Apache export archives more than 2 cuts whole"
fi
pass "every store keeps the objects of its 2 newest cuts only"

# a part that dies is started again: kill prep serve (difusor 1) hard; the drill names it,
# starts it again, and the site answers with a current cut
spid=$(pgrep -f -- " serve --store $T/d/" | sed -n 1p)
[ -n "$spid" ] || fail "no prep serve process of the drill"
kill -KILL "$spid"
for _ in $(seq 1 60); do grep -q "difusor-uaq-serve started again" "$T/out" && break; sleep 0.25; done
grep -q "difusor-uaq-serve started again" "$T/out" || fail "the drill did not start the killed prep serve again"
after=$(wait_corte "$A" 1) || fail "prep serve did not answer after its restart"
pass "a killed prep serve was started again and serves cut $after"

# Ctrl-C stops every process of the drill
kill -INT "$DEMO_PID"
for _ in $(seq 1 100); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DEMO_PID" 2>/dev/null && fail "the drill did not stop on SIGINT"
wait "$DEMO_PID" || true
DEMO_PID=
sleep 0.5
if pgrep -f "$T/d" >/dev/null; then pgrep -af "$T/d" >&2; fail "processes of the drill still run after it stopped"; fi
pass "SIGINT stopped the drill and every process it started"
echo "demo drill: all checks passed"
