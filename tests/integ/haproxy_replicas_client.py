#!/usr/bin/env python3
"""Client side of tests/integ/haproxy_replicas.sh (python3 stdlib only).

  haproxy_replicas_client.py load --port P --cuts SRC_STORE/cuts --stop-file F
                                  [--clients N] [--out FILE]
      N readers, each from its own loopback address (127.0.0.(11+i): one client address
      each, the key HAProxy remembers a client's newest cut by), each making one request
      after another over a keep-alive connection (a new one every 50 requests, as a browser
      would), until STOP_FILE exists. Paths: every file the source store's cuts all have
      (pages as "dir/", a few with a query string, which the proxy's marker goes before),
      identity or gzip. Each response must be 200, carry x-prep-corte: S, and its decoded
      body's SHA-256 must be the entry of that path in cut S's manifest (read from the
      source store, an independent copy). A response whose S is lower than the highest S
      that SAME reader already received counts as "backwards". Writes a JSON summary.

  haproxy_replicas_client.py stat SOCKET
      One line per server of HAProxy's stats socket ("show stat"): name, status (spaces
      as "-": "no-check"), total
      sessions (stot), retries (wretr), redispatches (wredis), last check's code.
"""
import gzip
import hashlib
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serve_switch_client import Cuts, key_of  # noqa: E402  (same directory)


def common_paths(cutsdir):
    """Request paths of the files every cut of the source store has (no archive)."""
    keys = None
    for seq in sorted(int(s) for s in os.listdir(cutsdir) if s.isdigit()):
        with open(os.path.join(cutsdir, str(seq), "manifest")) as f:
            k = {line[66:] for line in f.read().splitlines() if not line.startswith("#")}
        keys = k if keys is None else keys & k
    paths = []
    for k in sorted(keys or ()):
        if k.startswith("cortes/"):
            continue
        paths.append("/" + (k[:-len("index.html")] if k.endswith("index.html") else k))
    return paths


class Result:
    def __init__(self, n):
        self.lock = threading.Lock()
        self.requests = 0
        self.ok = 0
        self.failed = 0
        self.mismatches = 0
        self.backwards = 0
        self.cuts = {}
        self.samples = []
        self.per_client = [0] * n
        self.max_seen = [0] * n
        self.first_seen = {}     # cut -> first time any reader got it (monotonic s)

    def problem(self, kind, msg):
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            if len(self.samples) < 12:
                self.samples.append("%s: %s" % (kind, msg))


def reader(i, args, cuts, paths, res, stop):
    rnd = random.Random(1000 + i)
    src = ("127.0.0.%d" % (11 + i), 0)
    seen = 0
    while not stop():
        conn = http.client.HTTPConnection("127.0.0.1", args["port"], timeout=10, source_address=src)
        try:
            for _ in range(50):
                if stop():
                    break
                path = rnd.choice(paths)
                target = path + ("?v=%d" % rnd.randrange(1000) if rnd.random() < 0.1 else "")
                enc = rnd.choice(("identity", "gzip"))
                conn.request("GET", target, headers={"Accept-Encoding": enc})
                r = conn.getresponse()
                body = r.read()
                status = r.status
                seq = r.getheader("x-prep-corte")
                if r.getheader("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                with res.lock:
                    res.requests += 1
                    res.per_client[i] += 1
                if status != 200 or seq is None or not seq.isdigit() or int(seq) < 1:
                    res.problem("failed", "reader %d %s: status %s x-prep-corte %r" % (i, target, status, seq))
                    continue
                s = int(seq)
                m = cuts.get(s)
                want = m.get(key_of(path)) if m else None
                if hashlib.sha256(body).hexdigest() != want:
                    res.problem("mismatches", "reader %d %s x-prep-corte %d: body differs from the manifest" % (i, target, s))
                    continue
                if s < seen:
                    res.problem("backwards", "reader %d %s: corte %d after corte %d" % (i, target, s, seen))
                    continue
                seen = s
                with res.lock:
                    res.ok += 1
                    res.cuts[s] = res.cuts.get(s, 0) + 1
                    res.max_seen[i] = seen
                    res.first_seen.setdefault(s, time.monotonic())
        except (OSError, http.client.HTTPException) as e:
            res.problem("failed", "reader %d: %s" % (i, e))
        finally:
            conn.close()


def cmd_load(argv):
    a = {"port": None, "cuts": None, "stop-file": None, "clients": "6", "out": "-"}
    while argv:
        k = argv.pop(0)
        a[k[2:]] = argv.pop(0)
    args = {"port": int(a["port"])}
    cuts = Cuts(a["cuts"])
    paths = common_paths(a["cuts"])
    n = int(a["clients"])
    res = Result(n)
    stop_file = a["stop-file"]
    stopped = threading.Event()

    def stop():
        return stopped.is_set()

    ts = [threading.Thread(target=reader, args=(i, args, cuts, paths, res, stop)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    while not os.path.exists(stop_file):
        time.sleep(0.05)
    stopped.set()
    for t in ts:
        t.join()
    out = {"requests": res.requests, "ok": res.ok, "failed": res.failed, "mismatches": res.mismatches,
           "backwards": res.backwards, "cuts": {str(k): v for k, v in sorted(res.cuts.items())},
           "per_client": res.per_client, "max_seen": res.max_seen, "paths": len(paths),
           "seconds": round(time.monotonic() - t0, 2), "problems": res.samples}
    text = json.dumps(out)
    if a["out"] == "-":
        print(text)
    else:
        with open(a["out"], "w") as f:
            f.write(text + "\n")
    return 0 if not (res.failed or res.mismatches or res.backwards) else 1


def cmd_stat(sock):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    lines = data.decode().splitlines()
    cols = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        if not line:
            continue
        row = dict(zip(cols, line.split(",")))
        if row["svname"] in ("FRONTEND", "BACKEND"):
            continue
        print(row["svname"], row["status"].replace(" ", "-"), row["stot"], row["wretr"] or 0, row["wredis"] or 0,
              row["check_code"] or "-")
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "load":
        return cmd_load(sys.argv[2:])
    if len(sys.argv) == 3 and sys.argv[1] == "stat":
        return cmd_stat(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
