#!/usr/bin/env bash
# Several `prep serve` replicas behind Debian's HAProxy (issue 15 item 5; docs/scale-out.md).
# Three replicas on loopback, each with its own store, behind haproxy running the
# documented configuration docs/scale-out/haproxy.cfg as it is (addresses through the
# environment). Twelve readers, each from its own loopback address, request pages one after
# another while:
#   A. cuts 2..4 reach the three stores a little apart (the replicas switch at different
#      moments, in a different order each time);
#   B. cuts 5 and 6 reach replicas r1 and r3 only: r2 lags. It must be taken out of
#      rotation (its health check fails) and get no request while it lags; asked directly
#      it really still serves cut 4 (what a reader would have got without the design), and
#      refuses a request marked with a newer cut;
#   C. r2 receives cuts 5 and 6: it must rejoin and get requests again; cuts 7 and 8 reach
#      all three;
#   D. cut 9 reaches r1 and r3; r1 is put in maintenance (stats socket) while r2, on cut 8,
#      is not drained yet (its checks paused): r1's readers move, and r2 must refuse those
#      it would send back.
# Asserts: 0 failed requests, 0 bodies that differ from the manifest of the cut their
# x-prep-corte names (the source store's own copy), 0 responses older than one the same
# reader already got, every reader reached cut 9; r2 DOWN within 3 s of lagging, no
# request while DOWN (haproxy's session count of r2 and r2's own access log), UP within
# 5 s of catching up, requests again afterwards; in D, r2 refused some requests and haproxy
# retried them. ~40 s.
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${PREP_SRC:-$HERE/../..}
CFG=${PREP_HAPROXY_CFG:-$SRC/docs/scale-out/haproxy.cfg} # the override: a control run
CLIENT=$HERE/haproxy_replicas_client.py
INC=$HERE/serve_switch_client.py
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY" ] || { echo "SKIP: haproxy not installed (scripts/setup.sh installs it)"; exit 77; }
T=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T"
fail() {
  echo "FAIL: $*"
  for f in hap.err r1.err r2.err r3.err client.err; do [ -s "$f" ] && { echo "--- $f"; tail -5 "$f"; }; done
  exit 1
}
t0=$(date +%s.%N)

# Eight cuts in a source store; inc/N holds what cut N adds to cut N-1.
"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
base=$(date -d "2021-06-06 20:00:00 -0500" +%s)
iso() { TZ=America/Mexico_City date -d "@$1" +%Y-%m-%dT%H:%M:%S%:z; }
for n in $(seq 1 9); do
  at=$((base + n * 300))
  "$PREP" cut --catalog tiny.cat --actas actas --at "$(TZ=America/Mexico_City date -d "@$at" '+%Y-%m-%d %H:%M')" \
    --key drill.key --pubkey drill.pub --store src --drill >/dev/null 2>&1 || fail "prep cut $n"
done
python3 "$INC" incoming src 1 9 inc || fail "incoming areas of cuts 1-9"
give() { # give STORE_INDEX CUT: receive that cut into replica r<index>'s store
  "$PREP" receive --store "s$1" --from "inc/$2" --pubkey drill.pub --drill --now "$(iso $((base + $2 * 300)))" \
    >/dev/null 2>>recv.err || fail "receive cut $2 into s$1"
}
for r in 1 2 3; do give "$r" 1; done

# Three replicas.
for r in 1 2 3; do
  "$PREP" serve --store "s$r" --listen 127.0.0.1:0 --threads 1 --poll-ms 50 --access-log "r$r.log" \
    --max-conns-per-ip 100000 \
    >"r$r.out" 2>"r$r.err" &
  PIDS+=($!)
done
declare -A PORT
for r in 1 2 3; do
  for _ in $(seq 100); do grep -q "listening on http://" "r$r.out" 2>/dev/null && break; sleep 0.05; done
  PORT[$r]=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "r$r.out")
  [ -n "${PORT[$r]}" ] || fail "replica r$r did not start: $(cat "r$r.out" "r$r.err")"
done

# HAProxy with the documented configuration, on a free loopback port.
HP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PREP_HAPROXY_BIND=127.0.0.1:$HP PREP_HAPROXY_STATS=$T/stats.sock
export PREP_R1=127.0.0.1:${PORT[1]} PREP_R2=127.0.0.1:${PORT[2]} PREP_R3=127.0.0.1:${PORT[3]}
"$HAPROXY" -c -q -f "$CFG" || fail "haproxy -c refuses $CFG"
"$HAPROXY" -db -f "$CFG" >hap.out 2>hap.err &
PIDS+=($!)
stat() { python3 "$CLIENT" stat "$T/stats.sock" 2>/dev/null || true; }
status_of() { stat | awk -v s="$1" '$1 == s { print $2 }'; }
stot_of() { stat | awk -v s="$1" '$1 == s { print $3 }'; }
wait_status() { # wait_status SERVER STATUS SECONDS: prints the seconds it took
  local s e
  s=$(date +%s%N)
  while :; do
    e=$(( $(date +%s%N) - s ))
    [ "$(status_of "$1")" = "$2" ] && { awk -v e="$e" 'BEGIN { printf "%.2f\n", e / 1e9 }'; return 0; }
    [ "$e" -gt $(( $3 * 1000000000 )) ] && return 1
    sleep 0.02
  done
}
for r in r1 r2 r3; do wait_status "$r" UP 5 >/dev/null || fail "$r not UP at start: $(stat)"; done
serves() { curl -sS --max-time 2 "http://127.0.0.1:${PORT[$1]}/health/cut" 2>/dev/null || true; }
wait_serves() { # wait_serves REPLICA CUT
  for _ in $(seq 150); do [ "$(serves "$1")" = "ok corte $2" ] && return 0; sleep 0.02; done
  fail "r$1 does not serve cut $2 within 3 s"
}
# The lookup form still works through the proxy (the marker goes before n=...).
sec=$(grep -o ' seccion/[0-9]*/index.html' src/cuts/1/manifest | sed -n 1p | cut -d/ -f2)
loc=$(curl -sS -o /dev/null -D - "http://127.0.0.1:$HP/seccion/?n=$sec" | tr -d '\r' | sed -n 's/^location: //Ip')
[ "$loc" = "$sec/" ] || fail "lookup through haproxy: location '$loc', expected '$sec/'"

python3 "$CLIENT" load --port "$HP" --cuts src/cuts --stop-file stop --clients 12 --out result.json \
  2>client.err &
CPID=$!
PIDS+=($CPID)
sleep 1

# A. Cuts 2..4 to all three stores, 0.15 s apart, a different replica first each time.
for n in 2 3 4; do
  case $n in 2) order="1 2 3" ;; 3) order="2 3 1" ;; 4) order="3 1 2" ;; esac
  for r in $order; do give "$r" "$n"; sleep 0.15; done
  for r in 1 2 3; do wait_serves "$r" "$n"; done
  sleep 1
done

# B. Cuts 5 and 6 to r1 and r3 only: r2 lags.
give 1 5; give 3 5
tb=$(date +%s.%N)
down_after=$(wait_status r2 DOWN 4) || fail "r2 (cut 4) not taken out of rotation within 4 s: $(stat)"
stot_down=$(stot_of r2) # haproxy's count of what it sent r2
# Answers dispatched to r2 before it went DOWN finish, and their log lines are written
# (prep serve writes its access log every second).
sleep 1.3
log_down=$(wc -l <r2.log)
direct=$(curl -sS -o /dev/null -D - "http://127.0.0.1:${PORT[2]}/" | tr -d '\r' | sed -n 's/^x-prep-corte: //Ip')
[ "$direct" = 4 ] || fail "r2 asked directly serves cut '$direct', expected 4 (it lags)"
marked=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[2]}/?prep_visto=5")
[ "$marked" = 503 ] || fail "r2 answered $marked to a request marked with cut 5, expected 503"
sleep 0.5
give 1 6; give 3 6
wait_serves 1 6; wait_serves 3 6
sleep 0.5
sleep 1.2 # the last second of r2's log lines written
[ "$(status_of r2)" = DOWN ] || fail "r2 (cut 4) back in rotation while lagging: $(stat)"
stot_lag=$(stot_of r2)
log_lag=$(wc -l <r2.log)
te=$(date +%s.%N)
lagw() { awk -v a="$log_down" -v b="$log_lag" 'NR > a && NR <= b' r2.log; }
check_lines=$(lagw | grep -c '"GET /health/cut?prep_visto=[0-9]* ' || true)
# Two direct requests above (curl, not through haproxy); the rest must be health checks.
others=$(lagw | awk '!/"GET \/health\/cut\?prep_visto=[0-9]* / && !/"curl\//' | wc -l)
[ "$stot_lag" = "$stot_down" ] || fail "haproxy sent r2 $((stot_lag - stot_down)) sessions while it lagged"
[ "$others" = 0 ] || fail "r2 got $others requests other than health checks while it lagged: $(lagw | grep -v health/cut | sed -n 1,3p)"
[ "$check_lines" -ge 3 ] || fail "only $check_lines health checks reached r2 in $(awk -v a="$te" -v b="$tb" 'BEGIN { printf "%.1f", a - b }') s"

# C. r2 catches up and rejoins; cuts 7 and 8 to all three.
give 2 5; give 2 6
wait_serves 2 6
up_after=$(wait_status r2 UP 5) || fail "r2 (cut 6 now) not back in rotation within 5 s: $(stat)"
sleep 1
stot_up=$(stot_of r2)
[ "$stot_up" -gt "$stot_lag" ] || fail "r2 got no request after rejoining: $(stat)"
for n in 7 8; do
  for r in 2 1 3; do give "$r" "$n"; sleep 0.15; done
  for r in 1 2 3; do wait_serves "$r" "$n"; done
  sleep 1
done
# D. The net under the stickiness: r1 leaves while r2 lags and is not drained yet. The
#    window before r2's check notices is made as long as the scenario needs by pausing
#    r2's health checks (`disable health`: r2 stays UP, whatever it answers). Cut 9
#    reaches r1 and r3; r1's readers get it; r1 is put in maintenance (as for a restart):
#    its readers move, and r2 (cut 8) must refuse those hashed to it, which haproxy then
#    retries on r3, never answering with cut 8.
hapcmd() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n"); print(s.recv(4096).decode().strip())' "$T/stats.sock" "$1"; }
hapcmd "disable health prep_replicas/r2" >/dev/null
give 1 9; give 3 9
wait_serves 1 9; wait_serves 3 9
sleep 0.5
log_d=$(wc -l <r2.log)
hapcmd "set server prep_replicas/r1 state maint" >/dev/null
sleep 1
[ "$(status_of r2)" = no-check ] || fail "r2 not in rotation with its checks paused: $(stat)"
give 2 9
wait_serves 2 9
hapcmd "enable health prep_replicas/r2" >/dev/null
hapcmd "set server prep_replicas/r1 state ready" >/dev/null
wait_status r1 UP 3 >/dev/null || fail "r1 not UP again: $(stat)"
sleep 1.2 # r2's last log lines written
refused_d=$(awk -v a="$log_d" 'NR > a && !/health\/cut/ && !/"curl\// && /" 503 /' r2.log | wc -l)
touch stop
wait "$CPID" && crc=0 || crc=$?
stat >stat.txt
for r in 1 2 3; do kill -0 "${PIDS[$((r - 1))]}" 2>/dev/null || fail "replica r$r died"; done
# The replicas stop cleanly (exit 0; under ASan/UBSan: no report).
for r in 1 2 3; do
  kill "${PIDS[$((r - 1))]}"
  wait "${PIDS[$((r - 1))]}" || fail "replica r$r exit status $?"
  ! grep -q "Sanitizer\|runtime error" "r$r.err" || fail "r$r: $(grep -m3 "Sanitizer\|runtime error" "r$r.err")"
done
after_up=$(awk -v n="$log_lag" 'NR > n && !/health\/cut/ && !/curl\// && / 200 /' r2.log | wc -l)
[ "$after_up" -gt 0 ] || fail "r2 answered no page after rejoining"
refused=$(cat r1.log r2.log r3.log | grep -v health/cut | grep -v '"curl/' | grep -c '" 503 ' || true)
checks_failed=$(cat r1.log r2.log r3.log | grep -c '"GET /health/cut?prep_visto=[0-9]* HTTP/1.0" 503 ' || true)
cat result.json
cat stat.txt
[ -s client.err ] && { echo "client stderr:"; head -20 client.err; }

python3 - "$crc" "$down_after" "$up_after" "$refused" "$checks_failed" "$t0" "$refused_d" <<'EOF' || exit 1
import json, sys, time
crc, down_after, up_after, refused, checks_failed, t0, refused_d = sys.argv[1:]
r = json.load(open("result.json"))
stat = {l.split()[0]: l.split() for l in open("stat.txt") if l.strip()}
errs = []
if r["failed"]: errs.append("%d failed requests" % r["failed"])
if r["mismatches"]: errs.append("%d bodies differ from their cut's manifest" % r["mismatches"])
if r["backwards"]: errs.append("%d responses older than one the same reader already got" % r["backwards"])
if int(crc) and not errs: errs.append("client exit %s" % crc)
if min(r["per_client"]) < 200: errs.append("a reader made only %d requests" % min(r["per_client"]))
if min(r["max_seen"]) != 9: errs.append("readers' last cuts %s, expected 9" % r["max_seen"])
if len(r["cuts"]) < 8: errs.append("responses from cuts %s only" % sorted(r["cuts"]))
for p in r["problems"]: print("  " + p)
retries = sum(int(v[3]) for v in stat.values())
redisp = sum(int(v[4]) for v in stat.values())
# D: r1's readers moved while r2 lagged: r2 refused some and haproxy retried them.
if int(refused_d) == 0: errs.append("r2 refused no request while r1 was out and r2 lagged (phase D)")
if retries == 0 or redisp == 0: errs.append("haproxy retried %d, redispatched %d requests" % (retries, redisp))
print("haproxy_replicas: %d requests by 12 readers over %d cuts, 0 failed, 0 mismatches, 0 backwards: %s; "
      "r2 lagging: DOWN after %.2f s, 0 requests while DOWN, UP %.2f s after catching up; "
      "%d requests refused by a replica behind the reader (%d by r2 while r1 was out), retried elsewhere "
      "(haproxy retries %d, redispatches %d); %d failed health checks; %.0f s in all"
      % (r["requests"], len(r["cuts"]), not errs, float(down_after), float(up_after), int(refused),
         int(refused_d), retries, redisp, int(checks_failed), time.time() - float(t0)))
if errs:
    print("FAIL: " + "; ".join(errs)); sys.exit(1)
EOF
echo "haproxy_replicas: ok"
