#!/usr/bin/env bash
# prep's one TLS policy (include/prep/tls.h) on every TLS server it runs, with Debian's
# `openssl s_client` (issue 13): key exchange only over X25519, P-256 or P-384. A TLS 1.3
# client offering only a finite-field group (ffdhe2048; ffdhe8192 replayed at 11.6
# handshakes a second pegged both cores) or only X448 is refused; X25519, P-256 and P-384
# are accepted, and the server's temporary key is the group offered. Checked on
# `prep serve`'s HTTPS listener, on the institute's pull link (`prep institute`) and on
# Apache httpd with the configuration `prep apache` writes (SSLOpenSSLConfCmd Groups).
# Without the groups list, OpenSSL 3.0 accepts ffdhe2048..8192 and X448 on all three.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; for f in err.txt inst.log; do [ -f $f ] && tail -20 $f; done; exit 1; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

peer_cert cert.pem key.pem || fail "certificate"

# check NAME PORT: the groups refused and accepted on 127.0.0.1:PORT.
check() {
  local name=$1 port=$2 g out
  for g in ffdhe2048 ffdhe8192 X448; do
    if out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -groups "$g" </dev/null 2>&1); then
      fail "$name: TLS 1.3 with only $g was accepted: $(grep -E 'Server Temp Key|Cipher is' <<<"$out")"
    fi
    grep -q "alert handshake failure" <<<"$out" || fail "$name: $g: expected a handshake_failure alert: $out"
    echo "ok: $name refuses a TLS 1.3 client offering only $g"
  done
  # TLS 1.2 too: ECDHE suites only, so the groups list decides there as well.
  if timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -groups ffdhe2048 </dev/null >/dev/null 2>&1; then
    fail "$name: TLS 1.2 with only ffdhe2048 was accepted"
  fi
  echo "ok: $name refuses a TLS 1.2 client offering only ffdhe2048"
  local want
  for g in X25519 P-256 P-384; do
    case $g in
    X25519) want="Server Temp Key: X25519" ;;
    P-256) want="Server Temp Key: ECDH, prime256v1" ;;
    P-384) want="Server Temp Key: ECDH, secp384r1" ;;
    esac
    out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -groups "$g" -CAfile cert.pem \
      </dev/null 2>&1) || fail "$name: TLS 1.3 with $g refused: $out"
    grep -q "$want" <<<"$out" || fail "$name: $g: no '$want' in: $out"
    grep -q "Verify return code: 0 (ok)" <<<"$out" || fail "$name: $g: certificate not verified: $out"
    echo "ok: $name accepts TLS 1.3 over $g"
  done
  # A client's ordinary offer (X25519 first, then P-256...) gets X25519.
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile cert.pem </dev/null 2>&1) ||
    fail "$name: default client refused: $out"
  grep -q "Server Temp Key: X25519" <<<"$out" || fail "$name: default client did not get X25519: $out"
}

# ---------------------------------------------------------------- prep serve
mkdir store
"$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 1 \
  >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on https://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
[ -n "$HP" ] || fail "no listening line: $(cat out.txt)"
check "prep serve" "$HP"
peer_stop "$SPID" || true

# ---------------------------------------------------------------- the pull link
"$PREP" sim catalog --scale tiny --out cat.cat >/dev/null
"$PREP" sim actas --catalog cat.cat --out actas --seed 2021 >/dev/null 2>&1
"$PREP" keygen --out k --drill >/dev/null
"$PREP" difusor list --db reg.db >/dev/null
PP=$(peer_free_port)
cat >inst.json <<EOF
{"catalog": "cat.cat", "actas": "actas", "key": "k.key", "pubkey": "k.pub", "store": "inst",
 "drill": true, "registry": "reg.db", "clock": {"start": "2021-06-06 20:50", "seconds_per_cut": 60},
 "pull": {"listen": "127.0.0.1:$PP", "tls_cert": "cert.pem", "tls_key": "key.pem"}}
EOF
"$PREP" institute --config inst.json >inst.log 2>&1 &
IPID=$!
peer_track "$IPID"
peer_wait_port "$PP" || fail "the institute's pull link did not start"
check "pull link" "$PP"
peer_stop "$IPID" || true

# ---------------------------------------------------------------- Apache (prep apache)
if command -v apache2 >/dev/null; then
  AP=$(peer_free_port)
  mkdir -p ap/site.sitios ap/logs
  : >ap/site.sitios/corte.map
  ln -sfn site.sitios ap/site
  "$PREP" apache --docroot "$T/ap/site" --server-name localhost --listen "127.0.0.1:$AP" \
    --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --standalone "$T/ap" >ap/httpd.conf 2>err.txt ||
    fail "prep apache"
  grep -q "SSLOpenSSLConfCmd Groups X25519:P-256:P-384" ap/httpd.conf || fail "no Groups line in prep apache's output"
  apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -DFOREGROUND >ap.log 2>&1 &
  APID=$!
  peer_track "$APID"
  peer_wait_port "$AP" || fail "apache did not start: $(cat ap.log)"
  check "apache (prep apache)" "$AP"
  peer_stop "$APID" || true
else
  echo "note: apache2 not installed, its configuration not checked"
fi
echo "PASS"
