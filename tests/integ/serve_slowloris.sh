#!/usr/bin/env bash
# Issue 13, the global connection cap: silent and trickling connections must not lock
# readers out. Loopback only, bounded (about 30 s on 2 cores, 40 s under ASan).
#
# 1. Slowloris on each port: tests/integ/slowloris.py holds N connections (default
#    10,000, the issue's figure, = --max-conns) from 200 source addresses
#    (127.0.0.2..201, 50 each, under --max-conns-per-ip 64), every 10th trickling a
#    request head a byte every 2 s, reconnecting whatever the server closes; meanwhile
#    curl makes 100 requests, a new connection each (plain HTTP, then HTTPS with its
#    handshake): all answered, p99 < 100 ms (best of up to three rounds of 100, in case
#    a test beside this one delayed a few requests; no failure allowed in any round).
#    Before the fix nearly all of them were closed at once while the cap was full
#    (100/100 plain, 97/100 HTTPS).
# 2. Shedding order and refusal (--max-conns 3, one worker): the oldest connection
#    without a complete request goes first, an idle reader only when none is left, a
#    served one never; with nothing to shed a plain client reads a 503 with retry-after
#    and a TLS client a reset; /metrics counts both.
# 3. IPv6 per /64, in a private network namespace (unshare -n, skipped without it):
#    addresses of one /64 share --max-conns-per-ip, another /64 does not.
# 4. Out of descriptors (ulimit -n 64): EMFILE sheds the oldest waiting connection
#    instead of leaving the listener readable for the loop to spin on.
# 5. Across workers (--threads 2): a worker with no waiting connection of its own asks
#    the other to shed one rather than refusing.
#
# N can be lowered with SLOWLORIS_CONNS; it is lowered to what the descriptor limit
# allows (the client and the server each need N descriptors), and printed.
# SLOWLORIS_PHASES (default "1 2 3 4 5") runs only some parts.
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -5 err.txt; exit 1; }
PY=/usr/bin/python3

N=${SLOWLORIS_CONNS:-10000}
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
if [ "$N" -gt $((hard - 300)) ]; then
  echo "note: descriptor limit $hard: $((hard - 300)) slowloris connections instead of $N"
  N=$((hard - 300))
fi
ulimit -n "$hard"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem \
  -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
mkdir store

start_serve() { # OUT ERR ARGS...: sets SPID, PLAIN, TLS
  local out=$1 err=$2
  shift 2
  "$PREP" serve --store store --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem \
    --tls-key key.pem --poll-ms 100 "$@" >"$out" 2>"$err" &
  SPID=$!
  peer_track "$SPID"
  for _ in $(seq 100); do grep -q "listening on http://" "$out" 2>/dev/null && break; sleep 0.1; done
  TLS=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/.*|\1|p' "$out" | sed -n 1p)
  PLAIN=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$out" | sed -n 1p)
  [ -n "$TLS" ] && [ -n "$PLAIN" ] || fail "no listening lines: $(cat "$out")"
}

PHASES=" ${SLOWLORIS_PHASES:-1 2 3 4 5} "
# ---------------------------------------------------------------- 1. slowloris
if [[ $PHASES == *" 1 "* ]]; then
start_serve out.txt err.txt --threads 2 --max-conns "$N" --max-conns-per-ip 64 --header-timeout 10
curl -sS --max-time 5 "http://127.0.0.1:$PLAIN/health" >/dev/null || fail "no answer before the attack"

attack() { # NAME PORT URL CURL_ARGS...
  local name=$1 port=$2 url=$3
  shift 3
  rm -f "ready.$name"
  $PY "$HERE/slowloris.py" 127.0.0.1 "$port" "$N" 200 120 "ready.$name" 10 2000 >"loris.$name" 2>"loris.$name.log" &
  local lpid=$!
  for _ in $(seq 400); do [ -f "ready.$name" ] && break; sleep 0.1; done
  [ -f "ready.$name" ] || fail "$name: the attack did not start: $(tail -2 "loris.$name.log")"
  local held
  held=$(awk '{print $2}' "ready.$name")
  [ "$held" -ge $((N * 95 / 100)) ] || fail "$name: only $held of $N attack connections open"
  sleep 1
  # Up to three rounds of 100 requests while the attack holds, judged by the best p99: a
  # server the attack starves is slow in every round, while a test running beside this one
  # on a 2-core machine (ctest -j2) only delays a few requests of one round (CI at bbe81e7:
  # p99 118 ms with p50 10 ms, 0 failures). A failed request is never retried.
  local round best=9 lpid_alive
  for round in 1 2 3; do
    : >"lat.$name"
    local bad=0
    for _ in $(seq 100); do
      local t
      if t=$(curl -sS "$@" --max-time 5 -o /dev/null -w '%{time_total}' "$url" 2>>"curl.$name"); then
        echo "$t" >>"lat.$name"
      else
        echo 5 >>"lat.$name" # a failure counts as the longest wait
        bad=$((bad + 1))
      fi
      sleep 0.05
    done
    lpid_alive=yes; kill -0 "$lpid" 2>/dev/null || lpid_alive=no
    local p99 p50
    p99=$(sort -n "lat.$name" | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print a[i]}')
    p50=$(sort -n "lat.$name" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$name round $round: $held attack connections held from 200 addresses ($(tail -1 "loris.$name.log" | sed 's/^slowloris: //'), attack still running: $lpid_alive); normal client: $bad of 100 failed, p50 ${p50}s, p99 ${p99}s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$bad" -ne 0 ]; then
      kill "$lpid" 2>/dev/null || true
      wait "$lpid" 2>/dev/null || true
      echo "FAIL: $name: $bad of 100 normal requests failed during the attack:"
      cut -c1-60 "curl.$name" | sort | uniq -c
      return 1
    fi
    [ "$lpid_alive" = yes ] || { echo "FAIL: $name: the attack ended before round $round did"; return 1; }
    best=$(awk -v a="$best" -v b="$p99" 'BEGIN {print (b < a) ? b : a}')
    awk -v p="$best" 'BEGIN {exit !(p < 0.1)}' && break
  done
  kill "$lpid" 2>/dev/null || true
  wait "$lpid" 2>/dev/null || true
  awk -v p="$best" 'BEGIN {exit !(p < 0.1)}' || { echo "FAIL: $name: p99 ${best}s >= 100 ms during the attack, in the best of three rounds"; return 1; }
}
bad_phase=0
attack plain "$PLAIN" "http://127.0.0.1:$PLAIN/health" || bad_phase=1
attack tls "$TLS" "https://127.0.0.1:$TLS/health" --cacert cert.pem || bad_phase=1
[ "$bad_phase" = 0 ] || fail "the normal client was not served during the attack (above)"
kill -0 "$SPID" || fail "prep serve died"
M=$(curl -sS --max-time 5 "http://127.0.0.1:$PLAIN/metrics")
shed=$(echo "$M" | sed -n 's/^prep_serve_connections_shed_total \([0-9]*\)$/\1/p')
[ "${shed:-0}" -gt 0 ] || fail "nothing shed at the cap"
echo "shed at the cap: $shed connections"
kill "$SPID"
wait "$SPID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 2. order and refusal
if [[ $PHASES == *" 2 "* ]]; then
start_serve out2.txt err2.txt --threads 1 --max-conns 3 --max-conns-per-ip 64 --header-timeout 20
$PY - "$PLAIN" "$TLS" <<'EOF' || fail "shedding order / refusal (above)"
import socket, ssl, sys, time
plain, tls = int(sys.argv[1]), int(sys.argv[2])

def conn(port=plain, rcvbuf=0):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.settimeout(3)
    time.sleep(0.15)  # accepted, in this order
    return s

def is_closed(s):
    s.settimeout(0.5)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionError:
        return True

def ask(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(3)
    d = b""
    while b"ok corte" not in d:
        x = s.recv(4096)
        if not x:
            return False
        d += x
    return d.startswith(b"HTTP/1.1 200")

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

a, b = conn(), conn()            # silent: tier 0
c = conn()
check(ask(c), "c answered")      # an established reader, idle: tier 1
d = conn()                       # at the cap: the oldest silent one (a) goes
check(is_closed(a), "the oldest silent connection (a) shed for d")
check(not is_closed(b), "b kept (not the oldest)")
e = conn()                       # b goes
check(is_closed(b), "b shed for e")
f = conn()                       # c is now the oldest waiting, but a reader: d goes
check(is_closed(d), "the silent d shed for f before the idle reader c")
check(ask(c), "the idle reader c kept and answered")
check(ask(e) and ask(f), "e and f answered")  # no silent connection left: all readers
g = conn()                       # the oldest idle reader (c) goes
check(is_closed(c), "with no silent connection left, the oldest idle reader (c) shed for g")
check(ask(e), "e kept")
for s in (e, f, g):
    s.close()
time.sleep(0.3)

# Three readers being served: each pipelines 4000 requests for /metrics (8 MB of
# answers, more than the kernel's largest send buffer, 4 MB) and does not read them (a
# small receive buffer), so answers wait in the server's queue: nothing to shed.
busy = []
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 4000
for _ in range(3):
    s = conn(rcvbuf=4096)
    s.setblocking(False)
    sent, t0 = 0, time.monotonic()
    while sent < len(req) and time.monotonic() - t0 < 2:
        try:
            sent += s.send(req[sent:])
        except BlockingIOError:
            time.sleep(0.02)
    s.setblocking(True)
    busy.append(s)
time.sleep(0.5)
r = conn()
r.settimeout(3)
data = b""
try:
    r.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    while True:
        x = r.recv(4096)
        if not x:
            break
        data += x
except ConnectionError as ex:
    check(False, "plain refusal reset instead of a 503: %r" % ex)
head = data.split(b"\r\n\r\n")[0].lower()
check(data.startswith(b"HTTP/1.1 503"), "over the cap, a plain client reads 503 (got %r)" % data[:60])
check(b"\r\nretry-after: 5" in head, "the 503 carries retry-after")
for s in busy:
    check(not is_closed(s), "a reader being served kept")
t = socket.create_connection(("127.0.0.1", tls))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t0 = time.monotonic()
try:
    ctx.wrap_socket(t, server_hostname="127.0.0.1").close()
    check(False, "a TLS handshake over the cap succeeded")
except (ConnectionError, ssl.SSLError, OSError):
    pass
check(time.monotonic() - t0 < 1, "the TLS refusal is immediate")
# readers still answered once they read
s = busy[0]
s.settimeout(3)
got = 0
while got < 100000:
    x = s.recv(65536)
    if not x:
        break
    got += len(x)
check(got >= 100000, "the busy reader gets its answers (%d bytes)" % got)
for s in busy:
    s.close()
print("order and refusal: oldest silent shed first, then oldest idle reader, served kept, plain 503 + retry-after, TLS reset")
EOF
M=$(curl -sS --max-time 5 "http://127.0.0.1:$PLAIN/metrics" || true)
# the metrics connection itself may be refused while the busy readers drain: retry
for _ in 1 2 3; do [ -n "$M" ] && break; sleep 1; M=$(curl -sS --max-time 5 "http://127.0.0.1:$PLAIN/metrics" || true); done
grep -q '^prep_serve_connections_refused_total{reason="cap"} [1-9]' <<<"$M" || fail "refusals not counted: $(echo "$M" | grep refused)"
grep -q '^prep_serve_connections_shed_total [1-9]' <<<"$M" || fail "sheds not counted"
kill "$SPID"
wait "$SPID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 4. out of descriptors
# `ulimit -n 64` under --max-conns 1000: 150 silent connections make accept fail with
# EMFILE. The oldest waiting connection is shed for each new one, so curl is answered,
# and the loop does not spin on the still-readable listener (server CPU over 2 s).
if [[ $PHASES == *" 4 "* ]]; then
  (ulimit -n 64 && exec "$PREP" serve --store store --listen 127.0.0.1:0 --threads 1 --max-conns 1000 \
    --poll-ms 100 >out4.txt 2>err4.txt) &
  SPID=$!
  peer_track "$SPID"
  for _ in $(seq 100); do grep -q "listening on http://" out4.txt 2>/dev/null && break; sleep 0.1; done
  P4=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' out4.txt | sed -n 1p)
  [ -n "$P4" ] || fail "no listening line: $(cat out4.txt err4.txt)"
  rm -f ready.fd
  $PY "$HERE/slowloris.py" 127.0.0.1 "$P4" 150 10 30 ready.fd 0 50 >loris.fd 2>loris.fd.log &
  LPID=$!
  for _ in $(seq 100); do [ -f ready.fd ] && break; sleep 0.1; done
  sleep 1
  cpu() { awk '{print $14 + $15}' "/proc/$SPID/stat"; }
  c0=$(cpu)
  sleep 2
  c1=$(cpu)
  ticks=$(getconf CLK_TCK)
  bad=0
  for _ in $(seq 20); do
    curl -sS --max-time 2 -o /dev/null "http://127.0.0.1:$P4/health" 2>>curl.fd || bad=$((bad + 1))
  done
  kill "$LPID" 2>/dev/null || true
  wait "$LPID" 2>/dev/null || true
  shed=$(curl -sS --max-time 2 "http://127.0.0.1:$P4/metrics" | sed -n 's/^prep_serve_connections_shed_total \([0-9]*\)$/\1/p')
  cpu_s=$(awk -v a="$c0" -v b="$c1" -v t="$ticks" 'BEGIN {printf "%.2f", (b - a) / t}')
  echo "out of descriptors (ulimit -n 64, 150 attack connections): $bad of 20 requests failed, server CPU ${cpu_s}s over 2 s, ${shed:-?} shed"
  [ "$bad" -eq 0 ] || fail "requests failed while out of descriptors"
  awk -v c="$cpu_s" 'BEGIN {exit !(c < 0.5)}' || fail "the server spun while out of descriptors (${cpu_s}s CPU in 2 s)"
  kill "$SPID"
  wait "$SPID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 5. across workers
# Two workers, --max-conns 12: 12 silent connections, then 12 clients that become busy
# readers (8 MB of pipelined answers unread). SO_REUSEPORT spreads both sets over the
# workers at random, so a worker often gets more readers than it holds silent
# connections: it asks the other worker to shed one of its own. Every reader must be
# admitted and every silent connection shed; 3 rounds (with worker-local shedding only,
# a round fails unless both sets split alike, ~84% of the time).
if [[ $PHASES == *" 5 "* ]]; then
  start_serve out5.txt err5.txt --threads 2 --max-conns 12 --max-conns-per-ip 64 --header-timeout 20
  $PY - "$PLAIN" <<'EOF' || fail "shedding across workers (above)"
import socket, sys, time
port = int(sys.argv[1])
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 4000
for rnd in range(3):
    silent = []
    for _ in range(12):
        silent.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.3)
    busy, heads = [], []
    for _ in range(12):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        sent, t0 = 0, time.monotonic()
        while sent < len(req) and time.monotonic() - t0 < 2:
            try:
                sent += s.send(req[sent:])
            except BlockingIOError:
                time.sleep(0.02)
            except ConnectionError:
                break
        s.setblocking(True)
        s.settimeout(3)
        try:
            heads.append(s.recv(12))
        except (ConnectionError, socket.timeout) as e:
            heads.append(repr(e).encode())
        busy.append(s)
        time.sleep(0.05)
    time.sleep(0.3)
    shed = 0
    for s in silent:
        s.settimeout(1)
        try:
            shed += s.recv(1) == b""
        except ConnectionError:
            shed += 1
        except socket.timeout:
            pass
    admitted = sum(h.startswith(b"HTTP/1.1 200") for h in heads)
    print("round %d: %d of 12 readers admitted, %d of 12 silent shed %s" % (
        rnd + 1, admitted, shed, "" if admitted == 12 else [h[:12] for h in heads]))
    if admitted != 12 or shed != 12:
        sys.exit(1)
    for s in silent + busy:
        s.close()
    time.sleep(0.5)
EOF
  kill "$SPID"
  wait "$SPID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 3. IPv6 /64
if [[ $PHASES != *" 3 "* ]]; then
  :
elif unshare -n true 2>/dev/null; then
  unshare -n bash -s "$PREP" <<'EOF' || fail "IPv6 per /64 (above)"
set -euo pipefail
PREP=$1
ip link set lo up
for a in 2001:db8:1:2::a 2001:db8:1:2::b 2001:db8:1:2::c 2001:db8:1:2::d 2001:db8:1:3::a; do
  ip -6 addr add "$a/128" dev lo nodad
done
"$PREP" serve --store store --listen '[::1]:0' --threads 1 --max-conns-per-ip 3 >out6.txt 2>err6.txt &
SP=$!
trap 'kill $SP 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" out6.txt 2>/dev/null && break; sleep 0.1; done
P=$(sed -n 's|.*listening on http://\[::1\]:\([0-9]*\)/.*|\1|p' out6.txt | sed -n 1p)
[ -n "$P" ] || { echo "no listening line"; exit 1; }
/usr/bin/python3 - "$P" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
def conn(src):
    s = socket.socket(socket.AF_INET6)
    s.bind((src, 0))
    s.connect(("::1", port))
    s.settimeout(3)
    return s
def answer(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    try:
        while b"\r\n\r\n" not in d:
            x = s.recv(4096)
            if not x:
                break
            d += x
    except ConnectionError:
        pass
    return d.split(b"\r\n")[0]
held = [conn(a) for a in ("2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2::c")]
time.sleep(0.2)
fourth = answer(conn("2001:db8:1:2::d"))
other = answer(conn("2001:db8:1:3::a"))
local = answer(conn("::1"))
print("same /64, 4th address:", fourth.decode(), "| another /64:", other.decode(), "| ::1:", local.decode())
ok = fourth.startswith(b"HTTP/1.1 503") and other.startswith(b"HTTP/1.1 200") and local.startswith(b"HTTP/1.1 200")
ok = ok and all(answer(s).startswith(b"HTTP/1.1 200") for s in held)
sys.exit(0 if ok else 1)
PYEOF
EOF
  echo "IPv6: one /64 shares --max-conns-per-ip"
else
  echo "note: no unshare -n here: the IPv6 /64 case is covered by unit/test_serve_addr_group only"
fi
echo "serve_slowloris: ok"
