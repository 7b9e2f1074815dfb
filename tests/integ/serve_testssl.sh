#!/usr/bin/env bash
# prep serve's HTTPS through testssl.sh (Debian's `testssl`, 3.0.8; issue 13), on loopback
# with a bounded time (at most 300 s; 70 s alone, 100 s and over 120 s beside other tests in CI): protocols, cipher categories, forward
# secrecy, server preference, the vulnerability checks and the HTTP header checks.
# Asserts:
#   - no finding above LOW that prep's configuration controls (versions, suites, groups,
#     renegotiation, compression, headers). One finding is accepted by policy: BREACH
#     (MEDIUM, "br HTTP compression detected"): it needs a secret and attacker-chosen
#     text in the same compressed body; the pages are public, static, signed files with no
#     cookies, tokens or reflected input, and compression is what lets a broadcaster carry
#     election-night load (docs/internals/serve.md "TLS");
#   - the key-exchange groups are exactly X25519, P-256 (prime256v1) and P-384
#     (secp384r1), and no finite-field (ffdhe) group is offered. Without the groups list
#     testssl reports "DH_groups ffdhe2048 ... ffdhe8192" and "secp521r1 ... X448", and
#     this test fails.
# Certificate findings (self-signed, no OCSP/CAA...) are not the configuration's and are
# not run (-S is not asked). WARN lines are about the local openssl, not the server.
set -euo pipefail
PREP=$1
. "$(dirname "$0")/lib/peers.sh"
command -v testssl >/dev/null || { echo "SKIP: testssl (Debian package testssl.sh) not installed"; exit 77; }
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
fail() { echo "FAIL: $*"; [ -f err.txt ] && tail -20 err.txt; exit 1; }

"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-06 21:00" --key drill.key --pubkey drill.pub \
  --store store --drill >/dev/null 2>&1
peer_cert cert.pem key.pem || fail "certificate"
"$PREP" serve --store store --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem --threads 1 \
  >out.txt 2>err.txt &
SPID=$!
peer_track "$SPID"
for _ in $(seq 100); do grep -q "listening on https://" out.txt 2>/dev/null && break; sleep 0.1; done
HP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' out.txt)
[ -n "$HP" ] || fail "no listening line: $(cat out.txt)"

rc=0
timeout 300 testssl --quiet --color 0 --warnings off --jsonfile ts.json -p -s -f -P -U -h \
  "https://127.0.0.1:$HP/" >ts.txt 2>&1 || rc=$?
[ "$rc" = 124 ] && fail "testssl took over 300 s"
[ -s ts.json ] || fail "testssl wrote no JSON (status $rc): $(tail -20 ts.txt)"

python3 - ts.json <<'EOF' || fail "testssl findings (full report: ts.txt)"
import json, sys
findings = json.load(open(sys.argv[1]))
by_id = {f["id"]: f for f in findings}
bad = []
# Accepted by policy (see the header of this script).
accepted = {"BREACH"}
for f in findings:
    if f["severity"] in ("MEDIUM", "HIGH", "CRITICAL") and f["id"] not in accepted:
        bad.append(f"{f['severity']} {f['id']}: {f['finding']}")
curves = by_id.get("PFS_ECDHE_curves", {}).get("finding", "")
if sorted(curves.split()) != sorted(["X25519", "prime256v1", "secp384r1"]):
    bad.append(f"ECDHE curves offered: {curves!r}, want X25519 prime256v1 secp384r1")
if "DH_groups" in by_id:
    bad.append(f"finite-field groups offered: {by_id['DH_groups']['finding']}")
for need in ("TLS1_2", "TLS1_3"):
    if not by_id.get(need, {}).get("finding", "").startswith("offered"):
        bad.append(f"{need}: {by_id.get(need)}")
for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    if by_id.get(old, {}).get("finding") != "not offered":
        bad.append(f"{old}: {by_id.get(old)}")
for b in bad:
    print("finding:", b)
n = sum(1 for f in findings if f["severity"] not in ("DEBUG",))
print(f"{n} findings; curves {curves}; above LOW: "
      f"{[f['id'] for f in findings if f['severity'] in ('MEDIUM', 'HIGH', 'CRITICAL')]}")
sys.exit(1 if bad else 0)
EOF
echo "PASS"
