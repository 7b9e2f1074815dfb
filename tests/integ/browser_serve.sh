#!/usr/bin/env bash
# Issue 5: the published pages in headless Chromium served by `prep serve` over HTTPS, with
# the server's real header policy (docs/internals/serve.md). On a real cut that `prep cut`
# renders from a simulated night (cut at 2021-06-06 23:00), one page of every kind
# (run.js --sample) at 390 px, 1280 px and in an iframe of a portal page on an allowed
# origin, plus each embedded page in a portal on a disallowed origin:
#   - every page loads over HTTPS with HTTP/2 (navigation nextHopProtocol "h2"),
#   - no Content-Security-Policy violation (the server's CSP; each one would be named with
#     its directive and element), no mixed content, no request to another origin,
#     no console error, no cookie, 0 axe violations, the cut time shown, HTML valid,
#   - embedding embebido/ pages from the allowed portal origin works (the iframe view),
#     and from another origin is refused by frame-ancestors (view iframe-blocked).
# Portals: two python3 http.server instances on 127.0.0.1 (free ports) serving portal.html.
# Env: PREP_BROWSER_SERVE_SCALE=tiny|qro2021 (default tiny: the same page kinds, faster),
#      PREP_BROWSER_PAGES="p1 p2" (those pages instead of --sample), PREP_BROWSER_ARTIFACTS.
# Usage: tests/integ/browser_serve.sh PATH/TO/prep
set -uo pipefail
PREP=$1
ROOT=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BROWSER_DIR=$ROOT/tests/browser
ART=${PREP_BROWSER_ARTIFACTS:-$ROOT/out/browser-artifacts}/serve
SCALE=${PREP_BROWSER_SERVE_SCALE:-tiny}
WORK=$(mktemp -d)
. "$BROWSER_DIR/lib.sh"
trap browser_cleanup EXIT
trap 'exit 143' TERM INT HUP
browser_prereqs || exit 1
fail() { echo "FAIL: $*"; exit 1; }
cd "$WORK"

# A real cut in a store, and its export (the files tidy and --sample read).
"$PREP" sim catalog --scale "$SCALE" --seed 3 --out cat >/dev/null || fail "sim catalog"
"$PREP" sim actas --catalog cat --out actas --seed 3 >/dev/null 2>&1 || fail "sim actas"
"$PREP" keygen --out drill --drill >/dev/null || fail keygen
"$PREP" cut --catalog cat --actas actas --at "2021-06-06 23:00" --key drill.key --pubkey drill.pub \
  --store store --drill >cut.log 2>&1 || { cat cut.log; fail "prep cut"; }
"$PREP" export --store store --out site --no-twins >/dev/null 2>&1 || fail "prep export"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null || fail openssl

# Two portals: the allowed one and another origin.
mkdir portal
cat >portal/portal.html <<'EOF'
<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Portal de un difusor</title></head>
<body style="margin:0;padding:16px;background:#e8e8e8;color:#111;font-family:sans-serif">
<p>Portal anfitrión con el PREP incrustado:</p></body></html>
EOF
start_portal() {  # NAME: sets PORTAL_PORT
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory portal >"$1.out" 2>"$1.err" &
  echo $! >>pids
  local i
  for i in $(seq 100); do
    PORTAL_PORT=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\) .*/\1/p' "$1.out")
    [ -n "$PORTAL_PORT" ] && return 0
    sleep 0.1
  done
  fail "portal $1 did not start: $(cat "$1.err")"
}
start_portal allowed; PA=$PORTAL_PORT
start_portal other; PB=$PORTAL_PORT

"$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem \
  --listen 127.0.0.1:0 --threads 2 --frame-ancestors "http://127.0.0.1:$PA" >serve.out 2>serve.err &
echo $! >>pids
for _ in $(seq 300); do grep -q "listening on https://" serve.out 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' serve.out)
[ -n "$HP" ] || fail "prep serve did not start: $(cat serve.err)"
BASE=https://127.0.0.1:$HP/
# The policy the browser is about to see.
curl -sS --cacert cert.pem -D h.txt -o /dev/null "$BASE" || fail "curl $BASE"
grep -i '^content-security-policy:' h.txt

args=(--site site --base-url "$BASE" --artifacts "$ART" --ignore-https-errors --expect-protocol h2
      --host-url "http://127.0.0.1:$PA/portal.html" --blocked-host-url "http://127.0.0.1:$PB/portal.html"
      --embed-prefix embebido/ --cut-selector "[data-corte-hora], .corte time[datetime]"
      --cut-datetime 2021-06-06T23:00)
if [ -n "${PREP_BROWSER_PAGES:-}" ]; then
  read -r -a pages <<<"$PREP_BROWSER_PAGES"
  args+=("${pages[@]}")
else
  args+=(--sample)
fi
rm -rf "$ART"
run_browser 300 "${args[@]}" | tee run.txt
rc=${PIPESTATUS[0]}
# The runner must really have checked what this test is for.
for c in protocol csp mixed-content requests frame-blocked; do
  grep -qE "^ok   .* $c( |$)" run.txt || fail "no passing '$c' check"
done
grep -qE '^ok   .*@iframe cut-time' run.txt || fail "no embedded page shown from the allowed portal"
[ "$rc" -eq 0 ] || fail "browser checks failed (above)"
echo "browser over prep serve (HTTPS, h2, real CSP, frame-ancestors): all checks passed"
