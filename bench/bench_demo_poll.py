#!/usr/bin/env python3
"""Poller of bench_demo_national.sh: watches a running `prep demo --dir DIR` from outside.

Usage: bench_demo_poll.py DIR CUTS TIMEOUT_S ID=URL...

Every 0.5 s:
- the institute's cuts: a cut's signing instant is the mtime of its signature
  (DIR/instituto/cuts/SEQ/manifest.sig, written last before the active pointer), its
  instant the manifest's `# instant:` line;
- each broadcaster's home page over HTTPS (certificate verified against the drill's
  DIR/tls/cert.pem, `accept-encoding: gzip`): the cut it serves is its `x-prep-corte`
  header, and the served stamp is checked: the page must name that cut
  (`data-corte="SEQ"`) and show that cut's instant (`<time datetime="INSTANT">`). A
  broadcaster serves cut k from the first poll whose checked answer is cut >= k;
- the logs, as they grow: the institute's "corte K (...): ... X s CPU" line, each
  broadcaster's "pulled corte K (... B bytes)" (bytes on the wire of the pull link) and
  "exported corte K" (the Apache docroot), each timed when first seen;
- every 2 s, the RSS of each part (/proc/PID/status VmRSS; for Apache the sum of its
  processes' PSS, /proc/PID/smaps_rollup), kept as the maximum per cut interval and
  overall, with each prep process's own peak (VmHWM).

Stops when every broadcaster has served cut CUTS, or after TIMEOUT_S seconds; then prints
one table per cut and broadcaster, the RSS table, and a summary, the issue's limits beside
the figures they concern (docs/benchmarks.md, "prep demo --scale national"). Exit status 0
when every broadcaster served every cut up to CUTS with a correct stamp, 1 otherwise."""
import glob
import gzip
import http.client
import os
import re
import signal
import ssl
import sys
import time

GB = 1024 ** 3
MB = 1000 ** 2
# issue 15's limits (and issue 6's delivery target), printed beside the figures
LIMIT_SERVE_RSS = 3 * GB
LIMIT_PEAK_RSS = 4 * GB
LIMIT_WIRE = 60 * MB
LIMIT_DELAY = 10.0


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


class Log:
    """A log file read as it grows: each new complete line with the instant it was seen."""

    def __init__(self, path):
        self.path, self.off, self.part = path, 0, b""

    def lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return []
        self.off += len(data)
        data = self.part + data
        *full, self.part = data.split(b"\n")
        return [ln.decode("utf-8", "replace") for ln in full]


def parts(d):
    """pid lists per part of the drill, from /proc (a restarted part has a new pid)."""
    roles = {"instituto": [], "uaq-serve": [], "diario-receive": [], "diario-apache": [], "monitor": []}
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        raw = read(p, "rb")
        if not raw:
            continue
        a = raw.split(b"\0")
        cmd = b" ".join(a).decode("utf-8", "replace")
        if d not in cmd:
            continue
        pid = int(p.split("/")[2])
        if " institute --config " in cmd:
            roles["instituto"].append(pid)
        elif " serve --store " in cmd:
            roles["uaq-serve"].append(pid)
        elif " receive --store " in cmd:
            roles["diario-receive"].append(pid)
        elif os.path.basename(a[0].decode()) == "apache2":
            roles["diario-apache"].append(pid)
        elif " monitor --config " in cmd:
            roles["monitor"].append(pid)
    return roles


def status_kb(pid, key):
    s = read(f"/proc/{pid}/status") or ""
    m = re.search(rf"^{key}:\s+(\d+) kB", s, re.M)
    return int(m.group(1)) if m else 0


def pss_kb(pid):
    s = read(f"/proc/{pid}/smaps_rollup") or ""
    m = re.search(r"^Pss:\s+(\d+) kB", s, re.M)
    return int(m.group(1)) if m else 0


def instant_of(d, k, cache):
    if k not in cache:
        m = read(os.path.join(d, "instituto", "cuts", str(k), "manifest")) if k else None
        if m is None:
            return None
        hit = re.search(r"^# instant: (\S+)$", m[:4096], re.M)
        cache[k] = hit.group(1) if hit else None
    return cache[k]


def probe(conns, b, url, ctx):
    """(cut, page) of the broadcaster's home page, or (None, error)."""
    host, port = re.match(r"https://([^:/]+):(\d+)/", url).groups()
    try:
        c = conns.get(b)
        if c is None:
            c = conns[b] = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        c.request("GET", "/", headers={"accept-encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        if r.getheader("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return int(r.getheader("x-prep-corte") or 0), r.status, body.decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as e:
        conns.pop(b, None)
        return None, 0, str(e)


def fmt_mb(b):
    return f"{b / MB:.1f} MB" if b is not None else "-"


def fmt_gb(kb):
    return f"{kb * 1024 / GB:.2f} GB" if kb else "-"


def main():
    d, cuts, timeout = sys.argv[1].rstrip("/"), int(sys.argv[2]), float(sys.argv[3])
    bs = [a.split("=", 1) for a in sys.argv[4:]]
    ctx = ssl.create_default_context(cafile=os.path.join(d, "tls", "cert.pem"))
    ctx.check_hostname = False  # the drill's certificate names localhost; verified all the same
    logs = {"instituto": Log(f"{d}/logs/instituto.log")}
    signed, inst_cpu, inst_files, instants = {}, {}, {}, {}
    pulled, exported, served = {}, {}, {}  # (b, k) -> (t, extra)
    bad_stamp, down = [], {b: 0 for b, _ in bs}
    seen = {b: 0 for b, _ in bs}
    conns = {}
    rss_cut, rss_all, hwm = {}, {}, {}
    t0 = time.time()
    t_end, t_rss = t0 + timeout, 0.0
    stop = []  # SIGTERM/SIGINT: report what was seen so far
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while time.time() < t_end and not stop:
        t = time.time()
        # the institute's cuts
        for sig in glob.glob(f"{d}/instituto/cuts/*/manifest.sig"):
            k = int(sig.split("/")[-2])
            if k not in signed:
                try:
                    signed[k] = os.stat(sig).st_mtime
                except OSError:
                    continue
                print(f"[{t - t0:6.1f}s] signed corte {k}", flush=True)
        # the logs (a broadcaster's appear when the drill starts it)
        for b, _ in bs:
            for f in glob.glob(f"{d}/logs/difusor-{b}-*.log"):
                logs.setdefault(f"{b}:{os.path.basename(f)}", Log(f))
        for name, lg in logs.items():
            for ln in lg.lines():
                m = re.search(r"corte (\d+) \(noche simulada[^)]*\)\): (\d+) archivos, [\d.]+ MB \([\d.]+ MB en memoria\), \d+ capturas nuevas, ([\d.]+) s CPU", ln)
                if m:
                    inst_cpu[int(m.group(1))] = float(m.group(3))
                    inst_files[int(m.group(1))] = int(m.group(2))
                m = re.search(r"pulled corte (\d+) \((\d+) cortes.* (\d+) bytes\)", ln)
                if m:
                    pulled[(name.split(":")[0], int(m.group(1)))] = (t, int(m.group(3)), int(m.group(2)))
                m = re.search(r"exported corte (\d+) ", ln)
                if m:
                    exported[(name.split(":")[0], int(m.group(1)))] = (t, None)
        # the broadcasters, as a reader sees them
        for b, url in bs:
            c, status, page = probe(conns, b, url, ctx)
            if c is None or status != 200:
                down[b] += 1
                continue
            if c <= seen[b]:
                continue
            want = instant_of(d, c, instants)
            ok = f'data-corte="{c}"' in page and want is not None and f'<time datetime="{want}">' in page
            if not ok:
                bad_stamp.append((b, c))
                print(f"[{t - t0:6.1f}s] {b}: home page of corte {c} does not show its cut ({want})", flush=True)
                continue
            now = time.time()
            for k in range(seen[b] + 1, c + 1):
                served[(b, k)] = now
            print(f"[{now - t0:6.1f}s] {b} serves corte {c}" +
                  (f" ({now - signed[c]:.1f} s after its signature)" if c in signed else ""), flush=True)
            seen[b] = c
        # memory
        if t - t_rss >= 2:
            t_rss = t
            k_now = max(signed) if signed else 0
            for role, pids in parts(d).items():
                kb = sum(pss_kb(p) for p in pids) if role == "diario-apache" else sum(status_kb(p, "VmRSS") for p in pids)
                rss_cut[(role, k_now)] = max(rss_cut.get((role, k_now), 0), kb)
                rss_all[role] = max(rss_all.get(role, 0), kb)
                if role != "diario-apache":
                    hwm[role] = max([hwm.get(role, 0)] + [status_kb(p, "VmHWM") for p in pids])
        if signed and min(seen.values()) >= cuts:
            break
        time.sleep(max(0.0, 0.5 - (time.time() - t)))
    report(d, bs, cuts, signed, inst_cpu, inst_files, pulled, exported, served, rss_cut, rss_all, hwm, bad_stamp, down)
    return 0 if all(served.get((b, k)) for b, _ in bs for k in range(1, cuts + 1) if k in signed) and \
        min(seen.values()) >= cuts and not bad_stamp else 1


def report(d, bs, cuts, signed, inst_cpu, inst_files, pulled, exported, served, rss_cut, rss_all, hwm, bad, down):
    names = {"uaq": "uaq (prep serve)", "diario": "diario (Apache)"}
    print("\nper cut and broadcaster (delay: the cut's signature -> its home page served with its stamp, "
          f"limit {LIMIT_DELAY:.0f} s (issue 6) and the next cut; pull bytes on the wire, limit 60 MB (issue 15))")
    print(f"{'corte':>5} {'institute CPU':>13} {'broadcaster':<18} {'pulled':>8} {'exported':>8} {'served':>8} "
          f"{'pull link bytes':>16}")
    worst_delay, worst_bytes = {}, {}
    for k in sorted(signed):
        if k > cuts:
            continue
        for b, _ in bs:
            s = signed[k]
            p = pulled.get((b, k))
            x = exported.get((b, k))
            v = served.get((b, k))
            cpu = f"{inst_cpu[k]:.1f} s" if k in inst_cpu else "-"
            pb = p[1] if p else None
            note = f" ({p[2]} cortes)" if p and p[2] > 1 else ""
            print(f"{k:>5} {cpu:>13} {names.get(b, b):<18} {(f'+{p[0] - s:.1f}s' if p else '-'):>8} "
                  f"{(f'+{x[0] - s:.1f}s' if x else '-'):>8} {(f'+{v - s:.1f}s' if v else 'never'):>8} "
                  f"{fmt_mb(pb):>16}{note}")
            if k > 1 and v:  # the first cut is the whole site: reported apart
                worst_delay[b] = max(worst_delay.get(b, 0), v - s)
            if k > 1 and pb:
                worst_bytes[b] = max(worst_bytes.get(b, 0), pb)
    print("\nRSS, the maximum seen in each cut's interval (Apache: the sum of its processes' PSS)")
    roles = ["instituto", "uaq-serve", "diario-receive", "diario-apache", "monitor"]
    print(f"{'corte':>5} " + " ".join(f"{r:>15}" for r in roles))
    for k in sorted({k for _, k in rss_cut}):
        print(f"{k:>5} " + " ".join(f"{fmt_gb(rss_cut.get((r, k), 0)):>15}" for r in roles))
    print("\nsummary (limits: issue 15; delay: issue 6)")
    verdict = lambda ok: "met" if ok else "MISSED"
    if 1 in signed:
        for b, _ in bs:
            v = served.get((b, 1))
            print(f"  {names.get(b, b)}: first cut (the whole site) served "
                  + (f"{v - signed[1]:.1f} s after its signature" if v else "never"))
    for b, _ in bs:
        if b in worst_delay:
            print(f"  {names.get(b, b)}: cuts 2..{cuts}: worst signature -> served {worst_delay[b]:.1f} s "
                  f"(limit {LIMIT_DELAY:.0f} s: {verdict(worst_delay[b] <= LIMIT_DELAY)})")
        if b in worst_bytes:
            print(f"  {names.get(b, b)}: cuts 2..{cuts}: largest pull on the wire {fmt_mb(worst_bytes[b])} "
                  f"(limit 60 MB: {verdict(worst_bytes[b] <= LIMIT_WIRE)})")
    if inst_cpu:
        inc = [inst_cpu[k] for k in inst_cpu if 1 < k <= cuts]
        print(f"  institute: first cut {inst_cpu.get(1, 0):.1f} CPU s; later cuts at most "
              f"{max(inc) if inc else 0:.1f} CPU s (limit 2 CPU s for a busy 5-minute cut: "
              f"{verdict(bool(inc) and max(inc) <= 2)}; the demo's cuts span its clock, not the busiest bin)")
    for role, lim, what in (("instituto", LIMIT_PEAK_RSS, "peak RSS"), ("uaq-serve", LIMIT_SERVE_RSS, "prep serve RSS")):
        peak = max(rss_all.get(role, 0), hwm.get(role, 0))
        if peak:
            print(f"  {role}: {what} {fmt_gb(peak)} (limit {lim / GB:.0f} GB: {verdict(peak * 1024 <= lim)})")
    for role in ("diario-receive", "diario-apache", "monitor"):
        if rss_all.get(role):
            print(f"  {role}: RSS at most {fmt_gb(max(rss_all[role], hwm.get(role, 0)))} (no limit)")
    print(f"  stamps: {len(bad)} home page(s) that did not show their cut; polls without an answer: "
          + ", ".join(f"{b} {down[b]}" for b, _ in bs))


if __name__ == "__main__":
    sys.exit(main())
