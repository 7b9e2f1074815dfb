#!/usr/bin/env bash
# Issue 13, items 2 and 3: what one HTTP/2 client can make `prep serve` hold and do. Real
# client: Debian's python3-h2 (h2_attack.py); loopback only; under a minute.
#
# A cut with a 2 MiB big.bin, served over HTTPS with --idle-timeout 3 and --archive-cache 0
# (each archive answer its own copy, as for any file larger than the cache: an answer from
# the cache owns nothing, serve_h2_leak.sh c). Then:
#  1. Memory exhaustion: 5 connections x 100 streams GET /cortes/1/big.bin (each answer
#     its own 2 MiB copy) with a zero window, all sent before the server's SETTINGS. At
#     most 32 streams per connection are taken (SETTINGS_MAX_CONCURRENT_STREAMS, the rest
#     refused with RST_STREAM), and a connection's answers own at most 16 MiB (8 answers;
#     the other requests wait for memory to be freed, which never happens as no byte can
#     be sent); the stalled connections are cut by --idle-timeout. The RSS peak stays
#     under baseline + 5 x 18 MiB + 16 MiB (it was +1 GB before), a normal curl request
#     is answered meanwhile, and after the connections close the RSS is back to the
#     baseline +10 %.
#     A client that reads (h2load, 8 streams at a time on one connection, 16 downloads of
#     an 8 MiB archived file) gets every answer: the requests over the budget wait, none
#     fails.
#  2. Keep-alive by PING: a connection whose 4 answers are stalled by a zero window, that
#     sends a PING and a connection WINDOW_UPDATE every 0.5 s and a new request every 2 s,
#     is cut after --idle-timeout (3 s; between 2 and 6.5 s): no response byte could be
#     sent. A connection with no request at all that only PINGs is cut the same way.
#     A client that takes its answers a byte at a time is cut the same way.
#  3. Floods, one connection each, sending as fast as it can without reading: WINDOW_UPDATE,
#     PING, SETTINGS, PRIORITY, rapid reset (HEADERS + RST_STREAM, CVE-2023-44487),
#     CONTINUATION without end, empty DATA, HEADERS past the stream limit, and HPACK
#     expansion (requests of ~120 KB naming one 4,000-byte table field 120,000 times: ~480 MB
#     of fields each, which were decoded and answered 431 at up to 0.47 s of CPU a request,
#     session 31's probe, until the fields far past the advertised limit cut the
#     connection). Each must be
#     cut within 2 s (before --idle-timeout could: by the frame budget or nghttp2's own
#     limits), while curl keeps being answered within a second by the server's only
#     worker (--threads 1: before, a WINDOW_UPDATE flood held it 5 s out of 5).
#  4. The same memory budget over HTTP/1.1: 3 HTTPS/1.1 connections each pipeline 8 GET of
#     an 8 MiB archived file and read nothing: the answers queued per connection stop at
#     16 MiB (+ the one that crossed it), so the RSS peak stays under baseline +
#     3 x 26 MiB (before: the whole queue, 3 x 64 MiB), and is back to the baseline after.
# The server stays up (/health), exits 0, and under ASan reports no leak.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
ATK="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/h2_attack.py"
/usr/bin/python3 -c 'import h2' 2>/dev/null || { echo "SKIP: python3-h2 missing (scripts/setup.sh)"; exit 77; }
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -20 err.txt; exit 1; }
ASAN=0
grep -qa __asan_init "$PREP" && ASAN=1
num() { sed "s/.*\"$1\": \\([0-9]*\\).*/\\1/" <<<"$2"; }
status_count() { local v; v=$(sed -n "s/.*\"$1\": \\([0-9]*\\).*/\\1/p" <<<"$2"); echo "${v:-0}"; }

"$PREP" keygen --out drill --drill >/dev/null
mkdir pub
head -c $((2 << 20)) /dev/urandom >pub/big.bin
head -c $((8 << 20)) /dev/urandom >pub/big8.bin
echo '<!doctype html><title>uno</title>' >pub/index.html
"$PREP" cut --from pub --process prueba --at "2021-06-06 21:00" --key drill.key --store store --drill >/dev/null \
  || fail "cut"
peer_cert cert.pem key.pem
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1 \
  "$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 1 \
  --idle-timeout 3 --header-timeout 2 --poll-ms 100 --archive-cache 0 >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on https://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
[ -n "$HP" ] || fail "no listening line: $(cat out.txt)"
S=https://127.0.0.1:$HP
curl -sS --max-time 10 --http2 --cacert cert.pem -o /dev/null "$S/cortes/1/big.bin" || fail "warm-up request"
sleep 0.3
base=$($ATK rss "$SPID")

# 1. 5 x 100 streams with a zero window on 2 MiB archive answers.
r=$($ATK flood --port "$HP" --cafile cert.pem --conns 5 --streams 100 --path /cortes/1/big.bin --pid "$SPID" \
  --curl "$S/") || fail "flood: $r"
echo "1: baseline $base kB; 5 x 100 streams: $r"
n200=$(status_count 200 "$r")
resets=$(num resets "$r")
[ "$resets" -ge $((5 * 68)) ] || fail "streams past 32 per connection not refused: $r"
[ "$n200" -le $((5 * 8)) ] || fail "more than 16 MiB of answers held per connection: $r"
[ "$n200" -ge 5 ] || fail "not even one answer per connection: $r"
[ "$(num closed "$r")" = 5 ] || fail "stalled connections not cut: $r"
if [ $ASAN = 0 ]; then
  peak=$(num rss_kb_peak "$r")
  [ "$peak" -le $((base + (5 * 18 + 16) * 1024)) ] || fail "RSS peak $peak kB over the budget (baseline $base kB)"
  after=$($ATK wait-rss "$SPID" --max-kb $((base * 110 / 100)) --seconds 10) \
    || fail "RSS not back to the baseline after the flood: $base -> $peak -> $after kB"
  echo "1: RSS back to $after kB"
fi

r=$(h2load -c 1 -m 8 -n 16 "$S/cortes/1/big8.bin" 2>&1 | grep -E '^(requests|status codes):' | tr '\n' ' ')
echo "1: h2load, 16 x 8 MiB archive answers, 8 at a time: $r"
grep -q "16 succeeded, 0 failed" <<<"$r" && grep -q "16 2xx" <<<"$r" || fail "parallel downloads failed: $r"

# 2. PINGs, WINDOW_UPDATEs and new requests do not keep stalled answers alive; nor PINGs
# an idle connection.
r=$($ATK keepalive --port "$HP" --cafile cert.pem --streams 4 --path /cortes/1/big.bin --seconds 12)
echo "2: stalled answers + PING/WINDOW_UPDATE/requests: $r"
t=$(sed 's/.*"closed_after": \([0-9.a-z]*\).*/\1/' <<<"$r")
[ "$t" != null ] && awk -v t="$t" 'BEGIN { exit !(t >= 2 && t <= 6.5) }' || fail "stalled connection not cut: $r"
r=$($ATK keepalive --port "$HP" --cafile cert.pem --seconds 12)
echo "2: PINGs only: $r"
t=$(sed 's/.*"closed_after": \([0-9.a-z]*\).*/\1/' <<<"$r")
[ "$t" != null ] && awk -v t="$t" 'BEGIN { exit !(t >= 2 && t <= 6.5) }' || fail "pinging connection not cut: $r"
# An answer taken a byte at a time (each stream's window opened by one byte every 0.5 s):
# bytes flow, but 16 KiB never does within --idle-timeout, so the answers are dropped and
# the connection cut like a stalled one (before: every byte was progress, and one such
# connection held its answers, and the cut version they came from, for ever).
r=$($ATK trickle --port "$HP" --cafile cert.pem --streams 4 --path /cortes/1/big.bin --seconds 12)
echo "2: answers taken a byte at a time: $r"
t=$(sed 's/.*"ended_after": \([0-9.a-z]*\).*/\1/' <<<"$r")
[ "$t" != null ] && awk -v t="$t" 'BEGIN { exit !(t >= 2 && t <= 6.5) }' || fail "trickling connection not cut: $r"
[ "$(num bytes "$r")" -gt 0 ] || fail "the trickle got no byte (the test did not trickle): $r"

# Request heads that never end (HEADERS without END_STREAM), kept alive by a whole request
# every second on the same connection: each head is reset once --header-timeout (2 s) has
# passed since it began, the whole requests answered (before session 36 the heads held
# their fields, and the connection counted as being served, for ever: 100 such
# connections filled --max-conns and refused every newcomer).
r=$($ATK heads --port "$HP" --cafile cert.pem --streams 8 --path /health --seconds 7)
echo "2: request heads that never end: $r"
t=$(sed 's/.*"heads_reset_after": \([0-9.a-z]*\).*/\1/' <<<"$r")
[ "$t" != null ] && awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4.5) }' || fail "open request heads not reset: $r"
[ "$(num answered "$r")" -ge 5 ] || fail "the whole requests beside the heads were not answered: $r"

# 3. Frame floods on the only worker.
# ping_ack, closed_window_update and unknown are frames nghttp2 drops without telling us:
# before session 36 they were not counted, and one connection sent GBs of them for ever.
# hpack_431: requests whose fields decode to ~40 KB (431 each, under the cut), one after
# another: cut after the 4th 431 (before, answered for ever at ~3.7 times a request's CPU).
for kind in window_update ping settings priority rapid_reset continuation empty_data headers hpack_refs \
  ping_ack closed_window_update unknown hpack_431; do
  r=$($ATK frames --port "$HP" --cafile cert.pem --kind $kind --seconds 5 --curl "$S/health") \
    || fail "$kind flood: curl failed meanwhile: $r"
  echo "3: $kind: $r"
  t=$(sed 's/.*"closed_after": \([0-9.a-z]*\).*/\1/' <<<"$r")
  [ "$t" != null ] && awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "$kind flood not cut within 2 s: $r"
  m=$(sed 's/.*"curl_max_s": \([0-9.a-z]*\).*/\1/' <<<"$r")
  awk -v m="$m" 'BEGIN { exit !(m < 1) }' || fail "$kind flood: curl waited ${m} s"
done
[ "$(grep -c 'HTTP/2 connection from 127.0.0.1 cut' err.txt)" -ge 6 ] || fail "cut connections not logged"

# 4. HTTP/1.1 pipelining of large archive answers, never read.
if [ $ASAN = 0 ]; then
  base=$($ATK rss "$SPID")
  r=$($ATK h1pipe --port "$HP" --cafile cert.pem --conns 3 --requests 8 --path /cortes/1/big8.bin --pid "$SPID")
  peak=$(num rss_kb_peak "$r")
  echo "4: baseline $base kB; 3 x 8 pipelined 8 MiB answers: peak $peak kB"
  [ "$peak" -le $((base + 3 * 26 * 1024)) ] || fail "HTTP/1.1 queue over its memory budget: $base -> $peak kB"
  after=$($ATK wait-rss "$SPID" --max-kb $((base * 110 / 100)) --seconds 10) \
    || fail "RSS not back to the baseline after the pipelines: $base -> $peak -> $after kB"
fi

[ "$(curl -sS --max-time 10 --http2 --cacert cert.pem "$S/health")" = "ok corte 1" ] || fail "/health at the end"
rc=0
peer_stop "$SPID" || rc=$?
if grep -q "LeakSanitizer" err.txt; then fail "leaks at exit"; fi
[ $rc = 0 ] || fail "server exit status $rc"
echo "prep serve h2 abuse: stream and memory budgets, stall deadline, frame floods: ok"
