#!/usr/bin/env bash
# prep check on this machine and inside a fresh network namespace with real nftables
# rulesets (docs/check.md). Usage: check.sh PATH/TO/prep
set -u
PREP=${1:?usage: check.sh PATH/TO/prep}
SRC=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=$SRC/tests/data/check
[ -x "$PREP" ] || { echo "FAIL: no prep binary at $PREP"; exit 1; }
TMP=$(mktemp -d)
NS=prepchk-$$-$RANDOM
NS_MADE=0
SRV_PID=
cleanup() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    if [ "$NS_MADE" = 1 ]; then ip netns delete "$NS" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# verdict FILE ITEM -> prints the item's verdict from a JSON report
verdict() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print([i for i in d["items"] if i["id"] == sys.argv[2]][0]["verdict"])
EOF
}
evidence() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print([i for i in d["items"] if i["id"] == sys.argv[2]][0]["evidence"])
EOF
}

# ---- usage
"$PREP" check --help >/dev/null; [ $? = 0 ] && ok "--help exits 0" || bad "--help"
"$PREP" check --institute-ip 10.0.0.999 >/dev/null 2>&1; [ $? = 2 ] && ok "bad --institute-ip exits 2" || bad "bad --institute-ip"
"$PREP" check --ports 0 >/dev/null 2>&1; [ $? = 2 ] && ok "bad --ports exits 2" || bad "bad --ports"

# ---- this machine
"$PREP" check --json --timeout 1000 >"$TMP/host.json" 2>"$TMP/host.err"
rc=$?
python3 - "$TMP/host.json" <<'EOF' && ok "JSON well-formed, every item present with a verdict" || bad "JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["check"] == "prep-check-1"
ids = [i["id"] for i in d["items"]]
assert ids == ["os", "web", "ssh", "ntp", "disk", "ram", "cpu", "https", "firewall", "ids"], ids
for i in d["items"]:
    assert i["verdict"] in ("pass", "fail", "cannot-tell"), i
    assert i["evidence"] and i["requirement"], i
s = d["summary"]
assert s["pass"] + s["fail"] + s["cannot_tell"] == 10
EOF
# this machine has 24 GB of RAM and 2 cores: both must fail, and so the exit status is 1
[ "$(verdict "$TMP/host.json" ram)" = fail ] && ok "RAM fails on this machine: $(evidence "$TMP/host.json" ram)" || bad "RAM verdict"
[ "$(verdict "$TMP/host.json" cpu)" = fail ] && ok "CPU fails on this machine" || bad "CPU verdict"
[ $rc = 1 ] && ok "exit 1 when an item fails" || bad "exit status $rc"
"$PREP" check --timeout 500 >"$TMP/host.txt" 2>/dev/null
grep -q "^ram       FAIL" "$TMP/host.txt" && ok "text table" || bad "text table"

# ---- a fresh network namespace with real nftables rulesets
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
    echo "SKIP: network namespace part (needs root, ip and nft) - not a pass"
elif ! ip netns add "$NS" 2>"$TMP/ns.err"; then
    echo "SKIP: ip netns add not permitted here ($(cat "$TMP/ns.err")) - not a pass"
else
    NS_MADE=1
    ip -n "$NS" link set lo up
    if ! ip netns exec "$NS" nft -f "$DATA/nft-restricted.nft" 2>"$TMP/nft.err"; then
        echo "SKIP: nft in a netns not permitted here ($(cat "$TMP/nft.err")) - not a pass"
    else
        # a real TLS server on 443 inside the namespace: nothing else can hold that port there
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k.pem" -out "$TMP/c.pem" -days 2 \
            -subj /CN=localhost >/dev/null 2>&1
        ip netns exec "$NS" openssl s_server -quiet -www -accept 127.0.0.1:443 -cert "$TMP/c.pem" -key "$TMP/k.pem" \
            >/dev/null 2>&1 &
        SRV_PID=$!
        for _ in $(seq 50); do
            ip netns exec "$NS" cat /proc/net/tcp | grep -q ':01BB 00000000:0000 0A' && break
            sleep 0.1
        done
        ip netns exec "$NS" "$PREP" check --institute-ip 10.0.0.1 --json --timeout 2000 >"$TMP/ns1.json" 2>/dev/null
        v=$(verdict "$TMP/ns1.json" firewall)
        [ "$v" = pass ] && ok "restricted ruleset: firewall pass: $(evidence "$TMP/ns1.json" firewall)" \
            || bad "restricted ruleset gave $v: $(evidence "$TMP/ns1.json" firewall)"
        v=$(verdict "$TMP/ns1.json" https)
        [ "$v" = pass ] && ok "HTTPS answering in the namespace: $(evidence "$TMP/ns1.json" https)" \
            || bad "https gave $v: $(evidence "$TMP/ns1.json" https)"
        evidence "$TMP/ns1.json" web | grep -q "1 listener(s) on :443" && ok "listener on 443 seen" || bad "listener on 443"
        # the same ruleset but the institute is someone else: 10.0.0.1 is then "another source"
        ip netns exec "$NS" "$PREP" check --institute-ip 10.9.9.9 --json --timeout 500 >"$TMP/ns2.json" 2>/dev/null
        [ "$(verdict "$TMP/ns2.json" firewall)" = fail ] && ok "another institute address: fail" || bad "other institute"
        # policy accept: SSH open to everyone
        ip netns exec "$NS" nft flush ruleset
        ip netns exec "$NS" nft -f "$DATA/nft-permissive.nft"
        ip netns exec "$NS" "$PREP" check --institute-ip 10.0.0.1 --json --timeout 500 >"$TMP/ns3.json" 2>/dev/null
        rc=$?
        v=$(verdict "$TMP/ns3.json" firewall)
        [ "$v" = fail ] && ok "permissive ruleset: firewall fail: $(evidence "$TMP/ns3.json" firewall)" || bad "permissive gave $v"
        [ $rc = 1 ] && ok "exit 1" || bad "exit $rc"
        # a named verdict map the model does not read: cannot tell, and --strict turns it into exit 1
        ip netns exec "$NS" nft flush ruleset
        ip netns exec "$NS" nft -f "$DATA/nft-unknown.nft"
        ip netns exec "$NS" "$PREP" check --institute-ip 10.0.0.1 --json --timeout 500 >"$TMP/ns4.json" 2>"$TMP/ns4.err"
        v=$(verdict "$TMP/ns4.json" firewall)
        [ "$v" = cannot-tell ] && ok "named verdict map: cannot tell" || bad "named verdict map gave $v"
        grep -q "CANNOT TELL" "$TMP/ns4.err" && ok "cannot tell said loudly on stderr" || bad "no loud cannot-tell"
        # no ruleset at all in the namespace: nothing filters, every port open
        ip netns exec "$NS" nft flush ruleset
        ip netns exec "$NS" "$PREP" check --institute-ip 10.0.0.1 --json --timeout 500 >"$TMP/ns5.json" 2>/dev/null
        [ "$(verdict "$TMP/ns5.json" firewall)" = fail ] && ok "empty ruleset: fail" || bad "empty ruleset"
    fi
fi

if [ $fails -ne 0 ]; then
    echo "check.sh: $fails failure(s)"
    exit 1
fi
echo "check.sh: all passed"
