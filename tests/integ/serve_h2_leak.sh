#!/usr/bin/env bash
# Issue 13, item 1: HTTP/2 streams still open when their connection goes are freed, and
# with them the cut version they pin. Real client: Debian's python3-h2 (h2_attack.py).
#
# A cut of two files (an 8 MiB big.bin and an index), served over HTTPS. Then:
#  a. 8 connections x 2 streams GET /cortes/1/big.bin (the archive: each answer is its
#     own 8 MiB copy; two per connection fit its 16 MiB memory budget) with a zero
#     flow-control window, so every response stays open;
#     the RSS peak shows the 16 answers held (+64 MiB at least), a normal curl request is
#     answered meanwhile; the sockets are closed mid-response (no GOAWAY). The RSS must be
#     back to the baseline (+10 %) within 10 s.
#  b. 2 connections x 4 streams GET /big.bin (the version's own memory, no copy), closed
#     the same way; then cut 2 (without big.bin) is activated. The RSS must drop below the
#     baseline minus 6 MiB: version 1 is freed, no closed connection's stream pins it.
# Without the fix (nghttp2_session_del does not call on_stream_close) (a) stays +128 MiB
# and (b) keeps version 1 alive. Under an ASan build (-DPREP_SANITIZE=ON) the RSS figures
# mean nothing (quarantine, shadow memory): the server's exit is checked instead, where
# LeakSanitizer reports the streams and versions left behind ("Direct leak ...
# on_begin_headers"). (a) and (b) run with --archive-cache 0: each archive answer its own
# copy (the path of any file larger than the cache), so that the answers show in the RSS.
#  c. A second server with the default archived-file cache: the same 16 held streams share
#     one body (issue 13 item 4: no per-request copy): the RSS grows by less than 16 MiB,
#     not 16 x 8 MiB, and after the close stays within the cached 8 MiB of the baseline.
#  d. The server's answer memory, all connections together (--answer-memory): below.
# Under a minute.
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

"$PREP" keygen --out drill --drill >/dev/null
mkdir pub pub2
head -c $((8 << 20)) /dev/urandom >pub/big.bin
echo '<!doctype html><title>uno</title>' >pub/index.html
echo '<!doctype html><title>dos</title>' >pub2/index.html
"$PREP" cut --from pub --process prueba --at "2021-06-06 21:00" --key drill.key --store store --drill >/dev/null \
  || fail "cut 1"
peer_cert cert.pem key.pem
# start_serve OUT ERR [OPTION...]: prep serve on the store over HTTPS; sets SPID and HP.
start_serve() {
  local out=$1 err=$2
  shift 2
  ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1 \
    "$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 2 \
    --poll-ms 100 "$@" >"$out" 2>"$err" &
  SPID=$!
  peer_track "$SPID"
  for _ in $(seq 100); do grep -q "listening on https://" "$out" 2>/dev/null && break; sleep 0.1; done
  HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' "$out")
  [ -n "$HP" ] || fail "no listening line: $(cat "$out")"
}
start_serve out.txt err.txt --archive-cache 0
S=https://127.0.0.1:$HP
curl -sS --max-time 10 --http2 --cacert cert.pem -o /dev/null "$S/cortes/1/big.bin" || fail "warm-up request"
sleep 0.3
base=$($ATK rss "$SPID")

# a. answers held by open streams, then the connections closed under them.
r=$($ATK hold --port "$HP" --cafile cert.pem --conns 8 --streams 2 --path /cortes/1/big.bin --pid "$SPID" \
  --curl "$S/") || fail "attack a: $r"
echo "a: baseline $base kB, with 16 open streams: $r"
if [ $ASAN = 0 ]; then
  peak=$(sed 's/.*"rss_kb_peak": \([0-9]*\).*/\1/' <<<"$r")
  [ "$peak" -ge $((base + 64 * 1024)) ] || fail "a: the 16 archive answers did not show in the RSS ($base -> $peak kB)"
  after=$($ATK wait-rss "$SPID" --max-kb $((base * 110 / 100)) --seconds 10) \
    || fail "a: RSS not back to the baseline after the connections closed: $base -> $peak -> $after kB"
  echo "a: RSS back to $after kB"
fi

# b. streams on the version's own memory, closed; then a new cut replaces version 1.
r=$($ATK hold --port "$HP" --cafile cert.pem --conns 2 --streams 4 --path /big.bin --pid "$SPID") \
  || fail "attack b: $r"
echo "b: $r"
sleep 0.3
"$PREP" cut --from pub2 --process prueba --at "2021-06-06 21:05" --key drill.key --store store --drill >/dev/null \
  || fail "cut 2"
for _ in $(seq 100); do grep -q "corte 2 activo" out.txt && break; sleep 0.1; done
grep -q "corte 2 activo" out.txt || fail "cut 2 not picked up"
[ "$(curl -sS --max-time 10 --http2 --cacert cert.pem "$S/health")" = "ok corte 2" ] || fail "/health after cut 2"
if [ $ASAN = 0 ]; then
  after=$($ATK wait-rss "$SPID" --max-kb $((base - 6 * 1024)) --seconds 10) \
    || fail "b: version 1 (8 MiB) still held after cut 2: baseline $base kB, now $after kB"
  echo "b: version 1 freed: RSS $base -> $after kB"
fi

rc=0
peer_stop "$SPID" || rc=$?
if grep -q "LeakSanitizer" err.txt; then fail "leaks at exit"; fi
[ $rc = 0 ] || fail "server exit status $rc"

# c. the default cache: one shared body for every held answer of the same archived file,
#    which no answer owns: under --answer-memory 32 all 16 are answered (counted as
#    16 x 8 MiB of their own they would take it past the limit, and 12 would get 503).
start_serve out2.txt err2.txt --answer-memory 32
SPID2=$SPID HP2=$HP
S2=https://127.0.0.1:$HP2
curl -sS --max-time 10 --http2 --cacert cert.pem -o warm.bin "$S2/cortes/1/big.bin" || fail "c: warm-up request"
cmp -s warm.bin pub/big.bin || fail "c: the archived file's bytes differ"
sleep 0.3
base2=$($ATK rss "$SPID2")
r=$($ATK hold --port "$HP2" --cafile cert.pem --conns 8 --streams 2 --path /cortes/1/big.bin --pid "$SPID2" \
  --curl "$S2/") || fail "attack c: $r"
echo "c: baseline $base2 kB (8 MiB file cached), with 16 open streams: $r"
grep -q '"statuses": {"200": 16}' <<<"$r" || fail "c: answers of a cached archived file refused: $r"
if [ $ASAN = 0 ]; then
  peak2=$(sed 's/.*"rss_kb_peak": \([0-9]*\).*/\1/' <<<"$r")
  [ "$peak2" -lt $((base2 + 16 * 1024)) ] || fail "c: 16 answers of one archived file cost $((peak2 - base2)) kB: copies"
  after2=$($ATK wait-rss "$SPID2" --max-kb $((base2 * 110 / 100)) --seconds 10) \
    || fail "c: RSS not back after the close: $base2 -> $peak2 -> $after2 kB"
  echo "c: one shared body: RSS $base2 -> $peak2 -> $after2 kB"
fi
rc=0
peer_stop "$SPID2" || rc=$?
if grep -q "LeakSanitizer" err2.txt; then fail "c: leaks at exit"; fi
[ $rc = 0 ] || fail "c: server exit status $rc"
# d. the server's answer memory (--answer-memory 32): 16 connections, as from 16 address
#    groups (each under its own budget of 16 MiB), each holding one archive answer of its
#    own (8 MiB, --archive-cache 0) with a zero window. Four fit; the other twelve get 503
#    with retry-after at once, the RSS grows by the four only, /metrics counts the
#    refusals and the memory held, and it all goes back when the connections close. The
#    same over HTTP/1.1 (answers queued to clients that read nothing). Without the limit
#    the 16 answers held 128 MiB; 1,000 such connections held ~1 GB.
start_serve out3.txt err3.txt --archive-cache 0 --answer-memory 32
SPID3=$SPID HP3=$HP
S3=https://127.0.0.1:$HP3
curl -sS --max-time 10 --http2 --cacert cert.pem -o /dev/null "$S3/cortes/1/big.bin" || fail "d: warm-up request"
sleep 0.3
base3=$($ATK rss "$SPID3")
r=$($ATK hold --port "$HP3" --cafile cert.pem --conns 16 --streams 1 --path /cortes/1/big.bin --pid "$SPID3" \
  --curl "$S3/") || fail "attack d: $r"
echo "d: baseline $base3 kB, 16 connections each holding one archive answer: $r"
ok200=$(sed -n 's/.*"200": \([0-9]*\).*/\1/p' <<<"$r")
busy=$(sed -n 's/.*"503+retry-after": \([0-9]*\).*/\1/p' <<<"$r")
[ "${ok200:-0}" = 4 ] && [ "${busy:-0}" = 12 ] || fail "d: expected 4 answers and 12 x 503 with retry-after: $r"
metric() { curl -sS --max-time 10 --cacert cert.pem "$S3/metrics" | sed -n "s/^prep_serve_$1 //p"; }
[ "$(metric answers_refused_memory_total)" = 12 ] || fail "d: refusals not counted: $(metric answers_refused_memory_total)"
if [ $ASAN = 0 ]; then
  peak3=$(sed 's/.*"rss_kb_peak": \([0-9]*\).*/\1/' <<<"$r")
  [ "$peak3" -lt $((base3 + 48 * 1024)) ] || fail "d: 16 held answers cost $((peak3 - base3)) kB over a 32 MiB limit"
fi
for _ in $(seq 100); do [ "$(metric answer_memory_bytes)" = 0 ] && break; sleep 0.1; done
[ "$(metric answer_memory_bytes)" = 0 ] || fail "d: answer memory not given back: $(metric answer_memory_bytes)"
r=$($ATK h1pipe --port "$HP3" --cafile cert.pem --conns 8 --requests 2 --path /cortes/1/big.bin --pid "$SPID3") \
  || fail "attack d (HTTP/1.1): $r"
echo "d: HTTP/1.1, 8 connections pipelining 2 archive answers each, reading nothing: $r"
refused=$(metric answers_refused_memory_total)
[ "$refused" -ge 24 ] || fail "d: HTTP/1.1 answers over the limit not refused ($refused refusals in all)"
if [ $ASAN = 0 ]; then
  peak3=$(sed 's/.*"rss_kb_peak": \([0-9]*\).*/\1/' <<<"$r")
  [ "$peak3" -lt $((base3 + 48 * 1024)) ] || fail "d: 16 queued HTTP/1.1 answers cost $((peak3 - base3)) kB"
fi
for _ in $(seq 100); do [ "$(metric answer_memory_bytes)" = 0 ] && break; sleep 0.1; done
[ "$(metric answer_memory_bytes)" = 0 ] || fail "d: HTTP/1.1 answer memory not given back: $(metric answer_memory_bytes)"
curl -sS --max-time 10 --http2 --cacert cert.pem -o got.bin "$S3/cortes/1/big.bin" || fail "d: a download after"
# e. What a held stream costs when its answer owns nothing (a page in the version's memory):
#    40 connections x 32 streams with a zero window. Each stream keeps its answer, not its
#    request's fields (they were an 8 KiB buffer and a 1.6 KiB field array each: ~440 KiB
#    a connection, 4.4 GB at --max-conns); the connection's own buffers stay (TLS, 64 KiB).
#    Under 256 KiB a connection.
if [ $ASAN = 0 ]; then
  base4=$($ATK rss "$SPID3")
  r=$($ATK hold --port "$HP3" --cafile cert.pem --conns 40 --streams 32 --path /index.html --pid "$SPID3") \
    || fail "attack e: $r"
  peak4=$(sed 's/.*"rss_kb_peak": \([0-9]*\).*/\1/' <<<"$r")
  echo "e: 1,280 held streams of a page: RSS $base4 -> $peak4 kB"
  [ "$peak4" -lt $((base4 + 40 * 256)) ] || fail "e: $(((peak4 - base4) / 40)) kB a connection of 32 held streams"
fi
# A connection silent for over a second gives back its TLS write buffer (64 KiB); the next
# answer on it allocates it again: the 8 MiB file twice over one connection, 2.5 s apart.
r=$($ATK reuse --port "$HP3" --cafile cert.pem --path /cortes/1/big.bin) || fail "e: an answer after a silence: $r"
echo "e: $r"
cmp -s got.bin pub/big.bin || fail "d: the download after differs"
rc=0
peer_stop "$SPID3" || rc=$?
if grep -q "LeakSanitizer" err3.txt; then fail "d: leaks at exit"; fi
[ $rc = 0 ] || fail "d: server exit status $rc"
echo "prep serve h2 streams closed with their connection: answers and versions freed: ok"
