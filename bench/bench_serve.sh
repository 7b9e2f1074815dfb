#!/usr/bin/env bash
# bench_serve: CPU microseconds per request of `prep serve` and of nginx serving the same
# exported Querétaro-scale cut, side by side in one run (issue 5; target prep <= 0.6 x nginx).
#
#   - the cut: `prep sim catalog --scale qro2021 --seed 2021`, `prep sim actas --seed 2021`,
#     one drill cut at 2021-06-06 23:00 (`prep cut`), exported with `prep export` (.gz/.br
#     twins, the files nginx serves);
#   - nginx 1.22 (Debian): 1 worker, sendfile on, tcp_nopush on, open_file_cache,
#     gzip_static on, access_log off, keepalive_requests 10^7, the same response header
#     policy as prep serve (add_header: cache-control, nosniff, referrer-policy, CSP, HSTS on
#     TLS), the same ECDSA P-256 certificate, TLS 1.2-1.3. Debian's nginx has no brotli
#     module, so both servers are asked for gzip only (accept-encoding: gzip): gzip vs gzip;
#   - `prep serve --threads 1` (no access log, like nginx here);
#   - each server pinned with taskset to CPU 0 in turn, h2load pinned to CPU 1, 10 clients,
#     URIs from a list of random page paths (h2load -i): HTTP/1.1 plain (--h1, -m 1),
#     HTTPS/1.1 (--h1 over TLS, -m 1), HTTP/2 over TLS (-m 10); one warm-up run, then the
#     measured run: server CPU = utime+stime from /proc/PID/stat (all threads; nginx: master
#     and worker) before and after, divided by the requests completed. prep serve's HTTPS
#     load starts the idle-priority br warmer (2-3 CPU s for the whole site, load-time work
#     that no request of this gzip-only bench uses): its measurement starts once the process
#     has been idle for a second. Every run prints the TLS protocol and cipher h2load got;
#   - the floor: bench_floor_server (built beside prep) answers every request with one fixed
#     response of prep's mean response size (from prep's plain run), one read and one write
#     per request, nothing parsed or looked up; HTTP/1.1 plain and over TLS (same cert,
#     OpenSSL settings as prep serve). It is what the kernel's TCP on loopback and OpenSSL's
#     record layer cost alone: no server on this machine can go below it, so when 0.6 x nginx
#     is under the floor the target cannot be met by any server here (docs/benchmarks.md);
#   - REPEAT rounds (default 3) of all eight runs; the table gives the median of each;
#   - prep serve's memory: VmRSS with the cut loaded, then a second cut (23:05) is made in
#     its store and VmHWM (peak) / VmRSS are read once it serves it (two versions alive
#     during the switch).
# Usage: bench/bench_serve.sh PATH/TO/prep [REQUESTS] [REPEAT]   (default 100000 per
#        measured run, 3 rounds; ~8 min on 2 cores; scratch in /dev/shm when it exists,
#        removed at exit). Use an optimised build (RelWithDebInfo).
set -euo pipefail
PREP=$(readlink -f "$1")
FLOOR=$(dirname "$PREP")/bench_floor_server
[ -x "$FLOOR" ] || { echo "missing $FLOOR (built with prep: ninja -C $(dirname "$PREP"))"; exit 1; }
N=${2:-100000}
REPEAT=${3:-3}
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (server on 0, h2load on 1)"; exit 1; }
for t in nginx h2load taskset openssl curl; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done
. "$(dirname "$0")/../tests/integ/lib/peers.sh"
BASE=/tmp; [ -d /dev/shm ] && [ -w /dev/shm ] && BASE=/dev/shm
T=$(mktemp -d "$BASE/bench_serve.XXXXXX")
chmod 755 "$T"                 # nginx's worker (nobody) reads the exported files
peer_cleanup_on_exit "$T"
cd "$T"
HZ=$(getconf CLK_TCK)
cpu_ticks() {  # PID...: utime+stime of those processes (all their threads)
  local s=0 p f
  for p in "$@"; do
    f=$(sed 's/^.*) //' "/proc/$p/stat")
    s=$((s + $(echo "$f" | awk '{print $12 + $13}')))
  done
  echo $s
}
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

echo "== building the Querétaro-scale cut (sim, cut, export)"
t0=$(date +%s)
"$PREP" sim catalog --scale qro2021 --seed 2021 --out qro.cat >/dev/null
"$PREP" sim actas --catalog qro.cat --out actas --seed 2021 >/dev/null 2>&1
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog qro.cat --actas actas --at "2021-06-06 23:00" --key drill.key --pubkey drill.pub \
  --store store --drill 2>/dev/null
"$PREP" export --store store --out site --no-archive >/dev/null 2>&1
chmod -R a+rX site
FILES=$(sed -n 's/^# files: //p' store/cuts/1/manifest)
BYTES=$(sed -n 's/^# bytes: //p' store/cuts/1/manifest)
echo "   cut 1: $FILES files, $BYTES identity bytes; built in $(( $(date +%s) - t0 )) s"
peer_cert cert.pem key.pem

# 2,000 random page paths (directory form: /dir/), the same list for every run.
grep -E '^[0-9a-f]{64}  (.*/)?index\.html$' store/cuts/1/manifest | sed 's/^[0-9a-f]*  //; s/index\.html$//' \
  | python3 -c 'import random,sys; p=[l.rstrip("\n") for l in sys.stdin]; r=random.Random(7); [print("/"+r.choice(p)) for _ in range(2000)]' >paths.txt

CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
read -r NP NS < <(peer_free_ports 2)
mkdir -p ngx
cat >ngx/nginx.conf <<EOF
worker_processes 1;
error_log $T/ngx/error.log;
pid $T/ngx/nginx.pid;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $T/ngx/b; proxy_temp_path $T/ngx/p; fastcgi_temp_path $T/ngx/f;
  uwsgi_temp_path $T/ngx/u; scgi_temp_path $T/ngx/s;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 10000000; keepalive_timeout 60s;
  open_file_cache max=20000 inactive=120s; open_file_cache_valid 120s; open_file_cache_errors on;
  gzip_static on; gzip_vary on;
  etag on; server_tokens off;
  ssl_protocols TLSv1.2 TLSv1.3; ssl_prefer_server_ciphers on;
  ssl_session_cache shared:S:10m; ssl_ecdh_curve X25519:prime256v1:secp384r1;
  ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem;
  add_header cache-control "public, max-age=60, stale-while-revalidate=240" always;
  add_header x-content-type-options nosniff always;
  add_header referrer-policy strict-origin-when-cross-origin always;
  add_header content-security-policy "$CSP" always;
  server {
    listen 127.0.0.1:$NP;
    root $T/site;
  }
  server {
    listen 127.0.0.1:$NS ssl http2;
    root $T/site;
    add_header strict-transport-security "max-age=31536000" always;
    add_header cache-control "public, max-age=60, stale-while-revalidate=240" always;
    add_header x-content-type-options nosniff always;
    add_header referrer-policy strict-origin-when-cross-origin always;
    add_header content-security-policy "$CSP" always;
  }
}
EOF
nginx -t -p "$T/ngx" -c "$T/ngx/nginx.conf" 2>/dev/null || { nginx -t -p "$T/ngx" -c "$T/ngx/nginx.conf"; exit 1; }

wait_port() { local i; for i in $(seq 300); do curl -sk -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer at $1"; return 1; }
listening() {  # FILE SCHEME: the port prep serve printed
  local i p
  for i in $(seq 600); do
    p=$(sed -n "s|.*listening on $2://127.0.0.1:\([0-9]*\)/.*|\1|p" "$1" | sed -n 1p)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "prep serve did not start: $(cat "$1")" >&2; exit 1
}

# run NAME URLBASE H2LOAD-ARGS... ; uses SRV_PIDS. Prints "us_per_req req_per_s ok".
run() {
  local name=$1 base=$2; shift 2
  sed "s|^|$base|" paths.txt >uris.txt
  taskset -c 1 h2load -n 4000 -c 10 -t 1 "$@" -H 'accept-encoding: gzip' -i uris.txt >/dev/null 2>&1 || true
  local c0 c1
  c0=$(cpu_ticks "${SRV_PIDS[@]}")
  taskset -c 1 h2load -n "$N" -c 10 -t 1 "$@" -H 'accept-encoding: gzip' -i uris.txt >"h2load-$name.txt" 2>&1 || true
  c1=$(cpu_ticks "${SRV_PIDS[@]}")
  local ok rps
  ok=$(sed -n 's/^requests: .* \([0-9]*\) succeeded, .*/\1/p' "h2load-$name.txt")
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "h2load-$name.txt")
  local failed; failed=$(sed -n 's/^requests: .* \([0-9]*\) failed, .*/\1/p' "h2load-$name.txt")
  [ "${ok:-0}" -gt 0 ] || { echo "h2load $name: no request succeeded" >&2; tail -5 "h2load-$name.txt" >&2; exit 1; }
  [ "${failed:-1}" = 0 ] || echo "   warning: $name: $failed failed requests" >&2
  local tls; tls=$(sed -n 's/^TLS Protocol: //p; s/^Cipher: //p' "h2load-$name.txt" | tr '\n' ' ')
  local r; r=$(python3 -c "import sys; print('%.2f %.0f %s' % (($c1-$c0)/$HZ/$ok*1e6, float('$rps'), '$ok'))")
  echo "   $name: $r (us/req req/s ok) $tls" >&2
  echo "$r"
}
wait_idle() {  # PID: until its CPU time stays the same for a second (at most 60 s)
  local prev=-1 t i
  for i in $(seq 60); do
    t=$(cpu_ticks "$1"); [ "$t" = "$prev" ] && return 0; prev=$t; sleep 1
  done
}
declare -A R
for k in ng_h1 ng_tls ng_h2 pr_h1 pr_tls pr_h2 fl_h1 fl_tls; do R[$k]=""; done

for round in $(seq "$REPEAT"); do
  echo "== round $round/$REPEAT: nginx $(nginx -v 2>&1 | sed 's/.*\///') (1 worker, CPU 0)"
  taskset -c 0 nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" -g 'daemon off;' &
  NGPID=$!; peer_track "$NGPID"
  wait_port "http://127.0.0.1:$NP/" || { cat "$T/ngx/error.log"; exit 1; }
  sleep 0.3
  NGW=$(cat /proc/$NGPID/task/$NGPID/children)
  SRV_PIDS=("$NGPID" $NGW)
  R[ng_h1]+="$(run ng_h1 "http://127.0.0.1:$NP" --h1 -m 1);"
  R[ng_tls]+="$(run ng_tls "https://127.0.0.1:$NS" --h1 -m 1);"
  R[ng_h2]+="$(run ng_h2 "https://127.0.0.1:$NS" -m 10);"
  NGRSS=$(for p in "$NGPID" $NGW; do status_kb "$p" VmRSS; done | awk "{s+=\$1} END {print s}")
  peer_stop "$NGPID" || true

  echo "== round $round/$REPEAT: prep serve --threads 1 (CPU 0), plain"
  taskset -c 0 "$PREP" serve --store store --listen 127.0.0.1:0 --threads 1 >p1.out 2>p1.err &
  PP=$!; peer_track "$PP"
  PPORT=$(listening p1.out http)
  SRV_PIDS=("$PP")
  R[pr_h1]+="$(run pr_h1 "http://127.0.0.1:$PPORT" --h1 -m 1);"
  peer_stop "$PP" || true

  # The floor (before prep's TLS server, which stays up after the last round).
  # prep's mean response size on this path list: the bytes h2load received / requests.
  TB=$(sed -n 's/^traffic: .*(\([0-9]*\)) total.*/\1/p' h2load-pr_h1.txt)
  OKN=$(sed -n 's/^requests: .* \([0-9]*\) succeeded, .*/\1/p' h2load-pr_h1.txt)
  [ -n "$TB" ] && [ "${OKN:-0}" -gt 0 ] || { echo "no traffic figure in h2load-pr_h1.txt:"; tail -5 h2load-pr_h1.txt; exit 1; }
  SIZE=$(( (TB + OKN / 2) / OKN ))
  read -r FP FS < <(peer_free_ports 2)
  echo "== round $round/$REPEAT: floor ($SIZE-byte responses, CPU 0), plain and TLS"
  taskset -c 0 "$FLOOR" --listen "$FP" --size "$SIZE" >f1.out 2>&1 &
  FL=$!; peer_track "$FL"
  wait_port "http://127.0.0.1:$FP/" || { cat f1.out; exit 1; }
  SRV_PIDS=("$FL")
  R[fl_h1]+="$(run fl_h1 "http://127.0.0.1:$FP" --h1 -m 1);"
  peer_stop "$FL" || true
  taskset -c 0 "$FLOOR" --listen "$FS" --size "$SIZE" --tls-cert cert.pem --tls-key key.pem >f2.out 2>&1 &
  FL=$!; peer_track "$FL"
  wait_port "https://127.0.0.1:$FS/" || { cat f2.out; exit 1; }
  SRV_PIDS=("$FL")
  R[fl_tls]+="$(run fl_tls "https://127.0.0.1:$FS" --h1 -m 1);"
  peer_stop "$FL" || true

  echo "== round $round/$REPEAT: prep serve --threads 1 (CPU 0), TLS"
  taskset -c 0 "$PREP" serve --store store --tls-listen 127.0.0.1:0 --listen 127.0.0.1:0 --tls-cert cert.pem \
    --tls-key key.pem --threads 1 --poll-ms 100 >p2.out 2>p2.err &
  PS=$!; peer_track "$PS"
  SPORT=$(listening p2.out https)
  RSS_LOADED=$(status_kb "$PS" VmRSS)
  wait_idle "$PS"
  RSS_WARM=$(status_kb "$PS" VmRSS)
  SRV_PIDS=("$PS")
  R[pr_tls]+="$(run pr_tls "https://127.0.0.1:$SPORT" --h1 -m 1);"
  R[pr_h2]+="$(run pr_h2 "https://127.0.0.1:$SPORT" -m 10);"
  RSS_SERVED=$(status_kb "$PS" VmRSS)
  if [ "$round" != "$REPEAT" ]; then peer_stop "$PS" || true; fi

done
# A second cut while serving (last round's server): peak memory with two versions.
"$PREP" cut --catalog qro.cat --actas actas --at "2021-06-06 23:05" --key drill.key --pubkey drill.pub \
  --store store --drill 2>/dev/null
for _ in $(seq 600); do
  [ "$(curl -sk "https://127.0.0.1:$SPORT/health")" = "ok corte 2" ] && break
  sleep 0.1
done
[ "$(curl -sk "https://127.0.0.1:$SPORT/health")" = "ok corte 2" ] || { echo "cut 2 not served"; exit 1; }
sleep 0.5
HWM=$(status_kb "$PS" VmHWM)
RSS_AFTER=$(status_kb "$PS" VmRSS)
peer_stop "$PS" || true

echo
echo "CPU per request, server alone on CPU 0, h2load on CPU 1, $N requests, 10 clients, random pages, gzip;"
echo "median of $REPEAT rounds (every round's figure in brackets):"
printf '%-24s | %8s | %8s | %8s | %6s | %10s | %s\n' protocol "prep" "nginx" "floor" ratio "target 0.6" "above floor: prep / nginx"
python3 - "${R[pr_h1]}" "${R[ng_h1]}" "${R[fl_h1]}" "${R[pr_tls]}" "${R[ng_tls]}" "${R[fl_tls]}" "${R[pr_h2]}" "${R[ng_h2]}" <<'EOF'
import statistics, sys
def col(s, i):
    return [float(r.split()[i]) for r in s.split(";") if r.strip()]
a = sys.argv[1:]
rows = [("HTTP/1.1 plain", a[0], a[1], a[2]), ("HTTPS/1.1 (TLS 1.3)", a[3], a[4], a[5]),
        ("HTTP/2 (TLS 1.3, -m 10)", a[6], a[7], "")]
unreachable = []
for name, p, n, f in rows:
    pu, nu = statistics.median(col(p, 0)), statistics.median(col(n, 0))
    ratio = pu / nu
    verdict = "met" if ratio <= 0.6 else "MISSED"
    fs, above = "-", "-"
    if f:
        fu = statistics.median(col(f, 0))
        fs = "%.2f" % fu
        if nu > fu:
            above = "%.2f / %.2f = %.2f" % (pu - fu, nu - fu, (pu - fu) / (nu - fu))
        if 0.6 * nu < fu:
            unreachable.append("%s: 0.6 x nginx = %.2f us, floor %.2f us" % (name, 0.6 * nu, fu))
    print("%-24s | %8.2f | %8.2f | %8s | %6.2f | %10s | %s" % (name, pu, nu, fs, ratio, verdict, above))
    print("%-24s   rounds: prep [%s] nginx [%s]%s" % ("", " ".join("%.2f" % x for x in col(p, 0)),
          " ".join("%.2f" % x for x in col(n, 0)),
          (" floor [%s]" % " ".join("%.2f" % x for x in col(f, 0))) if f else ""))
print("(CPU microseconds per request; floor = bench_floor_server, HTTP/1.1 only)")
for u in unreachable:
    print("target below the floor: %s -- no server on this kernel and OpenSSL can meet it" % u)
print()
for name, p, n, f in rows:
    print("%-28s   req/s (median): prep %8.0f   nginx %8.0f" % (name, statistics.median(col(p, 1)), statistics.median(col(n, 1))))
EOF
echo
echo "cut: $FILES files, $BYTES identity bytes ($((BYTES / 1048576)) MiB)"
echo "prep serve memory: VmRSS $((RSS_LOADED / 1024)) MiB with the cut loaded, $((RSS_WARM / 1024)) MiB once the br warmer is done,"
echo "   $((RSS_SERVED / 1024)) MiB after serving;"
echo "   across the switch to cut 2: VmHWM (peak) $((HWM / 1024)) MiB, VmRSS after $((RSS_AFTER / 1024)) MiB"
echo "nginx memory (master + worker VmRSS after the runs): $((NGRSS / 1024)) MiB (files in the page cache, not counted)"
