#!/usr/bin/env python3
"""Checking load client for tests/integ/serve_switch.sh (python3 stdlib only).

  serve_switch_client.py incoming SRC_STORE FIRST LAST OUT_PARENT
      For each cut SEQ from FIRST to LAST of SRC_STORE, writes its incoming area
      OUT_PARENT/SEQ (docs/formats/cut.md section 5): OUT_PARENT/SEQ/cuts/SEQ/manifest{,.sig}
      plus hard links of the objects that cut SEQ references and cut SEQ-1 does not (the
      receiving store already holds the rest). All cuts in one process: a Python start per
      cut was most of the time serve_switch.sh took to prepare its 101.

  serve_switch_client.py load --port P --cafile F --cuts SRC_STORE/cuts --stop-file F
                              [--h1-threads N] [--pipeline K] [--h2-loops N] [--server-pid PID]
      Runs until STOP_FILE exists: N threads of HTTP/1.1 over TLS (keep-alive, K requests
      pipelined per write, a new connection every 60 requests, random page paths, identity
      or gzip) and N loops of `curl --http2 -Z` (20 multiplexed transfers per run over one
      connection, --compressed). Every response must be 200, carry x-prep-corte: S, and
      its (decoded) body's SHA-256 must be the entry of that path in cut S's manifest
      (SHA256SUMS: the manifest's own bytes). Samples the server's VmRSS every 200 ms.
      Prints one JSON summary line; exit 0 only with 0 failures and 0 mismatches.
"""
import gzip
import hashlib
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def manifest_objects(text):
    """Object hashes one manifest references: plain files' hashes and composed parts."""
    objs = set()
    skip = False
    for line in text.splitlines():
        if line.startswith("#p "):
            f = line.split(" ")
            objs.update(f[2::2])
            skip = True
        elif line.startswith("#"):
            continue
        else:
            h = line[:64]
            if not skip and HEX64.match(h):
                objs.add(h)
            skip = False
    return objs


def cmd_incoming(src, seq, out):
    seq = int(seq)
    with open(os.path.join(src, "cuts", str(seq), "manifest")) as f:
        objs = manifest_objects(f.read())
    if seq > 1:
        with open(os.path.join(src, "cuts", str(seq - 1), "manifest")) as f:
            objs -= manifest_objects(f.read())
    cdir = os.path.join(out, "cuts", str(seq))
    os.makedirs(cdir)
    for name in ("manifest", "manifest.sig"):
        os.link(os.path.join(src, "cuts", str(seq), name), os.path.join(cdir, name))
    for h in sorted(objs):
        d = os.path.join(out, "objects", h[:2])
        os.makedirs(d, exist_ok=True)
        os.link(os.path.join(src, "objects", h[:2], h[2:]), os.path.join(d, h[2:]))
    return 0


class Cuts:
    """Manifests by sequence, parsed on first use: path -> SHA-256 hex."""

    def __init__(self, cutsdir):
        self.dir = cutsdir
        self.lock = threading.Lock()
        self.by_seq = {}

    def get(self, seq):
        with self.lock:
            m = self.by_seq.get(seq)
            if m is not None:
                return m
            d = os.path.join(self.dir, str(seq))
            try:
                with open(os.path.join(d, "manifest"), "rb") as f:
                    raw = f.read()
                with open(os.path.join(d, "manifest.sig"), "rb") as f:
                    sig = f.read()
            except OSError:
                return None
            m = {"SHA256SUMS": hashlib.sha256(raw).hexdigest(),
                 "SHA256SUMS.sig": hashlib.sha256(sig).hexdigest()}
            for line in raw.decode("utf-8").splitlines():
                if line.startswith("#"):
                    continue
                m[line[66:]] = line[:64]
            self.by_seq[seq] = m
            return m


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.ok = 0
        self.failed = 0
        self.mismatches = 0
        self.cuts = {}
        self.samples = []          # first problems, for the report
        self.h1 = 0
        self.h2 = 0

    def problem(self, kind, msg):
        with self.lock:
            if kind == "mismatch":
                self.mismatches += 1
            else:
                self.failed += 1
            if len(self.samples) < 10:
                self.samples.append(kind + ": " + msg)


def key_of(url_path):
    """Site key of a request path: no leading '/', 'dir/' -> 'dir/index.html'."""
    k = url_path.lstrip("/")
    if k == "" or k.endswith("/"):
        k += "index.html"
    return k


def check_body(stats, cuts, proto, path, status, seq, body):
    with stats.lock:
        stats.requests += 1
        if proto == 1:
            stats.h1 += 1
        else:
            stats.h2 += 1
    if status != 200:
        stats.problem("failed", "%s status %s (HTTP/%d)" % (path, status, proto))
        return
    if seq is None or not seq.isdigit() or int(seq) < 1:
        stats.problem("failed", "%s: no x-prep-corte (%r)" % (path, seq))
        return
    m = cuts.get(int(seq))
    want = m.get(key_of(path)) if m else None
    got = hashlib.sha256(body).hexdigest()
    if want != got:
        stats.problem("mismatch", "%s x-prep-corte %s: body %s, manifest %s"
                      % (path, seq, got[:16], (want or "none")[:16]))
        return
    with stats.lock:
        stats.ok += 1
        stats.cuts[int(seq)] = stats.cuts.get(int(seq), 0) + 1


def read_response(f):
    """One HTTP/1.1 response from a buffered reader: (status, fields, body)."""
    line = f.readline(8192)
    if not line:
        raise EOFError("connection closed")
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError("bad status line %r" % line[:80])
    status = int(parts[1])
    fields = {}
    while True:
        line = f.readline(16384)
        if not line:
            raise EOFError("closed inside a head")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        fields[name.strip().lower().decode()] = value.strip().decode("latin-1")
    n = int(fields.get("content-length", "0"))
    body = f.read(n)
    if len(body) != n:
        raise EOFError("short body %d of %d" % (len(body), n))
    return status, fields, body


def h1_worker(args, cuts, stats, paths, stop, rnd):
    ctx = ssl.create_default_context(cafile=args["cafile"])
    ctx.set_alpn_protocols(["http/1.1"])
    host = "127.0.0.1"
    while not stop.is_set():
        try:
            raw = socket.create_connection((host, args["port"]), timeout=10)
            s = ctx.wrap_socket(raw, server_hostname=host)
            f = s.makefile("rb", buffering=65536)
            sent = 0
            while sent < 60 and not stop.is_set():
                batch = []
                for _ in range(args["pipeline"]):
                    p = rnd.choice(paths)
                    # br cannot be decoded with the stdlib: the HTTP/2 loops (curl) cover it.
                    enc = rnd.choice(("identity", "gzip", "br;q=0, gzip;q=0.8, identity;q=0.5"))
                    batch.append((p, enc))
                req = b"".join(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: %s\r\n"
                                "User-Agent: serve_switch\r\n\r\n" % (p, enc)).encode()
                               for p, enc in batch)
                s.sendall(req)
                for p, enc in batch:
                    status, fields, body = read_response(f)
                    ce = fields.get("content-encoding", "")
                    if ce == "gzip":
                        body = gzip.decompress(body)   # every member
                    elif ce:
                        with stats.lock:
                            stats.requests += 1
                        stats.problem("failed", "%s: unexpected content-encoding %s for %r"
                                      % (p, ce, enc))
                        continue
                    check_body(stats, cuts, 1, p, status, fields.get("x-prep-corte"), body)
                sent += len(batch)
                if args["h1_pause_ms"]:
                    stop.wait(args["h1_pause_ms"] / 1000.0)
            s.close()
        except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile) as e:
            if not stop.is_set():
                stats.problem("failed", "HTTP/1.1 connection: %s" % e)
                time.sleep(0.05)


def h2_worker(args, cuts, stats, paths, stop, rnd):
    fmt = "%{http_code} %header{x-prep-corte} %{http_version} %{filename_effective}\\n"
    while not stop.is_set():
        with tempfile.TemporaryDirectory(prefix="h2-", dir=args["tmp"]) as d:
            chosen = [rnd.choice(paths) for _ in range(20)]
            cmd = ["curl", "-sS", "--max-time", "20", "--cacert", args["cafile"], "--http2",
                   "-Z", "--parallel-max", "20", "--compressed", "-w", fmt]
            for i, p in enumerate(chosen):
                cmd += ["-o", os.path.join(d, str(i)), "https://127.0.0.1:%d%s" % (args["port"], p)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            seen = set()
            for line in r.stdout.splitlines():
                f = line.split(" ", 3)
                if len(f) != 4:
                    continue
                i = int(os.path.basename(f[3]))
                seen.add(i)
                if f[2] != "2":
                    stats.problem("failed", "%s: curl used HTTP/%s" % (chosen[i], f[2]))
                    continue
                try:
                    with open(f[3], "rb") as bf:
                        body = bf.read()
                except OSError:
                    body = b""
                check_body(stats, cuts, 2, chosen[i], int(f[0]), f[1] or None, body)
            for i in range(20):
                if i not in seen:
                    with stats.lock:
                        stats.requests += 1
                    stats.problem("failed", "%s: no curl result (exit %d: %s)"
                                  % (chosen[i], r.returncode, r.stderr.strip()[:200]))
        if args["h2_pause_ms"]:
            stop.wait(args["h2_pause_ms"] / 1000.0)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmd_load(argv):
    # --h1-pause-ms / --h2-pause-ms: a pause after each pipelined batch / each curl batch, so
    # that the load is steady rather than all the CPU the machine has (the test runs beside
    # others under ctest -j2); requests stay in flight across every switch.
    a = {"h1_threads": 4, "pipeline": 4, "h2_loops": 2, "server_pid": 0, "h1_pause_ms": 0,
         "h2_pause_ms": 0}
    it = iter(argv)
    for k in it:
        v = next(it)
        a[k.lstrip("-").replace("-", "_")] = v
    for k in ("port", "h1_threads", "pipeline", "h2_loops", "server_pid", "h1_pause_ms", "h2_pause_ms"):
        a[k] = int(a[k])
    a["tmp"] = os.path.dirname(os.path.abspath(a["stop_file"]))
    cuts = Cuts(a["cuts"])
    first = cuts.get(1)
    paths = []
    for k in sorted(first):
        if k.endswith("/index.html"):
            paths.append("/" + k[:-len("index.html")])   # the directory form
        paths.append("/" + ("" if k == "index.html" else k))
    stats = Stats()
    stop = threading.Event()
    threads = []
    for i in range(a["h1_threads"]):
        threads.append(threading.Thread(target=h1_worker,
                                        args=(a, cuts, stats, paths, stop, random.Random(i))))
    for i in range(a["h2_loops"]):
        threads.append(threading.Thread(target=h2_worker,
                                        args=(a, cuts, stats, paths, stop, random.Random(100 + i))))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    rss = []
    while not os.path.exists(a["stop_file"]):
        if a["server_pid"]:
            r = rss_kb(a["server_pid"])
            if r is not None:
                rss.append(r)
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(60)
    el = time.monotonic() - t0
    q = max(1, len(rss) // 4)
    out = {"requests": stats.requests, "ok": stats.ok, "failed": stats.failed,
           "mismatches": stats.mismatches, "http1": stats.h1, "http2": stats.h2,
           "distinct_cuts": len(stats.cuts), "min_cut": min(stats.cuts, default=0),
           "max_cut": max(stats.cuts, default=0), "seconds": round(el, 1),
           "rss_kb_first_quarter_max": max(rss[:q], default=0),
           "rss_kb_last_quarter_max": max(rss[-q:], default=0),
           "rss_kb_max": max(rss, default=0), "problems": stats.samples}
    print(json.dumps(out))
    return 0 if (stats.failed == 0 and stats.mismatches == 0 and stats.ok > 0) else 1


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "incoming" and len(sys.argv) == 6:
        src, first, last, out = sys.argv[2:]
        for seq in range(int(first), int(last) + 1):
            cmd_incoming(src, seq, os.path.join(out, str(seq)))
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "load":
        return cmd_load(sys.argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
