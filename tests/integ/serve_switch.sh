#!/usr/bin/env bash
# Switch under load (issue 5): while checking clients load `prep serve` over HTTPS
# (HTTP/1.1 keep-alive + pipelining from several threads, and curl --http2 multiplexed
# loops; each pauses 10 ms / 100 ms between batches: a steady load of ~1,000 requests a
# second, hundreds in flight across each switch, rather than both cores), 100 cuts are activated one after another with `prep receive`. Asserts 0 failed
# requests, 0 bodies that differ from the manifest entry of the cut named by their
# x-prep-corte, responses from many distinct cuts, and a server RSS that does not keep
# growing with the number of cuts.
#
# The 101 cuts are made beforehand in a source store (tiny catalogue, a cut every 5 minutes
# of the simulated night, so results and every page's stamp change); each one's incoming
# area holds only the objects the previous cut lacks (serve_switch_client.py incoming).
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$HERE/serve_switch_client.py
NCUTS=${PREP_SWITCH_CUTS:-100}     # switches under load (cut 1 is active before)
T=$(mktemp -d)
SPID=
CPID=
cleanup() {
  [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -20 err.txt; exit 1; }

t0=$(date +%s)
"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
base=$(date -d "2021-06-06 20:00:00 -0500" +%s)
iso() { TZ=America/Mexico_City date -d "@$1" +%Y-%m-%dT%H:%M:%S%:z; }
for n in $(seq 1 $((NCUTS + 1))); do
  at=$((base + n * 300))
  "$PREP" cut --catalog tiny.cat --actas actas --at "$(TZ=America/Mexico_City date -d "@$at" '+%Y-%m-%d %H:%M')" \
    --key drill.key --pubkey drill.pub --store src --drill >/dev/null 2>&1 || fail "prep cut $n"
done
python3 "$CLIENT" incoming src 1 $((NCUTS + 1)) inc || fail "incoming areas of cuts 1-$((NCUTS + 1))"
[ "$(sed -n 's/^sequence //p' src/active)" = $((NCUTS + 1)) ] || fail "source store did not reach cut $((NCUTS + 1))"
"$PREP" receive --store store --from inc/1 --pubkey drill.pub --drill --now "$(iso $((base + 300)))" >/dev/null \
  || fail "receive cut 1"
echo "made $((NCUTS + 1)) cuts in $(( $(date +%s) - t0 )) s"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
"$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem \
  --listen 127.0.0.1:0 --threads 2 --poll-ms 50 >out.txt 2>err.txt &
SPID=$!
for _ in $(seq 100); do grep -q "listening on https://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
[ -n "$HP" ] || fail "no listening line: $(cat out.txt)"

python3 "$CLIENT" load --port "$HP" --cafile cert.pem --cuts src/cuts --stop-file stop \
  --h1-threads 4 --pipeline 4 --h2-loops 2 --h1-pause-ms 10 --h2-pause-ms 100 --server-pid "$SPID" \
  >result.json 2>client.err &
CPID=$!
sleep 1
# 100 switches: receive cut n, then wait until the server serves it (its /health), so
# every cut is really served for a while before the next one arrives.
ts=$(date +%s.%N)
for n in $(seq 2 $((NCUTS + 1))); do
  "$PREP" receive --store store --from "inc/$n" --pubkey drill.pub --drill --now "$(iso $((base + n * 300)))" \
    >/dev/null 2>>err.txt || fail "receive cut $n"
  for _ in $(seq 100); do
    [ "$(curl -sS --max-time 5 --cacert cert.pem "https://127.0.0.1:$HP/health")" = "ok corte $n" ] && break
    sleep 0.02
  done
  [ "$(curl -sS --max-time 5 --cacert cert.pem "https://127.0.0.1:$HP/health")" = "ok corte $n" ] \
    || fail "cut $n not served within 2 s"
  sleep 0.15
done
te=$(date +%s.%N)
sleep 0.5
touch stop
wait "$CPID" && crc=0 || crc=$?
CPID=
cat result.json
[ -s client.err ] && { echo "client stderr:"; head -20 client.err; }

# The server switched to every cut and is still healthy.
switches=$(grep -c "^prep serve: corte [0-9]* activo (" out.txt || true)
[ "$switches" -ge $((NCUTS + 1)) ] || fail "server reported $switches cut lines, expected $((NCUTS + 1))"
kill "$SPID"; wait "$SPID" || fail "server exit status"; SPID=

python3 - "$NCUTS" "$crc" "$ts" "$te" <<'EOF' || exit 1
import json, sys
n, crc, ts, te = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.load(open("result.json"))
errs = []
if r["failed"]: errs.append("%d failed requests" % r["failed"])
if r["mismatches"]: errs.append("%d bodies differ from their cut's manifest" % r["mismatches"])
if crc and not errs: errs.append("client exit %d" % crc)
if r["ok"] < 20 * n: errs.append("only %d checked responses" % r["ok"])
if r["http1"] == 0 or r["http2"] == 0: errs.append("HTTP/1.1 %d, HTTP/2 %d" % (r["http1"], r["http2"]))
# Responses seen from most of the 101 cuts (each is served >= 0.15 s under load).
if r["distinct_cuts"] < (n + 1) * 3 // 4: errs.append("responses from only %d distinct cuts" % r["distinct_cuts"])
if r["max_cut"] != n + 1: errs.append("last cut seen %d" % r["max_cut"])
# RSS bounded: after the first quarter, 100 more versions must not add more than 24 MB
# (a leaked tiny version holds ~1.5 MB: 75 leaks would be > 100 MB).
grow = r["rss_kb_last_quarter_max"] - r["rss_kb_first_quarter_max"]
if grow > 24 * 1024: errs.append("server RSS grew %d kB" % grow)
for p in r["problems"]: print("  " + p)
print("switch under load: %d switches in %.1f s, %d responses (%d HTTP/1.1, %d HTTP/2) from %d cuts, "
      "0 failed: %s, RSS %d -> %d kB (max %d)"
      % (n, te - ts, r["requests"], r["http1"], r["http2"], r["distinct_cuts"], not r["failed"],
         r["rss_kb_first_quarter_max"], r["rss_kb_last_quarter_max"], r["rss_kb_max"]))
if errs:
    print("FAIL: " + "; ".join(errs)); sys.exit(1)
EOF
echo "serve_switch: ok"
