#!/usr/bin/env bash
# Apache mode end to end (docs/apache.md): a broadcaster's store receives signed drill
# cuts and exports them with --link; `prep apache --standalone` prints the config; a real
# apache2 serves it on a free loopback port over TLS (self-signed ECDSA). curl checks the
# response policy (types, twins, identity, 304, HEAD, Range, 404, no listing, 405, every
# policy field, HSTS, h2, TLS 1.1 refused), then 10 cuts are activated with
# `prep receive --export --link` while two request loops run: no request may fail, and
# every body must be the bytes the manifest of the cut named by x-prep-corte lists.
set -u
PREP=${1:?usage: apache_mode.sh PATH-TO-prep}
. "$(dirname "$0")/lib/store.sh"
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
command -v apache2 >/dev/null || { echo "SKIP: apache2 not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-apache-XXXXXX)
chmod 755 "$T" # apache's workers run as nobody
cleanup() {
  [ -f "$T/ap/loop.stop" ] || touch "$T/ap/loop.stop" 2>/dev/null
  for p in ${LOOPS:-} ${WPID:-}; do kill "$p" 2>/dev/null; done
  if [ -s "$T/ap/httpd.pid" ]; then
    local pid; pid=$(cat "$T/ap/httpd.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
is() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi; }

# --- the institute: a tiny process, 13 signed drill cuts 5 minutes apart
"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
start=$(TZ=America/Mexico_City date -d '2021-06-06 21:00' +%s)
for i in $(seq 0 12); do
  at=$(TZ=America/Mexico_City date -d "@$((start + 300 * i))" '+%Y-%m-%d %H:%M')
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub \
    --store inst --drill >/dev/null 2>&1 || { echo "FAIL - cut at $at"; exit 1; }
done
now_of() { TZ=America/Mexico_City date -d "@$((start + 300 * ($1 - 1) + 60))" '+%Y-%m-%dT%H:%M:%S%:z'; }

# An incoming area with cut SEQ and only the objects it references (a pusher's upload).
incoming() {
  local seq=$1 dir=$2
  rm -rf "$dir"; mkdir -p "$dir/cuts/$seq"
  cp inst/cuts/$seq/manifest inst/cuts/$seq/manifest.sig "$dir/cuts/$seq/"
  store_objects_of "inst/cuts/$seq/manifest" | store_copy_objects inst "$dir"
}

# --- the broadcaster: receive cut 1 and export it as a switched link
incoming 1 in1
out=$("$PREP" receive --store bstore --from in1 --pubkey drill.pub --drill --now "$(now_of 1)" \
        --export "$T/site" --link 2>&1)
if [ -L site ] && [ "$(readlink site)" = site.sitios/1 ]; then ok "receive --export --link: site -> site.sitios/1"
else bad "receive --export --link: $out"; fi
grep -qx "corte 1" site.sitios/corte.map && ok "corte.map names cut 1" || bad "corte.map: $(cat site.sitios/corte.map)"
(cd site && sha256sum -c --strict --quiet SHA256SUMS) && ok "the linked tree passes sha256sum -c" || bad "sha256sum -c"

# --- the config and the server
mkdir ap
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ap/key.pem -out ap/cert.pem \
  -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
  2>/dev/null
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port)
HPORT=$(free_port)
ORIGINS="https://portal.example https://otro.example:8443"
"$PREP" apache --docroot "$T/site" --server-name localhost --listen 127.0.0.1:$PORT \
  --http-listen 127.0.0.1:$HPORT --tls-cert ap/cert.pem --tls-key ap/key.pem \
  --frame-ancestors "$ORIGINS" --standalone "$T/ap" > ap/httpd.conf || { echo "FAIL - prep apache"; exit 1; }
"$PREP" apache --docroot "$T/site" --server-name localhost > ap/vhost.conf
grep -q "a2enmod ssl headers rewrite http2 mime" ap/vhost.conf && ! grep -q "^LoadModule" ap/vhost.conf &&
  ok "default output: a Debian vhost snippet" || bad "default output is not a vhost snippet"
"$PREP" apache --docroot "$T/site" --server-name 'bad"name' >/dev/null 2>&1; is "a bad server name is refused" $? 2
"$PREP" apache --docroot "$T/site" --server-name x --listen 127.0.0.1:99999 >/dev/null 2>&1
is "a bad port is refused" $? 2
apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -t >ap/t.log 2>&1 && ok "apache2 -t accepts the config" ||
  { bad "apache2 -t"; cat ap/t.log; exit 1; }
apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -DFOREGROUND >ap/stdout.log 2>&1 &
U=https://localhost:$PORT
C=(curl -sS -k --resolve "localhost:$PORT:127.0.0.1" --max-time 10)
for _ in $(seq 100); do "${C[@]}" -o /dev/null "$U/corte.json" 2>/dev/null && break; sleep 0.1; done
[ -s ap/httpd.pid ] || { echo "FAIL - apache2 did not start"; cat ap/error.log ap/stdout.log; exit 1; }

# field VALUE of NAME in a saved head (case-insensitive name, CR stripped)
field() { grep -i "^$2:" "$1" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
status() { head -1 "$1" | awk '{print $2}'; }

CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self' $ORIGINS"
policy_fields() { # HEAD-FILE WHAT
  is "$2: x-content-type-options" "$(field "$1" x-content-type-options)" nosniff
  is "$2: referrer-policy" "$(field "$1" referrer-policy)" strict-origin-when-cross-origin
  is "$2: content-security-policy" "$(field "$1" content-security-policy)" "$CSP"
  is "$2: strict-transport-security" "$(field "$1" strict-transport-security)" "max-age=31536000"
}
PAGE=gubernatura/index.html
CSV=$(cd site && ls base-de-datos/*.csv | head -1)
CSS=$(cd site && ls assets/*.css | head -1)
"${C[@]}" -D h.page -o b.page "$U/gubernatura/"
is "page: 200" "$(status h.page)" 200
is "page: content-type with charset" "$(field h.page content-type)" "text/html; charset=utf-8"
cmp -s b.page site/$PAGE && ok "page: identity bytes are the file" || bad "page bytes differ"
is "page: no content-encoding without accept-encoding" "$(field h.page content-encoding)" ""
is "page: vary" "$(field h.page vary)" accept-encoding
is "page: cache-control" "$(field h.page cache-control)" "public, max-age=60, stale-while-revalidate=240"
is "page: x-prep-corte" "$(field h.page x-prep-corte)" 1
is "page: accept-ranges on identity" "$(field h.page accept-ranges)" bytes
policy_fields h.page "page"
for enc in br gzip; do
  "${C[@]}" -D h.$enc -o b.$enc -H "Accept-Encoding: $enc" "$U/gubernatura/"
  is "$enc: content-encoding" "$(field h.$enc content-encoding)" $enc
  is "$enc: content-type kept" "$(field h.$enc content-type)" "text/html; charset=utf-8"
  is "$enc: vary" "$(field h.$enc vary)" accept-encoding
  cmp -s b.$enc site/$PAGE.$([ $enc = br ] && echo br || echo gz) && ok "$enc: the twin's bytes" || bad "$enc: not the twin"
  if [ $enc = gzip ]; then gzip -dc < b.gzip | cmp -s - site/$PAGE && ok "gzip: gunzips to the page" || bad "gzip: gunzipped differs"; fi
  "${C[@]}" --compressed -o c.$enc -H "Accept-Encoding: $enc" "$U/gubernatura/"
  cmp -s c.$enc site/$PAGE && ok "$enc: curl --compressed gives the page's bytes" || bad "$enc: decoded body differs"
  policy_fields h.$enc "$enc"
done
"${C[@]}" -D h.id -o /dev/null -H "Accept-Encoding: identity" "$U/gubernatura/"
is "identity: no content-encoding" "$(field h.id content-encoding)" ""
"${C[@]}" -D h.q0 -o /dev/null -H "Accept-Encoding: br;q=0, gzip;q=0" "$U/gubernatura/"
is "q=0 refuses both codings" "$(field h.q0 content-encoding)" ""
"${C[@]}" -D h.ia -o /dev/null -H "Accept-Encoding: gzip, br" "$U/$CSS"
is "asset: cache-control immutable" "$(field h.ia cache-control)" "public, max-age=31536000, immutable"
is "asset: content-type" "$(field h.ia content-type)" "text/css; charset=utf-8"
"${C[@]}" -D h.cj -o b.cj "$U/corte.json"
is "corte.json: no-cache" "$(field h.cj cache-control)" no-cache
is "corte.json: application/json" "$(field h.cj content-type)" application/json
grep -q '"corte":1,' b.cj && ok "corte.json says cut 1" || bad "corte.json: $(cat b.cj)"
"${C[@]}" -D h.sums -o b.sums "$U/SHA256SUMS"
is "SHA256SUMS: text/plain" "$(field h.sums content-type)" "text/plain; charset=utf-8"
cmp -s b.sums inst/cuts/1/manifest && ok "SHA256SUMS is the signed manifest" || bad "SHA256SUMS differs"

# conditional, HEAD, Range
etag=$(field h.page etag)
rm -f b.304; "${C[@]}" -D h.304 -o b.304 -H "If-None-Match: $etag" "$U/gubernatura/"
is "If-None-Match with apache's etag: 304" "$(status h.304)" 304
[ ! -s b.304 ] && ok "304: no body" || bad "304 sent a body"
is "304: x-prep-corte" "$(field h.304 x-prep-corte)" 1
etag_br=$(field h.br etag)
[ -n "$etag_br" ] && [ "$etag_br" != "$etag" ] && ok "br twin has its own etag" || bad "etags: '$etag' '$etag_br'"
"${C[@]}" -D h.304b -o /dev/null -H "If-None-Match: $etag_br" -H "Accept-Encoding: br" "$U/gubernatura/"
is "If-None-Match on the br etag: 304" "$(status h.304b)" 304
"${C[@]}" -I -o /dev/null -D h.head "$U/gubernatura/"
is "HEAD: 200" "$(status h.head)" 200
is "HEAD: content-length of the page" "$(field h.head content-length)" "$(stat -c %s site/$PAGE)"
"${C[@]}" -D h.r -o b.r -H "Range: bytes=10-29" -H "Accept-Encoding: gzip, br" "$U/$CSV"
is "Range on a CSV: 206" "$(status h.r)" 206
is "Range: identity even when compression is accepted" "$(field h.r content-encoding)" ""
is "Range: content-range" "$(field h.r content-range)" "bytes 10-29/$(stat -c %s site/$CSV)"
cmp -s b.r <(tail -c +11 site/$CSV | head -c 20) && ok "Range: the bytes 10-29" || bad "Range bytes differ"
is "csv: content-type" "$(field h.r content-type)" "text/csv; charset=utf-8"

# errors
"${C[@]}" -D h.404 -o /dev/null "$U/no-existe.html"
is "missing file: 404" "$(status h.404)" 404
policy_fields h.404 "404"
is "404: x-prep-corte" "$(field h.404 x-prep-corte)" 1
"${C[@]}" -D h.dir -o b.dir "$U/assets/"
is "directory without index.html: 404 (no listing)" "$(status h.dir)" 404
grep -qi "index of" b.dir && bad "a directory listing was served" || ok "no listing body"
"${C[@]}" -D h.dir2 -o /dev/null "$U/assets"
is "/assets without slash: 404" "$(status h.dir2)" 404
"${C[@]}" -D h.301 -o /dev/null "$U/gubernatura"
is "/gubernatura: 301" "$(status h.301)" 301
is "/gubernatura: to /gubernatura/" "$(field h.301 location)" "$U/gubernatura/"
# No request body: with one (-d x=1) over HTTP/2, curl once reported "(92) Stream error in
# the HTTP/2 framing layer" and no status (CI at e106eb1, under load): the 405 comes from
# a rewrite rule that never reads the upload, and the stream is reset. The method rule
# is what is checked here, not the upload.
"${C[@]}" -D h.post -o /dev/null -X POST "$U/"
is "POST: 405" "$(status h.post)" 405
grep -qi "^allow: GET, HEAD" h.post && ok "405 names GET, HEAD" || bad "405 allow: $(grep -i ^allow h.post)"
policy_fields h.post "405"
"${C[@]}" -D h.arch -o b.arch "$U/cortes/1/$PAGE"
is "archive: 200" "$(status h.arch)" 200
is "archive: immutable" "$(field h.arch cache-control)" "public, max-age=31536000, immutable"

# protocol: h2, TLS 1.1 refused, HTTP redirected to HTTPS
"${C[@]}" --http2 -o /dev/null -w '%{http_version}' "$U/" > v.h2
is "HTTP/2 over TLS" "$(cat v.h2)" 2
if "${C[@]}" --tlsv1.1 --tls-max 1.1 -o /dev/null "$U/" 2>/dev/null; then bad "TLS 1.1 accepted"; else ok "TLS 1.1 refused"; fi
"${C[@]}" --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$U/" > v.t12
is "TLS 1.2 accepted" "$(cat v.t12)" 200
curl -sS --max-time 5 -D h.http -o /dev/null "http://127.0.0.1:$HPORT/gubernatura/?x=1"
is "plain HTTP: 301" "$(status h.http)" 301
is "plain HTTP: to https" "$(field h.http location)" "https://localhost:$PORT/gubernatura/?x=1"
is "plain HTTP: no HSTS" "$(field h.http strict-transport-security)" ""

# --- switches under load: 2 loops of requests while cuts 2..11 are received and exported
PAGES=$(cd site && grep -v '^#' SHA256SUMS | awk '{print $2}' | grep 'index.html$' | grep -v '^cortes/' | head -40)
loop() { # ID ENCODING
  local n=0 p
  while [ ! -f ap/loop.stop ] && [ $n -lt 3000 ]; do
    for p in $PAGES; do
      [ -f ap/loop.stop ] && break
      n=$((n + 1))
      local u=${p%index.html}
      if [ "$2" = identity ]; then
        curl -sS -k --resolve "localhost:$PORT:127.0.0.1" --max-time 10 -D "L/$1.$n.h" -o "L/$1.$n.b" "$U/$u" 2>"L/$1.$n.e"
      else
        curl -sS -k --resolve "localhost:$PORT:127.0.0.1" --max-time 10 --compressed -D "L/$1.$n.h" -o "L/$1.$n.b" "$U/$u" 2>"L/$1.$n.e"
      fi
      echo "$? $p" > "L/$1.$n.r"
    done
  done
}
for seq in $(seq 2 11); do incoming $seq in$seq; done
mkdir L
loop a identity & LOOPS="$!"
loop b compressed & LOOPS="$LOOPS $!"
# paced by the readers' progress, not by the clock (a loaded machine makes fewer requests a
# second): before each switch, and before the stop, each loop has made 4 more requests
# (at most 60 s each wait: a server that stops answering fails the count below)
answered() { ls L | grep -c "^$1\..*\.r$"; }
await_requests() { # N: until both loops have made at least N requests
  local t=0
  while [ "$(answered a)" -lt "$1" ] || [ "$(answered b)" -lt "$1" ]; do
    [ $t -ge 600 ] && return; t=$((t + 1)); sleep 0.1
  done
}
for seq in $(seq 2 11); do
  await_requests $(( (seq - 1) * 4 ))
  "$PREP" receive --store bstore --from in$seq --pubkey drill.pub --drill --now "$(now_of $seq)" \
    --export "$T/site" --link >rx.$seq 2>&1 || bad "receive cut $seq: $(cat rx.$seq)"
done
await_requests 44
touch ap/loop.stop
wait $LOOPS
LOOPS=
is "after 10 switches: site -> site.sitios/11" "$(readlink site)" site.sitios/11
is "old trees pruned: 11 and the 3 before it" "$(cd site.sitios && ls -d [0-9]* | sort -n | tr '\n' ' ')" "8 9 10 11 "
total=0 failed=0 mism=0
declare -A seen
for r in L/*.r; do
  total=$((total + 1))
  b=${r%.r}
  read -r rc path < "$r"
  st=$(status "$b.h" 2>/dev/null)
  if [ "$rc" != 0 ] || [ "$st" != 200 ]; then failed=$((failed + 1)); echo "  failed: $path rc=$rc status=$st $(cat "$b.e")"; continue; fi
  c=$(field "$b.h" x-prep-corte)
  seen[$c]=1
  want=$(grep -F "  $path" "inst/cuts/$c/manifest" | grep "  $path\$" | awk '{print $1}')
  got=$(sha256sum < "$b.b" | cut -c1-64)
  if [ -z "$c" ] || [ "$want" != "$got" ] || ! grep -q "data-corte=\"$c\"" "$b.b"; then
    mism=$((mism + 1)); echo "  mismatch: $path corte=$c"
  fi
done
echo "  $total requests across the switches; cuts seen: ${!seen[*]}"
[ $total -ge 88 ] && ok "at least 88 requests during the switches ($total)" || bad "only $total requests (each loop should have made 4 between switches)"
is "no failed request" $failed 0
is "every body is its cut's file (SHA256SUMS of the cut named by x-prep-corte)" $mism 0
[ ${#seen[@]} -ge 5 ] && ok "responses came from ${#seen[@]} different cuts" || bad "only ${#seen[@]} cuts seen"
"${C[@]}" -D h.last -o /dev/null "$U/"
is "after the switches: x-prep-corte 11" "$(field h.last x-prep-corte)" 11
if grep -qE '\[[a-z_0-9]+:(error|crit|alert|emerg)\]' ap/error.log; then
  bad "apache logged errors: $(grep -E ':(error|crit|alert|emerg)\]' ap/error.log | head -3)"
else ok "no error in apache's log"; fi

# --- receive --watch: a pusher uploads cut 12 (signature last) while cut 13 is half uploaded
mkdir watchin
"$PREP" receive --store bstore --from watchin --pubkey drill.pub --drill --now "$(now_of 12)" \
  --export "$T/site" --link --watch --poll-ms 50 >watch.out 2>&1 &
WPID=$!
upload() { # SEQ [nosig]
  incoming $1 up$1
  cp -r up$1/objects watchin/ 2>/dev/null; mkdir -p watchin/cuts/$1
  cp up$1/cuts/$1/manifest watchin/cuts/$1/
  [ "${2:-}" = nosig ] || cp up$1/cuts/$1/manifest.sig watchin/cuts/$1/
}
wait_link() { for _ in $(seq 100); do [ "$(readlink site)" = "site.sitios/$1" ] && return 0; sleep 0.1; done; return 1; }
upload 13 nosig
upload 12
wait_link 12 && ok "watch: complete cut 12 received and exported" || bad "watch: no switch to 12: $(cat watch.out)"
sleep 0.3
[ ! -e watchin/cuts/12 ] && ok "watch: cut 12 cleared from the incoming area" || bad "watch: cuts/12 left behind"
[ -f watchin/cuts/13/manifest ] && ok "watch: the half-uploaded cut 13 is left alone" || bad "watch: cut 13 touched"
cp up13/cuts/13/manifest.sig watchin/cuts/13/
wait_link 13 && ok "watch: cut 13 received once its signature arrived" || bad "watch: no switch to 13: $(cat watch.out)"
"${C[@]}" -D h.w -o /dev/null "$U/"
is "watch: apache serves cut 13" "$(field h.w x-prep-corte)" 13
kill -TERM $WPID; wait $WPID; is "watch: SIGTERM ends it with status 0" $? 0
WPID=
grep -q '^stopped$' watch.out && ok "watch: says it stopped" || bad "watch output: $(cat watch.out)"
is "watch: incoming area emptied" "$(find watchin -type f | wc -l)" 0

if [ $fails -ne 0 ]; then echo "$fails checks FAILED"; exit 1; fi
echo "apache mode: all checks passed"
