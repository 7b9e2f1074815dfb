#!/usr/bin/env bash
# The two servers send the same response policy (issue 18 item 2; include/prep/policy.h):
# `prep serve` and a real Apache 2.4 with `prep apache`'s configuration, on the same cuts,
# are asked for one or more paths of every file class (pages, data, corte.json, hashed
# assets, archived cuts and their signed lists, open data (JSON with CORS, CSV), the section
# lookup (303, 404), errors, redirects, 304, 206, the plain-HTTP
# redirect, the waiting page) over HTTPS with HTTP/1.1 and HTTP/2; cache-control,
# content-security-policy, strict-transport-security, x-content-type-options,
# referrer-policy, x-prep-corte and access-control-allow-origin must be byte-equal (every occurrence of each field: a
# field sent twice differs from one sent once). Then Apache is reloaded with one value of
# its configuration changed and the comparison must fail on that class (the comparison can
# see a difference).
set -euo pipefail
PREP=$1
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
command -v apache2 >/dev/null || { echo "SKIP: apache2 not installed"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-policy-XXXXXX)
chmod 755 "$T" # apache's workers run as nobody
peer_cleanup_on_exit "$T"
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

# --- two signed drill cuts of a tiny process (cut 1 is then the archive)
"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
for at in "2021-06-06 21:00" "2021-06-06 21:05"; do
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub \
    --store inst --drill >/dev/null 2>&1 || { echo "FAIL - cut at $at"; exit 1; }
done
peer_cert cert.pem key.pem
ORIGINS="https://portal.example https://otro.example:8443"

# --- prep serve on an empty store first (the waiting page); the cuts come later
mkdir store
"$PREP" serve --store store --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem \
  --threads 2 --poll-ms 100 --frame-ancestors "$ORIGINS" >serve.out 2>serve.err &
peer_track $!
for _ in $(seq 600); do grep -q "listening on http://" serve.out 2>/dev/null && break; sleep 0.1; done
SP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' serve.out)
SL=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/ (http/1.1, redirects to https)$|\1|p' serve.out)
[ -n "$SP" ] && [ -n "$SL" ] || { echo "FAIL - prep serve did not start: $(cat serve.out serve.err)"; exit 1; }

# --- Apache on a docroot no cut was exported to yet: an empty directory (Apache wants one;
# the export replaces it with its link) and a map that names no cut (Apache refuses to
# start without the file; with no "corte" line the cut is 0, as prep serve's waiting page)
read -r AP AL < <(peer_free_ports 2)
mkdir ap site site.sitios
echo "# no cut exported yet" >site.sitios/corte.map
"$PREP" apache --docroot "$T/site" --server-name localhost --listen 127.0.0.1:$AP --http-listen 127.0.0.1:$AL \
  --tls-cert cert.pem --tls-key key.pem --frame-ancestors "$ORIGINS" --standalone "$T/ap" >ap/httpd.conf
apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -t >ap/t.log 2>&1 || { echo "FAIL - apache2 -t: $(cat ap/t.log)"; exit 1; }
apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -DFOREGROUND >ap/stdout.log 2>&1 &
APID=$!
peer_track $APID
peer_wait_port "$AP" 60 || { echo "FAIL - apache2 did not start: $(cat ap/error.log ap/stdout.log)"; exit 1; }

FIELDS="cache-control content-security-policy strict-transport-security x-content-type-options referrer-policy x-prep-corte access-control-allow-origin"
# head SERVER PROTO PATH [CURL-ARGS...]: the response head of one request, saved as
# h/<n>.<server>.<proto>; prints the file name.
n=0
head_of() {
  local srv=$1 proto=$2 path=$3 url
  shift 3
  case $srv in
    serve) url=https://localhost:$SP$path ;;
    apache) url=https://localhost:$AP$path ;;
    serve-plain) url=http://localhost:$SL$path ;;
    apache-plain) url=http://localhost:$AL$path ;;
  esac
  local f=h/$n.$srv.$proto try
  # a transport failure (no answer at all) is tried again, twice: Apache once answered an
  # HTTP/2 POST with nothing in a loaded CI run; a wrong answer is never retried
  for try in 1 2 3; do
    curl -sS --max-time 30 --cacert cert.pem --resolve "localhost:$SP:127.0.0.1" --resolve "localhost:$AP:127.0.0.1" \
      --resolve "localhost:$SL:127.0.0.1" --resolve "localhost:$AL:127.0.0.1" "--$proto" -o /dev/null -D "$f" \
      "$@" "$url" 2>>curl.err && break
    [ -s "$f" ] && break
    echo "(try $try of $srv $proto $path failed; again)" >>curl.err
    sleep 0.5
  done
  echo "$f"
}
# policy FILE: status, then every policy field as "name: value" (all occurrences, in
# the order of FIELDS; names lowercased, CR stripped).
# One awk for the whole head (a tr and an awk per field were 40 s of this test's 66).
policy() {
  awk -v fields="$FIELDS" 'BEGIN { nf = split(fields, F, " ") }
    { sub(/\r$/, "") }
    NR == 1 { print "status " $2; next }
    { for (i = 1; i <= nf; i++) if (index(tolower($0), F[i] ":") == 1) {
        v = substr($0, length(F[i]) + 2); sub(/^[ \t]+/, "", v); out[i] = out[i] F[i] ": " v "\n" } }
    END { for (i = 1; i <= nf; i++) printf "%s", out[i] }' "$1"
}
# same CLASS PATH [SAME-STATUS] [CURL-ARGS...]: the policy of PATH from both servers over
# HTTP/1.1 and HTTP/2 (only HTTP/1.1 for a path starting with "h1:", over plain HTTP for
# one starting with "plain:") must be equal; SAME-STATUS "any-status" when the statuses may differ (the waiting page).
checked=0
same() {
  local cls=$1 path=$2 st=${3:-} proto a b s1 s2
  [ $# -ge 3 ] && shift 3 || shift 2
  local protos="http1.1 http2" sv=serve av=apache
  if [ "${path#plain:}" != "$path" ]; then path=${path#plain:}; protos=http1.1; sv=serve-plain; av=apache-plain; fi
  if [ "${path#h1:}" != "$path" ]; then path=${path#h1:}; protos=http1.1; fi
  for proto in $protos; do
    n=$((n + 1)); a=$(head_of $sv $proto "$path" "$@")
    n=$((n + 1)); b=$(head_of $av $proto "$path" "$@")
    policy "$a" >"$a.p"
    policy "$b" >"$b.p"
    if [ "$st" = any-status ]; then sed -i 1d "$a.p" "$b.p"; fi
    checked=$((checked + 1))
    if [ ! -s "$a.p" ] || [ "$(grep -c ': ' "$a.p")" -lt 4 ]; then
      bad "$cls $path ($proto): prep serve sent no policy: $(head -1 "$a" 2>/dev/null)"
    elif diff "$a.p" "$b.p" >"$a.d"; then
      ok "$cls $path ($proto): $(sed -n 's/^status //p' "$a.p")$(grep '^cache-control' "$a.p" | sed 's/^cache-control: / /') x-prep-corte $(sed -n 's/^x-prep-corte: //p' "$a.p")"
    else
      bad "$cls $path ($proto): the servers differ (< prep serve, > apache):"
      sed 's/^/    /' "$a.d"
    fi
  done
}
mkdir h

# --- the waiting page (no cut yet): prep serve's 503 page, Apache's 404; the same policy
same waiting / any-status
same waiting /gubernatura/ any-status
same waiting /cortes/1/ any-status
same waiting plain:/gubernatura/?x=1

# --- the cuts arrive: prep serve's store (renamed over the empty directory), Apache's export
cp -a inst store.new
mv -T store.new store
"$PREP" export --store inst --out "$T/site" --link >export.out 2>&1 || { echo "FAIL - export: $(cat export.out)"; exit 1; }
for _ in $(seq 600); do
  [ "$(curl -sS --max-time 2 "http://127.0.0.1:$SL/health" 2>/dev/null)" = "ok corte 2" ] && break
  sleep 0.1
done
[ "$(curl -sS --max-time 2 "http://127.0.0.1:$SL/health")" = "ok corte 2" ] || { echo "FAIL - prep serve did not take cut 2"; exit 1; }

CSV=$(cd site && ls base-de-datos/*.csv | sed -n 1p)
CSS=$(cd site && ls assets/*.css | grep -v '\.gz$\|\.br$')
JS=$(cd site && ls assets/*.js | grep -v '\.gz$\|\.br$')
DEEP=$(cd site && grep -v '^#' SHA256SUMS | awk '{print $2}' | grep '/index.html$' | grep -v '^embebido/' |
  awk -F/ '{print NF " " $0}' | sort -n | tail -1 | cut -d' ' -f2)
DEEP=/${DEEP%index.html}
etag_of() { # SERVER PATH: that server's etag of the identity answer
  local f; n=$((n + 1)); f=$(head_of "$1" http1.1 "$2"); tr -d '\r' <"$f" | sed -n 's/^etag: //Ip'
}
# same304 CLASS PATH: a revalidation with each server's own etag: 304 from both, same policy
same304() {
  local proto a b
  for proto in http1.1 http2; do
    n=$((n + 1)); a=$(head_of serve $proto "$2" -H "If-None-Match: $(etag_of serve "$2")")
    n=$((n + 1)); b=$(head_of apache $proto "$2" -H "If-None-Match: $(etag_of apache "$2")")
    policy "$a" >"$a.p"
    policy "$b" >"$b.p"
    checked=$((checked + 1))
    if grep -q 'status 304' <(head -1 "$a.p") && [ "$(grep -c ': ' "$a.p")" -ge 6 ] && diff "$a.p" "$b.p" >"$a.d"; then
      ok "$1 $2 ($proto): 304$(grep '^cache-control' "$a.p" | sed 's/^cache-control: / /')"
    else
      bad "$1 $2 ($proto): $(head -1 "$a.p") / $(head -1 "$b.p"); differences (< prep serve, > apache):"
      sed 's/^/    /' "$a.d"
    fi
  done
}

# pages: the root, a deep page, the embedded tree, the database page
same page /
same page "$DEEP"
same page /gubernatura/
same page /embebido/
same page /base-de-datos/
same page /gubernatura/index.html
# data: the database files and the cut's signed list
same data "/$CSV"
same data /base-de-datos/LEEME.txt
same data /SHA256SUMS
same data /SHA256SUMS.sig
# corte.json
same poll /corte.json
# open data (issue 16): the JSON files with access-control-allow-origin, the CSV without
SEC=$(cd site && ls seccion | grep '^[0-9]\{4\}$' | sed -n 1p)
same open-data-json /gubernatura/datos.json
same open-data-json "/seccion/$SEC/datos.json"
same open-data-json /datos/esquema.json
same open-data-csv /gubernatura/datos.csv
same archive-json /cortes/1/gubernatura/datos.json
# the section lookup: 303 to the section, 404 with the cut's page
same lookup-303 "/seccion/?n=$((10#$SEC))"
same lookup-404 "/seccion/?n=99999"
same lookup-404 "/seccion/?n=abc"
# assets named by their hash
same asset "/$CSS"
same asset "/$JS"
# archived cut 1: a page, its corte.json, an asset, its signed list
same archive /cortes/1/
same archive /cortes/1/gubernatura/
same archive /cortes/1/corte.json
same archive "/cortes/1/$CSS"
same archive /cortes/1/SHA256SUMS
same archive /cortes/1/SHA256SUMS.sig
same archive /cortes/2/index.html
# compressed representations keep their file's policy
same page-br /gubernatura/ "" -H "Accept-Encoding: br"
same asset-gzip "/$CSS" "" -H "Accept-Encoding: gzip"
# 206 and 304 carry the file's class
same data-206 "/$CSV" "" -H "Range: bytes=0-9"
same304 page-304 /gubernatura/
same304 asset-304 "/$CSS"
same304 archive-304 /cortes/1/SHA256SUMS
# errors: whatever the path's class, no-cache
same error-404 /no-existe.html
same error-404 /no-existe/
same error-404 /assets/app.css
same error-404 /assets/app.0123456789ab.css
same error-404 /base-de-datos/no-existe.csv
same error-404 /cortes/1/no-existe.html
same error-404 /cortes/99/index.html
same error-404 /cortes/012/index.html
same error-405 / "" -X POST -d x=1
# (HTTP/1.1 only: Apache's mod_http2 sends a 416 with every field twice, the 200's values
# and the error's: docs/apache.md)
same error-416 "h1:/$CSV" "" -H "Range: bytes=999999999-"
# redirects
same redirect /gubernatura
same redirect /cortes/1
same redirect /cortes/1/gubernatura
same redirect-plain plain:/gubernatura/?x=1
same redirect-plain plain:/cortes/1/SHA256SUMS

echo "  $checked comparisons"
if grep -qE '\[[a-z_0-9]+:(error|crit|alert|emerg)\]' ap/error.log; then
  bad "apache logged errors: $(grep -E ':(error|crit|alert|emerg)\]' ap/error.log | sed -n 1,3p)"
fi

# --- the comparison sees a difference: Apache reloaded with the asset class's value changed
if [ $fails = 0 ]; then
  sed -i "s|\"public, max-age=31536000, immutable\" \"expr=\(.*\)'asset'\"|\"public, max-age=31536001, immutable\" \"expr=\1'asset'\"|" ap/httpd.conf
  grep -q 'max-age=31536001' ap/httpd.conf || bad "self-check: the asset line was not found in httpd.conf"
  starts=$(grep -c 'resuming normal operations' ap/error.log || true)
  kill -USR1 $APID # graceful restart: the new configuration
  for _ in $(seq 600); do
    [ "$(grep -c 'resuming normal operations' ap/error.log || true)" -gt "$starts" ] && break
    sleep 0.1
  done
  before=$fails
  same asset "/$CSS" >self.out || true
  cat self.out | sed 's/^/  self-check: /'
  fails=$before
  if grep -q '^FAIL' self.out && grep -q 'max-age=31536001' self.out; then ok "self-check: a changed Apache value fails the comparison"
  else bad "self-check: a changed Apache value was not seen"; fi
fi

if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' serve.err; then bad "sanitizer report: $(head -5 serve.err)"; fi
if [ $fails -ne 0 ]; then echo "response_policy: $fails failed"; exit 1; fi
echo "response_policy: prep serve and Apache send the same policy for every class ($checked comparisons)"
