#!/usr/bin/env bash
# Issue 13, TLS handshakes: 6 clients doing nothing but full TLS handshakes (new session
# each, `openssl s_time -new`) for 8 s against `prep serve` on 2 worker threads; meanwhile
# a normal HTTPS client's requests keep a p99 under 100 ms, and the flood really ran
# (thousands of handshakes). With the groups limited to X25519/P-256/P-384 a handshake
# costs the server little (ffdhe8192 at 11.6 handshakes/s pegged both cores). Loopback
# only, bounded in time.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -5 err.txt; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
  -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
mkdir store
"$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 2 \
  --poll-ms 100 >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on https://" out.txt 2>/dev/null && break; sleep 0.1; done
P=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' out.txt | head -1)
[ -n "$P" ] || fail "no listening line: $(cat out.txt)"
U="https://127.0.0.1:$P/health"
curl -sS --cacert cert.pem --max-time 5 "$U" >/dev/null || fail "no answer before the flood"

for i in $(seq 6); do
  timeout 12 openssl s_time -connect "127.0.0.1:$P" -new -time 8 >"flood.$i" 2>&1 &
done
sleep 1
: >lat.txt
for _ in $(seq 60); do
  curl -sS --cacert cert.pem --max-time 5 -o /dev/null -w '%{time_total}\n' "$U" >>lat.txt || echo 5 >>lat.txt
  sleep 0.1
done
wait $(jobs -p | grep -v "^$SPID$") 2>/dev/null || true
total=$(cat flood.* | sed -n 's/^\([0-9]*\) connections in [0-9.]*s.*/\1/p' | awk '{s+=$1} END {print s+0}')
p99=$(sort -n lat.txt | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print a[i]}')
echo "handshakes during the flood: $total; normal client p99 ${p99}s over $(wc -l <lat.txt) requests"
[ "$total" -ge 1000 ] || fail "the flood did not run ($total handshakes)"
awk -v p="$p99" 'BEGIN {exit !(p < 0.1)}' || fail "p99 ${p99}s >= 100 ms during the handshake flood"
kill -0 "$SPID" || fail "prep serve died"
echo "TLS handshake flood: server up, normal p99 ${p99}s"
