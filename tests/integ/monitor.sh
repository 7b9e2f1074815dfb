#!/usr/bin/env bash
# prep monitor against real broadcasters on loopback: one nginx over TLS (self-signed
# ECDSA certificate) with one server block per broadcaster, serving exports of a store
# with three signed drill cuts:
#   a   the latest cut (3)                          -> green
#   b   cut 1                                       -> amber or red, "stale, 2 cuts behind"
#   c   cut 3 with one page's bytes changed         -> red "modified page <path>", evidence
#   d   a closed port                               -> red "unreachable"
#   f   cut 3 with an altered SHA256SUMS            -> red "manifest not signed by the institute"
#   e   cut 3, certificate expiring in 3 days       -> amber "certificate expires in 2 (or 3) days"
#   g   cut 3, a certificate the monitor does not trust -> red "certificate not valid"
#   h   cut 3 serving cut 2's SHA256SUMS.sig           -> red "SHA256SUMS.sig is not the
#       institute's signature of this cut" (every round: the signature is not sampled)
#   i   cut 3 without SHA256SUMS.sig                   -> red "missing SHA256SUMS.sig"
#   j   a cut switch between the fetches: SHA256SUMS (and .sig) of cut 3, pages of cut 2
#       whose own x-prep-corte header and stamp say 2 -> no page modified (judged against
#       cut 2); serving cut 2, one behind, green "cut 3 pending"
#   k   j with index.html changed                      -> red "modified page index.html"
#   l   (own store of 71 cuts) cut 1, 70 cuts behind   -> "stale, 70 cuts behind", never
#       "not signed", in two rounds (the second from the monitor's cut index)
# Also: a bad config exits 2 with line:column; a second round keeps history and rotates
# the sample; board files are complete.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
chmod 755 "$T"

fail() { echo "monitor.sh: FAIL: $*" >&2; [ -f out/board.json ] && cat out/board.json >&2; exit 1; }

# Free ports: bound to :0 by the kernel, then released (nginx takes them right after).
read -r PA PB PC PD PE PF PG PH PI PJ PK PL < <(peer_free_ports 12)

"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
for at in "2021-06-06 21:00" "2021-06-06 23:00" "2021-06-07 03:00"; do
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --store store --drill >/dev/null 2>&1
done
"$PREP" export --store store --out siteA >/dev/null 2>&1
"$PREP" export --store store --cut 1 --out siteB >/dev/null 2>&1
"$PREP" export --store store --out siteC --copy >/dev/null 2>&1
"$PREP" export --store store --out siteF --copy >/dev/null 2>&1
"$PREP" export --store store --out siteH --copy >/dev/null 2>&1
"$PREP" export --store store --out siteI --copy >/dev/null 2>&1

# c: one page changed (a copy, so the other exports stay intact)
PAGE=$(cd siteC && find gubernatura -name index.html | LC_ALL=C sort | sed -n 1p)
[ -n "$PAGE" ] || fail "no gubernatura page in the export"
EXPECTED=$(grep "  $PAGE\$" siteC/SHA256SUMS | cut -d' ' -f1)
sed 's/<\/body>/<p>publicidad<\/p><\/body>/' "siteC/$PAGE" > page.new
rm -f "siteC/$PAGE"; mv page.new "siteC/$PAGE"
FOUND=$(sha256sum "siteC/$PAGE" | cut -d' ' -f1)
[ "$EXPECTED" != "$FOUND" ] || fail "the page was not changed"
# f: SHA256SUMS that no cut of the store has (a line added)
rm -f siteF/SHA256SUMS; { cat siteA/SHA256SUMS; echo "# otro"; } > siteF/SHA256SUMS
# h: a real institute signature, of another cut; i: none
rm -f siteH/SHA256SUMS.sig; cp store/cuts/2/manifest.sig siteH/SHA256SUMS.sig
cmp -s siteH/SHA256SUMS.sig store/cuts/3/manifest.sig && fail "h: the signatures of cuts 2 and 3 are equal"
rm -f siteI/SHA256SUMS.sig
# j: what the monitor sees of a broadcaster that switched cuts between its SHA256SUMS fetch
# and its page fetches: SHA256SUMS and signature of cut 3, pages of cut 2 (each naming cut
# 2 in its x-prep-corte header, as prep serve and the Apache config send it, and in its
# stamp); k: the same with index.html changed
"$PREP" export --store store --cut 2 --out siteJ --copy >/dev/null 2>&1
rm -f siteJ/SHA256SUMS siteJ/SHA256SUMS.sig
cp siteA/SHA256SUMS siteA/SHA256SUMS.sig siteJ/
cmp -s siteJ/index.html siteA/index.html && fail "j: cuts 2 and 3 have the same index.html"
grep -q 'data-corte="2"' siteJ/index.html || fail "j: index.html of cut 2 has no stamp"
cp -r siteJ siteK
rm -f siteK/index.html
sed 's/<\/body>/<p>publicidad<\/p><\/body>/' siteJ/index.html > siteK/index.html
cmp -s siteJ/index.html siteK/index.html && fail "k: index.html was not changed"
# l: a store of 71 cuts, and a broadcaster still serving its cut 1 (70 behind, more than the
# 64 cuts the monitor used to remember)
for i in $(seq 0 70); do
  printf -v at '2021-06-06 %02d:%02d' $((21 + i / 60)) $((i % 60))
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --store store71 --drill >/dev/null 2>&1
done
[ "$(ls store71/cuts | wc -l)" = 71 ] || fail "store71 has $(ls store71/cuts | wc -l) cuts"
"$PREP" export --store store71 --cut 1 --out siteL >/dev/null 2>&1

peer_cert cert.pem cert.key 60
peer_cert short.pem short.key 3
peer_cert other.pem other.key 60

mkdir -p logs
USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
server() { # port root cert [extra directive]
  cat <<EOF
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $T/$3.pem;
    ssl_certificate_key $T/$3.key;
    root $T/$2;
    ${4:-}
  }
EOF
}
{
  cat <<EOF
$USER_LINE
worker_processes 1;
error_log $T/logs/error.log;
pid $T/logs/nginx.pid;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  types { application/json json; }
  access_log $T/logs/access.log;
  client_body_temp_path $T/logs/b;
  proxy_temp_path $T/logs/p;
  fastcgi_temp_path $T/logs/f;
  uwsgi_temp_path $T/logs/u;
  scgi_temp_path $T/logs/s;
  gzip_static on;
EOF
  server "$PA" siteA cert
  server "$PB" siteB cert
  server "$PC" siteC cert
  server "$PE" siteA short
  server "$PF" siteF cert
  server "$PG" siteA other
  server "$PH" siteH cert
  server "$PI" siteI cert
  server "$PJ" siteJ cert 'add_header x-prep-corte 2 always;'
  server "$PK" siteK cert 'add_header x-prep-corte 2 always;'
  server "$PL" siteL cert
  echo "}"
} > nginx.conf
nginx -p "$T" -c "$T/nginx.conf" -g 'daemon off;' 2>logs/stderr &
peer_track $!
for _ in $(seq 50); do
  curl -s --cacert cert.pem -o /dev/null "https://127.0.0.1:$PA/index.html" && break
  sleep 0.1
done
curl -sf --cacert cert.pem -o /dev/null "https://127.0.0.1:$PA/index.html" || { cat logs/stderr logs/error.log; fail "nginx did not start"; }

bc() { printf '{"id": "%s", "url": "https://127.0.0.1:%s/", "ca_file": "%s"}' "$1" "$2" "$3"; }
cat > c.json <<EOF
{"store": "store", "out": "out", "interval_seconds": 30, "sample": 12, "amber_lag_seconds": 120,
 "red_lag_seconds": 600, "cert_warn_days": 14, "timeout_seconds": 5,
 "broadcasters": [$(bc a "$PA" cert.pem), $(bc b "$PB" cert.pem), $(bc c "$PC" cert.pem),
                  $(bc d "$PD" cert.pem), $(bc f "$PF" cert.pem), $(bc e "$PE" short.pem),
                  $(bc g "$PG" cert.pem), $(bc h "$PH" cert.pem), $(bc i "$PI" cert.pem),
                  $(bc j "$PJ" cert.pem), $(bc k "$PK" cert.pem)]}
EOF
# "sample": 12 samples 10 rotating paths a round, so c's changed page is found within 11
# rounds (101 paths); the loop below runs rounds until it is.

set +e
"$PREP" monitor --config c.json --once > round1.txt 2> round1.err
rc=$?
set -e
[ $rc -eq 1 ] || { cat round1.txt round1.err; fail "exit status $rc, expected 1"; }

field() { # id key
  python3 -c 'import json,sys
b=json.load(open("out/board.json"))
r=[x for x in b["broadcasters"] if x["id"]==sys.argv[1]][0]
v=r[sys.argv[2]]
print("" if v is None else v)' "$1" "$2"
}
[ "$(field a state)" = green ] || fail "a: $(field a state) $(field a reason)"
[ "$(field a serving_cut)" = 3 ] && [ "$(field a cuts_behind)" = 0 ] || fail "a: not serving cut 3"
[ "$(field a cert_days_left)" -ge 58 ] || fail "a: cert days $(field a cert_days_left)"
case "$(field b state)" in amber|red) ;; *) fail "b: $(field b state)";; esac
grep -q "stale, 2 cuts behind" <(field b reason) || fail "b: $(field b reason)"
[ "$(field b serving_cut)" = 1 ] && [ "$(field b cuts_behind)" = 2 ] || fail "b: cut/behind"
[ "$(field d state)" = red ] && grep -q "^unreachable" <(field d reason) || fail "d: $(field d reason)"
[ "$(field f state)" = red ] && grep -q "manifest not signed by the institute" <(field f reason) || fail "f: $(field f reason)"
[ "$(field e state)" = amber ] && grep -Eq "certificate expires in [23] days" <(field e reason) || fail "e: $(field e reason)"
[ "$(field g state)" = red ] && grep -q "certificate not valid" <(field g reason) || fail "g: $(field g reason)"
[ "$(field h state)" = red ] && grep -qx "SHA256SUMS.sig is not the institute's signature of this cut" <(field h reason) ||
  fail "h: $(field h state) $(field h reason)"
[ "$(field i state)" = red ] && grep -q "^missing SHA256SUMS.sig (HTTP 404)" <(field i reason) || fail "i: $(field i reason)"
# j: every page fetched has the bytes of cut 2, the cut its own header and stamp name:
# honest, though SHA256SUMS was cut 3's; k: a changed page matches no cut it names
# (and the row says it serves cut 2, one behind: old pages under a new SHA256SUMS are not
# "current"; cut 3 is seconds old, so that is a delivery in progress, green)
[ "$(field j state)" = green ] && [ "$(field j serving_cut)" = 2 ] && [ "$(field j cuts_behind)" = 1 ] ||
  fail "j: $(field j state) $(field j serving_cut) $(field j reason)"
grep -q "^serving cut 2; cut 3 pending for " <(field j reason) || fail "j: $(field j reason)"
[ "$(field j pages_bad)" = 0 ] || fail "j: pages_bad $(field j pages_bad)"
python3 - <<'PY' || fail "j: evidence"
import json
lines = [json.loads(l) for l in open("out/evidence/j.jsonl")]
pages = [l for l in lines if l["kind"] == "page" and l["path"] != "SHA256SUMS.sig"]
# a page that cuts 2 and 3 share (an asset) matches cut 3, the one sampled; the others cut 2
assert pages and all(l["verdict"] == "identical" and l["cut"] in (2, 3) and l["x_prep_corte"] == 2 for l in pages), pages
idx = [l for l in pages if l["path"] == "index.html"]
assert idx and idx[0]["stamp_corte"] == 2 and idx[0]["cut"] == 2, idx
sig = [l for l in lines if l["path"] == "SHA256SUMS.sig"]
assert sig and sig[0]["verdict"] == "identical" and sig[0]["cut"] == 3, sig
PY
[ "$(field k state)" = red ] && grep -qx "modified page index.html" <(field k reason) || fail "k: $(field k state) $(field k reason)"
# a serves the right signature: it is fetched and logged as identical
grep -q '"verdict":"identical"' <(grep '"path":"SHA256SUMS.sig"' out/evidence/a.jsonl) || fail "a: no identical signature in the evidence"
# c: the sample may not have reached the changed page in round 1; rounds rotate until it
# does (a tiny cut of 101 paths, at least 3 rotating paths per round).
for round in $(seq 2 60); do
  [ "$(field c state)" = red ] && break
  "$PREP" monitor --config c.json --once > /dev/null 2>&1 || true
done
[ "$(field c state)" = red ] || fail "c: never found red"
grep -qx "modified page $PAGE" <(field c reason) || fail "c: $(field c reason)"
python3 - "$PAGE" "$EXPECTED" "$FOUND" <<'EOF' || fail "c: evidence"
import json, sys
page, exp, found = sys.argv[1:]
lines = [json.loads(l) for l in open("out/evidence/c.jsonl")]
hit = [l for l in lines if l["path"] == page and l["kind"] == "page" and l["verdict"] == "modified"]
assert hit, "no modified line for " + page
h = hit[-1]
assert h["expected_sha256"] == exp and h["found_sha256"] == found, h
assert h["http_code"] == 200 and h["url"].endswith("/" + page), h
ok = [l for l in lines if l["kind"] == "page" and l["verdict"] == "identical"]
assert ok, "no identical page logged"
enc = [l for l in lines if l["kind"] == "page-encoded"]
assert enc and any(l["content_encoding"] in ("gzip", "br") for l in enc), "no encoded fetch decoded"
man = [l for l in lines if l["kind"] == "manifest"]
assert man[0]["verdict"] == "current" and man[0]["cert_expires"], man[0]
EOF
# d's evidence names the failure; a's history grew with the rounds; a's sample rotated.
grep -q '"verdict":"error"' out/evidence/d.jsonl || fail "d: evidence"
python3 - <<'EOF' || fail "history/rotation"
import json
b = json.load(open("out/board.json"))
a = [x for x in b["broadcasters"] if x["id"] == "a"][0]
assert len(a["history"]) >= 2 and all(h["state"] == "green" for h in a["history"]), a["history"]
paths = {json.loads(l)["path"] for l in open("out/evidence/a.jsonl")}
assert len(paths) > 8, len(paths)
s = json.load(open("out/state.json"))
assert s["broadcasters"]["a"]["cursor"], s["broadcasters"]["a"]
EOF
grep -qx 'prep_monitor_broadcaster_state{id="a"} 0' out/metrics.prom || fail "metrics a"
grep -qx 'prep_monitor_broadcaster_state{id="d"} 2' out/metrics.prom || fail "metrics d"
grep -qx 'prep_monitor_cuts_behind{id="b"} 2' out/metrics.prom || fail "metrics b"
grep -Eq '^prep_monitor_cert_days_left\{id="e"\} [23]$' out/metrics.prom || fail "metrics e"
grep -q '^prep_monitor_lag_seconds{id="a"} ' out/metrics.prom || fail "metrics lag"
grep -q '<meta http-equiv="refresh" content="30">' out/index.html || fail "html refresh"
grep -q 'modified page' out/index.html || fail "html reason"
if grep -Eq '(src|href)="(https?:)?//' out/index.html; then fail "html makes an external request"; fi

# l: a cut 70 behind the store's latest is a cut the institute signed: behind, not unsigned,
# in the first round (read from the store) and the second (from the monitor's index)
cat > l.json <<EOF
{"store": "store71", "out": "out-l", "broadcasters": [$(bc l "$PL" cert.pem)]}
EOF
for round in 1 2; do
  set +e; "$PREP" monitor --config l.json --once > /dev/null 2>&1; rc=$?; set -e
  [ $rc -eq 1 ] || fail "l: round $round: exit status $rc: $(cat out-l/board.json)"
  python3 - <<'PY' || fail "l: round $round: $(cat out-l/board.json)"
import json
r = json.load(open("out-l/board.json"))["broadcasters"][0]
assert r["state"] in ("amber", "red") and r["serving_cut"] == 1 and r["cuts_behind"] == 70, r
assert r["reason"].startswith("stale, 70 cuts behind (serving cut 1;"), r["reason"]
man = [json.loads(l) for l in open("out-l/evidence/l.jsonl") if '"kind":"manifest"' in l]
assert all(m["verdict"] == "stale" for m in man), man
PY
done
python3 -c 'import json; s=json.load(open("out-l/state.json")); assert len(s["cuts"]) == 71, len(s["cuts"])' ||
  fail "l: the monitor's cut index does not hold the 71 cuts"

# A config with every broadcaster green exits 0.
cat > green.json <<EOF
{"store": "store", "out": "out-green", "broadcasters": [$(bc a "$PA" cert.pem)]}
EOF
"$PREP" monitor --config green.json --once > /dev/null || fail "all-green config did not exit 0"

# The daemon: rounds every interval until SIGTERM, then exit 0.
cat > daemon.json <<EOF
{"store": "store", "out": "out-daemon", "interval_seconds": 5, "broadcasters": [$(bc a "$PA" cert.pem)]}
EOF
"$PREP" monitor --config daemon.json > daemon.txt 2>&1 &
DPID=$!
for _ in $(seq 100); do [ "$(grep -c '^round:' daemon.txt)" -ge 2 ] && break; sleep 0.1; done
kill -TERM "$DPID"
set +e; wait "$DPID"; rc=$?; set -e
[ $rc -eq 0 ] || { cat daemon.txt; fail "daemon exit $rc after SIGTERM"; }
[ "$(grep -c '^round:' daemon.txt)" -ge 2 ] || { cat daemon.txt; fail "daemon did not repeat its round"; }
python3 -c 'import json; b=json.load(open("out-daemon/board.json")); assert len(b["broadcasters"][0]["history"]) >= 2' \
  || fail "daemon history"

# Bad config: exit 2, located.
printf '{"store": "store", "out": "out",\n "sample": "many", "broadcasters": []}\n' > bad.json
set +e
"$PREP" monitor --config bad.json --once > /dev/null 2> bad.err
rc=$?
set -e
[ $rc -eq 2 ] || fail "bad config exit $rc"
grep -q 'bad.json:2:12: config-field' bad.err || { cat bad.err; fail "bad config not located"; }
echo "monitor: a green, b stale, c modified page, d unreachable, e expiring, f unknown manifest, g untrusted, h other cut's signature, i no signature, j switched cut (honest), k switched and modified, l 70 cuts behind: all classified"
