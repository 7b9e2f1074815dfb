#!/usr/bin/env bash
# prep serve with real clients: HTTP/1.1 keep-alive, HTTP/2 over TLS (curl --http2, nghttp),
# ALPN, TLS 1.1 refused, plain -> https redirect, HEAD, 304, Range, gzip/br negotiation
# byte-compared to the exported files, /health, /metrics counters moving, the access-log
# line format, a second cut picked up while serving, and h2load with no failure.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && cat err.txt; exit 1; }

"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-06 21:00" --key drill.key --pubkey drill.pub \
  --store store --drill >/dev/null 2>&1
"$PREP" export --store store --out site >/dev/null 2>&1
peer_cert cert.pem key.pem

# Ports 0: the kernel picks free ones; the server prints them.
"$PREP" serve --store store --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem \
  --threads 2 --access-log access.log --poll-ms 100 --frame-ancestors "https://portal.example" >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on http://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
LP=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/ (http/1.1, redirects to https)$|\1|p' out.txt)
[ -n "$HP" ] && [ -n "$LP" ] || fail "no listening lines: $(cat out.txt)"
grep -q "^prep serve: corte 1 activo (" out.txt || fail "no cut line"
S=https://127.0.0.1:$HP
C=(curl -sS --max-time 10 --cacert cert.pem)

# HTTP/1.1 keep-alive: two requests, one connection.
"${C[@]}" --http1.1 -v -o /dev/null "$S/" -o /dev/null "$S/corte.json" 2>v.txt
grep -q "Re-using existing connection" v.txt || fail "HTTP/1.1 keep-alive not used"
grep -q "< HTTP/1.1 200" v.txt || fail "no HTTP/1.1 200"
# HTTP/2 over TLS, ALPN h2 chosen; and http/1.1 chosen when the client offers only it.
"${C[@]}" --http2 -v -o /dev/null "$S/" 2>v2.txt
grep -q "ALPN: server accepted h2" v2.txt || fail "ALPN h2 not accepted"
grep -q "< HTTP/2 200" v2.txt || fail "no HTTP/2 200"
"${C[@]}" --http1.1 -v -o /dev/null "$S/" 2>v3.txt
grep -q "ALPN: server accepted http/1.1" v3.txt || fail "ALPN http/1.1 not accepted"
nghttp -n "$S/corte.json" >/dev/null 2>&1 || fail "nghttp failed"
# Header policy pieces the network layer owns: HSTS over HTTPS, CSP frame-ancestors.
"${C[@]}" --http2 -D h.txt -o /dev/null "$S/"
grep -qi "^strict-transport-security: max-age=31536000" h.txt || fail "no HSTS"
grep -qi "^content-security-policy: .*frame-ancestors 'self' https://portal.example" h.txt || fail "CSP"
grep -qi "^x-prep-corte: 1" h.txt || fail "x-prep-corte"
# TLS 1.1 refused; TLS 1.2 accepted.
if "${C[@]}" --tls-max 1.1 -o /dev/null "$S/" 2>/dev/null; then fail "TLS 1.1 accepted"; fi
"${C[@]}" --tlsv1.2 --tls-max 1.2 -o /dev/null "$S/" || fail "TLS 1.2 refused"

# Plain -> HTTPS redirect keeps path and query; /health still answers on plain.
"${C[@]}" -D r.txt -o /dev/null "http://127.0.0.1:$LP/gubernatura/?a=1"
grep -q "^HTTP/1.1 301" r.txt || fail "no 301 on plain"
grep -qi "^location: https://127.0.0.1:$HP/gubernatura/?a=1" r.txt || fail "bad location: $(grep -i location r.txt)"
[ "$("${C[@]}" "http://127.0.0.1:$LP/health")" = "ok corte 1" ] || fail "/health on plain"
grep -qi "^strict-transport-security" r.txt && fail "HSTS over plain HTTP"

# HEAD: same length, no body.
"${C[@]}" --http1.1 -I -o head1.txt "$S/corte.json"
grep -qi "^content-length: $(stat -c %s site/corte.json)" head1.txt || fail "HEAD content-length"
"${C[@]}" --http2 -I -o head2.txt "$S/corte.json"
grep -qi "^content-length: $(stat -c %s site/corte.json)" head2.txt || fail "HEAD h2 content-length"

# Bodies equal the exported files: identity, gzip (decoded by gunzip), br (decoded by curl).
F=base-de-datos/LEEME.txt
for proto in --http1.1 --http2; do
  "${C[@]}" $proto -H 'accept-encoding: identity' -o id.bin "$S/$F"
  cmp -s id.bin "site/$F" || fail "$proto identity body differs"
  "${C[@]}" $proto -H 'accept-encoding: gzip' -D gz.h -o gz.bin "$S/$F"
  grep -qi "^content-encoding: gzip" gz.h || fail "$proto no gzip"
  gunzip -c gz.bin | cmp -s - "site/$F" || fail "$proto gzip body differs"
  "${C[@]}" $proto --compressed -H 'accept-encoding: br' -D br.h -o br.bin "$S/$F"
  grep -qi "^content-encoding: br" br.h || fail "$proto no br"
  cmp -s br.bin "site/$F" || fail "$proto br body differs"
done
# 304 with the ETag just received; Range 206 with the right bytes.
"${C[@]}" --http1.1 -H 'accept-encoding: identity' -D id.h -o /dev/null "$S/$F"
ET=$(sed -n 's/^etag: *\(.*\)\r$/\1/Ip' id.h)
[ -n "$ET" ] || fail "no etag"
for proto in --http1.1 --http2; do
  code=$("${C[@]}" $proto -H 'accept-encoding: identity' -H "if-none-match: $ET" -o /dev/null -w '%{http_code}' "$S/$F")
  [ "$code" = 304 ] || fail "$proto expected 304, got $code"
  "${C[@]}" $proto -H 'accept-encoding: identity' -r 10-19 -D rg.h -o rg.bin "$S/$F"
  grep -q " 206" rg.h || fail "$proto no 206"
  cmp -s rg.bin <(head -c 20 "site/$F" | tail -c 10) || fail "$proto range bytes differ"
done
# A method other than GET/HEAD: 405 with allow.
"${C[@]}" --http1.1 -X POST -D p.h -o /dev/null "$S/" || true
grep -q "^HTTP/1.1 405" p.h && grep -qi "^allow: GET, HEAD" p.h || fail "POST not 405"
code=$("${C[@]}" --http2 -X POST -d x -o /dev/null -w '%{http_code}' "$S/")
[ "$code" = 405 ] || fail "HTTP/2 POST gave $code"
# HTTP/2 request fields over 16 KiB: 431 on that stream.
big=$(head -c 17000 /dev/zero | tr '\0' a)
code=$("${C[@]}" --http2 -H "x-big: $big" -o /dev/null -w '%{http_code}' "$S/")
[ "$code" = 431 ] || fail "HTTP/2 big fields gave $code"

# /metrics counters move.
m1=$("${C[@]}" "$S/metrics" | sed -n 's/^prep_http_requests_total{status="200"} //p')
"${C[@]}" -o /dev/null "$S/" -o /dev/null "$S/" -o /dev/null "$S/"
m2=$("${C[@]}" "$S/metrics" | sed -n 's/^prep_http_requests_total{status="200"} //p')
[ $((m2 - m1)) -ge 4 ] || fail "metrics did not move: $m1 -> $m2"
grep -q '^prep_serve_active_cut_sequence 1$' <("${C[@]}" "$S/metrics") || fail "metrics cut sequence"
grep -q '^prep_serve_connections_total [1-9]' <("${C[@]}" "$S/metrics") || fail "metrics connections"

# Access log: combined format, flushed within a second or two.
"${C[@]}" --http1.1 -A "probe/1.0" -e "https://ref.example/x" -o /dev/null "$S/corte.json?q=%22"
sleep 2.2
grep -Eq '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "GET /corte.json\?q=%22 HTTP/1\.1" 200 [0-9]+ "https://ref\.example/x" "probe/1\.0"$' access.log \
  || fail "access log line: $(tail -3 access.log)"
grep -q '"GET / HTTP/2.0" 200 ' access.log || fail "no HTTP/2 line in the access log"

# h2load: HTTP/2 and HTTP/1.1 over TLS, no failure.
h2load -n 2000 -c 10 -m 10 "$S/" >h2l.txt 2>&1 || fail "h2load: $(tail -5 h2l.txt)"
grep -q "2000 succeeded, 0 failed, 0 errored" h2l.txt || fail "h2load: $(grep requests: h2l.txt)"
h2load --h1 -n 2000 -c 10 -m 10 "$S/corte.json" >h1l.txt 2>&1 || fail "h2load --h1"
grep -q "2000 succeeded, 0 failed, 0 errored" h1l.txt || fail "h2load --h1: $(grep requests: h1l.txt)"

# A second cut is picked up while serving; a response in flight keeps its version.
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-06 23:00" --key drill.key --pubkey drill.pub \
  --store store --drill >/dev/null 2>&1
for _ in $(seq 50); do
  "${C[@]}" --http2 -D h.txt -o /dev/null "$S/corte.json"
  grep -qi "^x-prep-corte: 2" h.txt && break
  sleep 0.1
done
grep -qi "^x-prep-corte: 2" h.txt || fail "cut 2 not picked up"
grep -q "^prep serve: corte 2 activo (" out.txt || fail "no cut-switch line"
[ "$("${C[@]}" "$S/health")" = "ok corte 2" ] || fail "/health after the switch"
peer_stop "$SPID" || fail "server exit status"
echo "prep serve: HTTP/1.1, HTTP/2, TLS floor, redirect, conditionals, ranges, codings, health, metrics, access log, cut switch, h2load: ok"
