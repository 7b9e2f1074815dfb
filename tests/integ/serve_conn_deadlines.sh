#!/usr/bin/env bash
# Issue 13, item 4: the head deadline starts at the accept, and an idle connection holds
# no buffers. `prep serve` on a plain and a TLS port, --header-timeout 3, --idle-timeout 30;
# raw sockets (python3 stdlib), run at the same time:
#  A. plain, connects and sends nothing: cut 2.5-5 s after the accept (before: it stayed
#     until the idle timeout, 30 s);
#  B. plain, first byte 2.2 s after the accept, then one every 0.3 s: cut before 4.7 s
#     (before: the deadline began at the first byte, cut at 5.2-6.2 s);
#  C. TLS, handshake done, then nothing: cut 2.5-5 s after the accept (before: 30 s);
#  D. TLS, no handshake at all: cut 2.5-5 s after the accept (as before).
# Then memory (not under ASan): 300 silent plain connections cost under 4 KiB each (before:
# 12 KiB, the 16 KiB read buffer and the answer queue were allocated at the accept); 300
# HTTPS/1.1 keep-alive connections that made one request give back at least 8 KiB each
# once idle for a second (read buffer, answer queue, TLS write buffer; before: nothing).
# curl is answered meanwhile; the server exits 0. Under a minute.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -20 err.txt; exit 1; }
ASAN=0
grep -qa __asan_init "$PREP" && ASAN=1

"$PREP" keygen --out drill --drill >/dev/null
mkdir pub
echo '<!doctype html><title>uno</title>' >pub/index.html
"$PREP" cut --from pub --process prueba --at "2021-06-06 21:00" --key drill.key --store store --drill >/dev/null \
  || fail "cut"
peer_cert cert.pem key.pem
ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1 \
  "$PREP" serve --store store --tls-listen 127.0.0.1:0 --listen 127.0.0.1:0 --tls-cert cert.pem \
  --tls-key key.pem --threads 1 --header-timeout 3 --idle-timeout 30 --max-conns-per-ip 1000 \
  --poll-ms 100 >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on http://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
LP=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/ (http/1.1, redirects to https)$|\1|p' out.txt)
[ -n "$HP" ] && [ -n "$LP" ] || fail "no listening lines: $(cat out.txt)"

python3 - "$LP" "$HP" "$SPID" "$ASAN" <<'EOF' || fail "connection checks"
import socket, ssl, subprocess, sys, threading, time
lp, hp, pid, asan = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
ctx = ssl.create_default_context(cafile="cert.pem")
ctx.set_alpn_protocols(["http/1.1"])

def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])

def wait_closed(s, t0, limit=8.0):
    """Seconds from t0 until the peer closes s, or None after limit."""
    while time.time() - t0 < limit:
        s.settimeout(max(0.05, limit - (time.time() - t0)))
        try:
            if s.recv(4096) == b"":
                return time.time() - t0
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            if isinstance(e, socket.timeout):
                return None
            return time.time() - t0
    return None

res = {}
def silent_plain():
    t0 = time.time(); s = socket.create_connection(("127.0.0.1", lp))
    res["A"] = wait_closed(s, t0); s.close()
def drip_plain():
    t0 = time.time(); s = socket.create_connection(("127.0.0.1", lp))
    time.sleep(2.2)
    req = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"z" * 60
    for i in range(len(req)):
        try:
            s.send(req[i:i + 1])
        except OSError:
            break
        s.settimeout(0.3)
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
        if time.time() - t0 > 8:
            res["B"] = None; s.close(); return
    res["B"] = time.time() - t0; s.close()
def silent_tls():
    t0 = time.time()
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", hp)), server_hostname="localhost")
    res["C"] = wait_closed(s, t0); s.close()
def no_handshake():
    t0 = time.time(); s = socket.create_connection(("127.0.0.1", hp))
    res["D"] = wait_closed(s, t0); s.close()

ths = [threading.Thread(target=f) for f in (silent_plain, drip_plain, silent_tls, no_handshake)]
for t in ths: t.start()
time.sleep(1)
r = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", "cert.pem", "-o", "/dev/null", "-w", "%{http_code}",
                    "https://127.0.0.1:%d/" % hp], capture_output=True, text=True)
assert r.stdout == "200", ("curl meanwhile", r.stdout, r.stderr)
for t in ths: t.join()
print("deadlines from the accept (s):", {k: None if v is None else round(v, 2) for k, v in sorted(res.items())})
errs = []
for k in "ACD":
    if res[k] is None or not 2.5 <= res[k] <= 5.0:
        errs.append("%s: cut at %s s, expected 2.5-5" % (k, res[k]))
if res["B"] is None or res["B"] >= 4.7:
    errs.append("B: drip cut at %s s, expected before 4.7 (deadline from the accept)" % res["B"])

if not asan:
    base = rss()
    ps = [socket.create_connection(("127.0.0.1", lp)) for _ in range(300)]
    time.sleep(0.5)
    per_plain = (rss() - base) / 300
    for s in ps: s.close()
    time.sleep(1.5)
    base = rss()
    cs = []
    for _ in range(300):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", hp)), server_hostname="localhost")
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        d = b""
        while b"\r\n\r\n" not in d:
            d += s.recv(65536)
        cs.append(s)
    time.sleep(0.3)
    held = rss()
    time.sleep(2.5)
    idle = rss()
    for s in cs: s.close()
    print("memory: silent plain %.1f KiB/conn; HTTPS keep-alive %.1f KiB/conn after a request, %.1f KiB/conn idle"
          % (per_plain, (held - base) / 300, (idle - base) / 300))
    if per_plain >= 4:
        errs.append("a silent plain connection costs %.1f KiB" % per_plain)
    if (held - idle) / 300 < 8:
        errs.append("idle keep-alive connections gave back only %.1f KiB each" % ((held - idle) / 300))
if errs:
    print("\n".join(errs)); sys.exit(1)
EOF
[ "$(curl -sS --max-time 10 --cacert cert.pem "https://127.0.0.1:$HP/health")" = "ok corte 1" ] || fail "/health at the end"
rc=0
peer_stop "$SPID" || rc=$?
if grep -q "LeakSanitizer" err.txt; then fail "leaks at exit"; fi
[ $rc = 0 ] || fail "server exit status $rc"
echo "prep serve connection deadlines from the accept, no buffers while idle: ok"
