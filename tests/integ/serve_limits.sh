#!/usr/bin/env bash
# prep serve's limits with real sockets: a head over 16 KiB gets 431 (and the client sees
# it), a slowloris client (one byte a second) is cut off after --header-timeout, a client
# over --max-conns-per-ip is refused (503, retry-after) while its other connections keep
# working, an idle keep-alive connection is closed after --idle-timeout, HTTP/1.1 pipelining answers in
# order; plain HTTP only (no TLS configured) serves the site itself, before any cut the
# waiting page; the pid file exists while serving.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && cat err.txt; exit 1; }

mkdir store
"$PREP" serve --store store --listen 127.0.0.1:0 --threads 2 --header-timeout 2 --idle-timeout 3 \
  --max-conns-per-ip 3 --pid-file serve.pid --poll-ms 100 >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on http://" out.txt 2>/dev/null && break; sleep 0.1; done
P=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/ (http/1.1)$|\1|p' out.txt)
[ -n "$P" ] || fail "no listening line: $(cat out.txt)"
[ "$(cat serve.pid)" = "$SPID" ] || fail "pid file"
grep -q "no cut in store yet" out.txt || fail "no waiting-version line"
[ "$(curl -sS --max-time 5 "http://127.0.0.1:$P/health")" = "ok corte 0" ] || fail "/health before any cut"
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/")
[ "$code" = 200 ] || [ "$code" = 503 ] || fail "waiting page status $code"

# Header too large: 431, and the client reads it (the server drains before closing).
big=$(head -c 17000 /dev/zero | tr '\0' a)
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "x-big: $big" "http://127.0.0.1:$P/" || true)
[ "$code" = 431 ] || fail "expected 431, got $code"

python3 - "$P" <<'EOF' || fail "socket checks"
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s
def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk: raise SystemExit("closed before a head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        rest += s.recv(65536)
    return head, rest[:n], rest[n:]

# Pipelining: three requests in one write, three answers in order.
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n")
h1, b1, extra = read_response(s)
assert h1.startswith(b"HTTP/1.1 200") and b1 == b"ok corte 0\n", (h1, b1)
buf = extra
# the rest may already be buffered
s.settimeout(10)
data = buf
while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"ok corte 0\n"):
    c = s.recv(65536)
    if not c: break
    data += c
assert data.count(b"HTTP/1.1 ") == 2 and data.endswith(b"ok corte 0\n"), data[:200]
s.close()

# Slowloris: one byte a second; cut off after --header-timeout 2 (checked every second).
s = conn()
t0 = time.time()
req = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"z" * 30
closed_at = None
for i in range(len(req)):
    try:
        s.send(req[i:i+1])
    except OSError:
        closed_at = time.time() - t0; break
    s.settimeout(1.0)
    try:
        if s.recv(1) == b"":
            closed_at = time.time() - t0; break
    except socket.timeout:
        pass
    except OSError:  # cut with a reset (the server closed with our bytes unread): cut all the same
        closed_at = time.time() - t0; break
assert closed_at is not None, "slowloris client never cut off"
assert 1.5 <= closed_at <= 5.5, closed_at
s.close()

# Per-IP limit 3: a fourth connection is refused at once with a 503 and retry-after
# (issue 13: a clear refusal, not a silent close); the three others still work.
# Each worker has its own SO_REUSEPORT listener and accepts in its own time, so a
# connection made later can be accepted (and counted) first: the three are made to answer
# a request before the fourth is opened, so the fourth is the one over the limit.
keep = [conn() for _ in range(3)]
for k in keep:
    k.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
    h, b, _ = read_response(k)
    assert h.startswith(b"HTTP/1.1 200"), h
x = conn()
x.settimeout(3)
got = b""
while True:
    chunk = x.recv(4096)
    if not chunk: break
    got += chunk
assert got.startswith(b"HTTP/1.1 503 "), got[:80]
assert b"\r\nretry-after: 5\r\n" in got, got
x.close()
for k in keep:
    k.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
    h, b, _ = read_response(k)
    assert h.startswith(b"HTTP/1.1 200"), h
# Idle keep-alive: closed after --idle-timeout 3 (checked every second).
t0 = time.time()
keep[0].settimeout(8)
assert keep[0].recv(1) == b"", "idle connection not closed"
idle = time.time() - t0
assert 2.0 <= idle <= 6.0, idle
for k in keep: k.close()
time.sleep(0.3)
# Released: three new connections are accepted again.
again = [conn() for _ in range(3)]
for k in again:
    k.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    h, b, _ = read_response(k)
    assert h.startswith(b"HTTP/1.1 200") and b"connection: close" in h.lower(), h
    k.close()
print("socket checks ok")
EOF
grep -q '^prep_http_requests_total{status="431"} 1$' <(curl -sS --max-time 5 "http://127.0.0.1:$P/metrics") || fail "431 not counted"
peer_stop "$SPID" || fail "server exit status"
[ ! -e serve.pid ] || fail "pid file left behind"
echo "prep serve limits: 431, slowloris, per-IP limit, idle timeout, pipelining, plain site, pid file: ok"
