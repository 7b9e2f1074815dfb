#!/usr/bin/env bash
# bench_serve_paired: `prep serve`'s CPU per request with the national cut against the
# Querétaro cut, both servers up at once (issue 15, "Performance"; docs/benchmarks.md,
# "`prep serve` with the national cut"). bench_serve_national.sh measures one server after
# the other, minutes apart; on a shared machine the two halves see different neighbours
# (the same binary gave +27 % then -3 %). Here both `prep serve --threads 1` run pinned to
# CPU 0 and h2load (TLS, HTTP/2, 10 clients, -m 10, accept-encoding: gzip, 2,000 random
# page paths of each cut) on CPU 1 sends alternating bursts of N requests, Querétaro then
# national, ROUNDS times; the server threads' CPU (schedstat, without the idle-priority br
# warmer, as bench_serve_national.sh) is summed per server. Prints each round, the bytes
# h2load received per server, and the ratio against the limit (+-10 %).
# Usage: bench/bench_serve_paired.sh PATH/TO/prep CUTS [ROUNDS] [N]
#   CUTS: the BENCH_CUTS directory of bench_serve_national.sh (store-qro, store-nat with
#   active-1); ROUNDS default 8, N default 5000. Scratch in BENCH_DIR (default /tmp).
set -euo pipefail
PREP=$(readlink -f "$1"); C=$(readlink -f "$2"); R=${3:-8}; N=${4:-5000}
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (servers on 0, h2load on 1)"; exit 1; }
for t in h2load taskset curl python3 bc; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done
for s in qro nat; do [ -f "$C/store-$s/active-1" ] || { echo "no $C/store-$s/active-1: run bench_serve_national.sh with BENCH_CUTS=$C"; exit 1; }; done
. "$(dirname "$0")/../tests/integ/lib/peers.sh"
T=$(mktemp -d "${BENCH_DIR:-/tmp}/bench_serve_paired.XXXXXX")
peer_cleanup_on_exit "$T"
cd "$T"
peer_cert cert.pem key.pem
srv_us() {
  local t sum=0 pol nice ns
  for t in /proc/"$1"/task/*; do
    read -r pol nice < <(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $39, $17}') || continue
    [ "$pol" = 5 ] || [ "$nice" = 19 ] && continue
    read -r ns _ <"$t/schedstat" 2>/dev/null || continue
    sum=$((sum + ns / 1000))
  done
  echo $sum
}
declare -A PID PORT
for s in qro nat; do
  cp "$C/store-$s/active-1" "$C/store-$s/active"
  taskset -c 0 "$PREP" serve --store "$C/store-$s" --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 1 >out-$s 2>&1 &
  PID[$s]=$!; peer_track ${PID[$s]}
  for _ in $(seq 6000); do grep -q 'listening on https' out-$s 2>/dev/null && break; sleep 0.05; done
  PORT[$s]=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' out-$s | sed -n 1p)
  until curl -sk -o /dev/null "https://127.0.0.1:${PORT[$s]}/corte.json"; do sleep 0.05; done
  grep -E '^[0-9a-f]{64}  (.*/)?index\.html$' "$C/store-$s/cuts/1/manifest" | sed 's/^[0-9a-f]*  //; s/index\.html$//' |
    python3 -c 'import random,sys; p=[l.rstrip("\n") for l in sys.stdin]; r=random.Random(7); [print("/"+r.choice(p)) for _ in range(2000)]' |
    sed "s|^|https://127.0.0.1:${PORT[$s]}|" >uris-$s.txt
  taskset -c 1 h2load -n 4000 -c 10 -m 10 -t 1 -H 'accept-encoding: gzip' -i uris-$s.txt >/dev/null 2>&1 || true
done
sleep 2
declare -A TOT REQ
TOT[qro]=0; TOT[nat]=0; REQ[qro]=0; REQ[nat]=0
for r in $(seq "$R"); do
  line="round $r load $(cut -d' ' -f1 /proc/loadavg):"
  for s in qro nat; do
    d0=$(srv_us ${PID[$s]})
    taskset -c 1 h2load -n "$N" -c 10 -m 10 -t 1 -H 'accept-encoding: gzip' -i uris-$s.txt >h2-$s.txt 2>&1 || true
    d1=$(srv_us ${PID[$s]})
    q=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' h2-$s.txt)
    TOT[$s]=$((TOT[$s] + d1 - d0)); REQ[$s]=$((REQ[$s] + q))
    line="$line $s $(echo "scale=2; ($d1 - $d0) / $q" | bc) us"
  done
  echo "$line"
done
for s in qro nat; do echo "$s, last round: $(grep '^traffic' h2-$s.txt)"; done
cq=$(echo "scale=3; ${TOT[qro]} / ${REQ[qro]}" | bc); cn=$(echo "scale=3; ${TOT[nat]} / ${REQ[nat]}" | bc)
d=$(echo "scale=1; ($cn - $cq) * 100 / $cq" | bc)
echo "CPU per request (h2, TLS, gzip), server: Querétaro $cq us, national $cn us: $d % (within +-10%: $([ "$(echo "$d <= 10 && $d >= -10" | bc)" = 1 ] && echo met || echo MISSED))"
for s in qro nat; do echo "$s RSS $(sed -n 's/^VmRSS:[[:space:]]*//p' /proc/${PID[$s]}/status)"; kill ${PID[$s]}; done
wait 2>/dev/null || true
