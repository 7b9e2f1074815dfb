#!/usr/bin/env python3
"""Poller of bench_delivery.sh: when does each broadcaster serve each cut?

Usage: bench_delivery_poll.py INST_STORE CA_FILE FINAL_SEQ TIMEOUT_S ID=PORT...

Every 100 ms: the institute's active pointer (a cut's creation instant is the mtime of
its signature, cuts/SEQ/manifest.sig, written last before the pointer) and each broadcaster's /health over HTTPS
(one kept-alive connection each, certificate verified). A broadcaster serves cut k from
the first poll where its /health says corte >= k (latest wins: a broadcaster may skip a
cut). Prints one line per (cut, broadcaster) with the delay in seconds:
    served SEQ ID DELAY
and "created SEQ EPOCH" per cut. Stops when every broadcaster serves FINAL_SEQ or after
TIMEOUT_S seconds."""
import http.client
import os
import ssl
import sys
import time


def active_seq(store):
    try:
        with open(os.path.join(store, "active")) as f:
            for line in f:
                if line.startswith("sequence "):
                    return int(line.split()[1]), os.stat(os.path.join(store, "active")).st_mtime
    except (OSError, ValueError):
        pass
    return 0, 0.0


def main():
    store, ca, final, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    bs = [a.split("=") for a in sys.argv[5:]]
    ctx = ssl.create_default_context(cafile=ca)
    conns = {}
    seen = {b: 0 for b, _ in bs}
    created = {}
    start_seq = int(os.environ.get("START_SEQ", "0")) or active_seq(store)[0]
    t_end = time.time() + timeout
    while time.time() < t_end:
        t = time.time()
        s, mt = active_seq(store)
        for k in range(start_seq + 1, s + 1):
            if k not in created:
                try:
                    created[k] = os.stat(os.path.join(store, "cuts", str(k), "manifest.sig")).st_mtime
                except OSError:
                    created[k] = mt if k == s else t
                print(f"created {k} {created[k]:.3f}", flush=True)
        for b, port in bs:
            try:
                c = conns.get(b)
                if c is None:
                    c = conns[b] = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=2)
                c.request("GET", "/health")
                body = c.getresponse().read().decode()
                q = int(body.split()[-1]) if body.startswith("ok corte") else 0
            except (OSError, http.client.HTTPException, ValueError):
                conns.pop(b, None)
                continue
            now = time.time()
            for k in range(seen[b] + 1, q + 1):
                if k in created:
                    print(f"served {k} {b} {now - created[k]:.3f}", flush=True)
            seen[b] = max(seen[b], q)
        if created and min(seen.values()) >= final:
            return 0
        time.sleep(max(0.0, 0.1 - (time.time() - t)))
    print("timeout: " + " ".join(f"{b}={seen[b]}" for b, _ in bs if seen[b] < final), flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
