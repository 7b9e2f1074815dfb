#!/usr/bin/env bash
# Issue 15: prep serve's gzip answers of a national cut's pages, made of chunks deflated
# with the page's bytes before them (docs/internals/serve.md, "Chunks compressed with the
# bytes before them"), on a real `prep cut` of `--scale national-small` and the next cut
# five minutes later, switched under the running server:
#   - every composed file's gzip answer (HTTP/1.1, keep-alive) inflates, with Python's
#     zlib, to bytes whose SHA-256 is the signed manifest's; a sample also with GNU gzip;
#   - the section pages' answers (split per election: seccion/EE/NNNN/index.html), summed,
#     are under 0.8 x the join of their parts
#     each deflated alone (computed here with zlib from the store's objects: the former
#     answer); identity answers and ranges across the part boundaries are the file's bytes.
set -euo pipefail
PREP=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-gznat-XXXXXX)
peer_cleanup_on_exit "$T"
cd "$T"

"$PREP" sim catalog --scale national-small --seed 2021 --out n.cat >/dev/null
"$PREP" sim actas --catalog n.cat --out actas --seed 2021 >/dev/null 2>&1
"$PREP" keygen --out drill --drill >/dev/null
n=0
for at in "2021-06-06 23:00" "2021-06-06 23:05"; do
  "$PREP" cut --catalog n.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub --store store --drill \
    >cut.out 2>&1 || { echo "FAIL - cut: $(tail -3 cut.out)"; exit 1; }
  n=$((n + 1))
  cp store/active "active-$n"
done
first=1 last=2
# cut 1 active first; cut 2 is activated under the running server below (what prep
# receive's activation does: a new pointer renamed over the old one)
cp active-1 store/active

"$PREP" serve --store store --listen 127.0.0.1:0 --threads 2 >serve.out 2>&1 &
peer_track $!
for _ in $(seq 600); do grep -q 'listening on http://' serve.out 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' serve.out | sed -n 1p)
[ -n "$PORT" ] || { echo "FAIL - prep serve did not start: $(cat serve.out)"; exit 1; }

check() { # SEQ: every composed file of that cut, through the server
  python3 - "$PORT" "store" "$1" <<'EOF'
import hashlib, http.client, re, subprocess, sys, zlib
port, store, seq = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ents, parts, size = [], None, None
for l in open(f"{store}/cuts/{seq}/manifest", encoding="utf-8").read().split("\n"):
    if l.startswith("#f "):
        size, parts = int(l.split()[1]), None
    elif l.startswith("#p "):
        t = l.split()[1:]
        parts = [(int(t[i]), t[i + 1]) for i in range(0, len(t), 2)]
    elif len(l) > 66 and l[64:66] == "  " and not l.startswith("#"):
        if parts:
            ents.append((l[66:], l[:64], size, parts))
        parts = None
def obj(h):
    return open(f"{store}/objects/{h[:2]}/{h[2:]}", "rb").read()
def alone(b):
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 9)
    return len(c.compress(b) + c.flush(zlib.Z_SYNC_FLUSH))
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
def get(path, headers):
    conn.request("GET", "/" + path, headers=headers)
    r = conn.getresponse()
    return r, r.read()
fails, six, got6, alone6, gz_checked = 0, 0, 0, 0, 0
for i, (path, sha, size, parts) in enumerate(ents):
    r, body = get(path, {"Accept-Encoding": "gzip"})
    if r.status != 200 or r.getheader("x-prep-corte") != seq:
        print(f"FAIL - {path}: {r.status}, cut {r.getheader('x-prep-corte')}"); fails += 1; continue
    data = zlib.decompress(body, 31) if r.getheader("content-encoding") == "gzip" else body
    if hashlib.sha256(data).hexdigest() != sha or len(data) != size:
        print(f"FAIL - {path}: the gzip answer does not inflate to the signed bytes"); fails += 1; continue
    if r.getheader("content-encoding") == "gzip" and i % 97 == 0:
        out = subprocess.run(["gzip", "-dc"], input=body, capture_output=True).stdout
        gz_checked += 1
        if out != data:
            print(f"FAIL - {path}: gzip -dc differs"); fails += 1
    if re.fullmatch(r"seccion/[0-9]{2}/[0-9]{4}/index\.html", path) and len(parts) >= 2:
        six += 1
        got6 += len(body)
        alone6 += 20 + sum(alone(obj(h)) for _, h in parts)
        if six % 50 == 1:  # identity and ranges across the part boundaries
            r, ident = get(path, {})
            if hashlib.sha256(ident).hexdigest() != sha:
                print(f"FAIL - {path}: identity"); fails += 1
            at = 0
            for n, _ in parts:
                a, b = max(at - 3, 0), min(at + 7, size - 1)
                r, rb = get(path, {"Range": f"bytes={a}-{b}"})
                if r.status != 206 or rb != data[a:b + 1]:
                    print(f"FAIL - {path}: range {a}-{b}: {r.status}"); fails += 1
                at += n
print(f"cut {seq}: {len(ents)} composed files, {gz_checked} also through gzip -dc; {six} section pages: "
      f"gzip answers {got6} bytes, their parts deflated alone {alone6} ({got6 / max(alone6, 1):.2f} x)")
if six == 0 or got6 * 10 >= alone6 * 8:
    print("FAIL - the section pages' answers are not under 0.8 x the join of parts deflated alone"); fails += 1
sys.exit(1 if fails else 0)
EOF
}
fails=0
check "$first" || fails=$((fails + 1))
cp active-2 store/active.new && mv store/active.new store/active
for _ in $(seq 600); do
  [ "$(curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/corte.json" | tr -d '\r' | sed -n 's/^x-prep-corte: //Ip')" = "$last" ] && break
  sleep 0.1
done
check "$last" || fails=$((fails + 1))
[ $fails = 0 ] && echo "prep serve national gzip answers: ok" || { echo "FAIL: $fails"; exit 1; }
