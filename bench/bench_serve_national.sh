#!/usr/bin/env bash
# bench_serve_national: `prep serve` with a national cut loaded, beside the Querétaro cut in
# the same run (issue 15, "Performance"; docs/benchmarks.md):
#   - RSS with the cut loaded (VmRSS once it serves; target <= 3 GB for the national cut)
#     and the load time (start to first answer);
#   - switch time: a second cut (5 minutes later, made beforehand) is activated in the
#     serving store; the time from its activation until the server answers with it
#     (x-prep-corte), and VmHWM (two versions alive during the switch);
#   - CPU microseconds per request: h2load over TLS (HTTP/2, 10 clients, -m 10) on 2,000
#     random page paths of each cut, the server pinned to CPU 0 and h2load to CPU 1; server
#     CPU = the CPU time (schedstat) before and after of the threads but the idle-priority br
#     warmer (srv_us; the whole process's utime+stime is printed too), divided by the
#     requests; the national
#     figure against the Querétaro one (target: within +-10%); then the same paths without
#     accept-encoding (identity, inflated from the parts per answer), for the record.
# Usage: bench/bench_serve_national.sh PATH/TO/prep [SCALE] [REQUESTS]
#   SCALE national (default) or national-small (a quick check); REQUESTS per run (50000).
#   The national cut takes minutes to make and several GB of scratch (in WORKDIR, default
#   /tmp; set BENCH_DIR to another disk; BENCH_CUTS=DIR keeps them for the next run). Use an
#   optimised build (RelWithDebInfo).
set -euo pipefail
PREP=$(readlink -f "$1")
SCALE=${2:-national}
N=${3:-50000}
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (server on 0, h2load on 1)"; exit 1; }
for t in h2load taskset curl python3; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done
. "$(dirname "$0")/../tests/integ/lib/peers.sh"
T=$(mktemp -d "${BENCH_DIR:-/tmp}/bench_serve_national.XXXXXX")
peer_cleanup_on_exit "$T"
cd "$T"
C=${BENCH_CUTS:-$T}
mkdir -p "$C"
C=$(readlink -f "$C")
HZ=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# The server's CPU in microseconds, without the br warmer: threads at SCHED_IDLE (policy 5)
# or nice 19 left out. The warmer fills whatever CPU 0 leaves idle (national: brotli of
# 145,000 pages, minutes of it), so the whole process's CPU per request measures the
# machine's idle time as much as the server. From schedstat (nanoseconds: 20,000 requests
# of 8 us are 17 ticks of 10 ms, too coarse for +-10 %). Threads that exit between two
# readings are lost (none of the server's do).
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
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
now() { date +%s.%N; }
peer_cert cert.pem key.pem
"$PREP" keygen --out drill --drill >/dev/null

# make_cut NAME SCALE AT: a catalogue, a night, cut 1 at AT and cut 2 five minutes later
# in C/store-NAME, made before any server runs (the national prep cut peaks near 4 GB:
# beside a serving prep serve on a shared machine it was OOM-killed). The store is left
# with cut 1 active; active-2 is cut 2's pointer, installed by the switch (temp, rename:
# what prep receive's activation does). With BENCH_CUTS=DIR the stores are kept in DIR
# and reused by the next run.
make_cut() {
  local name=$1 scale=$2 at=$3 t0
  t0=$(now)
  if [ ! -f "$C/store-$name/active-2" ]; then
    rm -rf "$C/store-$name"
    "$PREP" sim catalog --scale "$scale" --seed 2021 --out "$C/$name.cat" >/dev/null
    "$PREP" sim actas --catalog "$C/$name.cat" --out "$C/actas-$name" --seed 2021 >/dev/null 2>&1
    /usr/bin/time -f "%e %U %S %M" -o "$C/cut-$name.time" "$PREP" cut --catalog "$C/$name.cat" --actas "$C/actas-$name" \
      --at "$at" --key drill.key --pubkey drill.pub --store "$C/store-$name" --drill >/dev/null 2>&1
    cp "$C/store-$name/active" "$C/store-$name/active-1"
    "$PREP" cut --catalog "$C/$name.cat" --actas "$C/actas-$name" --at "${at%:*}:05" --key drill.key --pubkey drill.pub \
      --store "$C/store-$name" --drill >/dev/null 2>&1
    cp "$C/store-$name/active" "$C/store-$name/active-2"
  fi
  cp "$C/store-$name/active-1" "$C/store-$name/active"
  read -r w u s m <"$C/cut-$name.time"
  printf "   %-10s cut 1: %s files, %s bytes; prep cut %.1f s wall, %.1f CPU s, %d MB peak (all of it %.0f s)\n" \
    "$name" "$(sed -n 's/^# files: //p' "$C/store-$name/cuts/1/manifest")" "$(sed -n 's/^# bytes: //p' "$C/store-$name/cuts/1/manifest")" \
    "$w" "$(echo "$u + $s" | bc)" $((m / 1024)) "$(echo "$(now) - $t0" | bc)"
}
echo "== the cuts"
make_cut qro qro2021 "2021-06-06 23:00"
make_cut nat "$SCALE" "2021-06-06 23:00"

serve_one() {  # NAME: start, measure, switch, load; prints one table row
  local name=$1
  local out=serve-$name.out pid port t0 t1 rss ok c0 c1 d0 d1 reqs
  t0=$(now)
  taskset -c 0 "$PREP" serve --store "$C/store-$name" --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem \
    --tls-key key.pem --threads 1 >"$out" 2>&1 &
  pid=$!
  peer_track $pid
  for _ in $(seq 6000); do grep -q 'listening on https' "$out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$out" | sed -n 1p)
  [ -n "$port" ] || { echo "prep serve did not start: $(cat "$out")"; exit 1; }
  until curl -sk -o /dev/null "https://127.0.0.1:$port/corte.json"; do sleep 0.05; done
  t1=$(now)
  sleep 2 # let the idle-priority warmer settle before reading memory
  rss=$(status_kb $pid VmRSS)
  # 2,000 random page paths of this cut
  grep -E '^[0-9a-f]{64}  (.*/)?index\.html$' "$C/store-$name/cuts/1/manifest" | sed 's/^[0-9a-f]*  //; s/index\.html$//' |
    python3 -c 'import random,sys; p=[l.rstrip("\n") for l in sys.stdin]; r=random.Random(7); [print("/"+r.choice(p)) for _ in range(2000)]' |
    sed "s|^|https://127.0.0.1:$port|" >"uris-$name.txt"
  taskset -c 1 h2load -n 4000 -c 10 -m 10 -t 1 -H 'accept-encoding: gzip' -i "uris-$name.txt" >/dev/null 2>&1 || true
  c0=$(cpu_ticks $pid) d0=$(srv_us $pid)
  taskset -c 1 h2load -n "$N" -c 10 -m 10 -t 1 -H 'accept-encoding: gzip' -i "uris-$name.txt" >"h2load-$name.txt" 2>&1 || true
  c1=$(cpu_ticks $pid) d1=$(srv_us $pid)
  reqs=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "h2load-$name.txt")
  # the same paths asked without accept-encoding (identity: a page held as parts is
  # inflated per answer, docs/internals/serve.md)
  local i0 i1 ireqs
  i0=$(srv_us $pid)
  taskset -c 1 h2load -n "$N" -c 10 -m 10 -t 1 -i "uris-$name.txt" >"h2load-id-$name.txt" 2>&1 || true
  i1=$(srv_us $pid)
  ireqs=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "h2load-id-$name.txt")
  # the switch: cut 2 activated in the serving store, then wait for its first answer
  local s0 s1 hwm
  cp "$C/store-$name/active-2" "$C/store-$name/active.new"
  s0=$(now)
  mv "$C/store-$name/active.new" "$C/store-$name/active"
  until grep -qi '^x-prep-corte: 2$' <(curl -sk -D - -o /dev/null "https://127.0.0.1:$port/corte.json" | tr -d '\r'); do sleep 0.02; done
  s1=$(now)
  hwm=$(status_kb $pid VmHWM)
  kill $pid; wait $pid 2>/dev/null || true
  printf "%s %.2f %d %d %.1f %s %.2f %.1f %s %.1f\n" "$name" "$(echo "$t1 - $t0" | bc)" $((rss / 1024)) $((hwm / 1024)) \
    "$(echo "($c1 - $c0) * 1000000 / $HZ / ${reqs:-1}" | bc -l)" "${reqs:-0}" "$(echo "$s1 - $s0" | bc)" \
    "$(echo "($i1 - $i0) / ${ireqs:-1}" | bc -l)" "${ireqs:-0}" \
    "$(echo "($d1 - $d0) / ${reqs:-1}" | bc -l)"
}
echo "== prep serve, one thread pinned to CPU 0; h2load -m 10 on CPU 1, $N requests"
serve_one qro >row-qro
serve_one nat >row-nat
read -r _ lq rq hq pq nq sq iq niq cq <row-qro
read -r _ ln rn hn pn nn sn in nin cn <row-nat
printf "\n%-34s %14s %14s %s\n" "" "Querétaro" "$SCALE" "limit"
printf "%-34s %14s %14s %s\n" "load time (start to first answer)" "${lq} s" "${ln} s" "-"
printf "%-34s %14s %14s %s\n" "RSS with the cut loaded" "$rq MB" "$rn MB" "<= 3072 MB: $([ "$rn" -le 3072 ] && echo met || echo MISSED)"
printf "%-34s %14s %14s %s\n" "peak RSS across the switch" "$hq MB" "$hn MB" "-"
printf "%-34s %14s %14s %s\n" "switch: cut 2 active -> served" "${sq} s" "${sn} s" "-"
d=$(echo "($cn - $cq) * 100 / $cq" | bc -l)
printf "%-34s %14s %14s\n" "CPU per request, whole process" "$pq us" "$pn us"
printf "%-34s %14s %14s %s\n" "CPU per request (h2, TLS), server" "$cq us" "$cn us" "within +-10%: $(printf %+.1f "$d")% $([ "$(echo "$d <= 10 && $d >= -10" | bc)" = 1 ] && echo met || echo MISSED)"
printf "%-34s %14s %14s\n" "requests completed" "$nq" "$nn"
printf "%-34s %14s %14s\n" "CPU per request, identity, server" "$iq us" "$in us"
printf "%-34s %14s %14s\n" "identity requests completed" "$niq" "$nin"
