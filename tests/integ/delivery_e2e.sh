#!/usr/bin/env bash
# The delivery network end to end on loopback (issue 6): `prep institute` on an
# accelerated clock (a drill cut every 4 s) with its pull links, and three broadcasters
# registered with `prep difusor`:
#   S  method sftp: real sshd (key login, pinned host key) -> incoming dir watched by
#      `prep receive --watch` -> store served by `prep serve` over TLS;
#   F  method ftps: real vsftpd (explicit TLS, certificate verified) -> likewise;
#   P  method pull: `prep serve --pull LINK --pubkey K --drill --pull-ca CERT`.
# Everything is asserted from outside, over HTTPS with curl (certificate verified):
#   1. each broadcaster's x-prep-corte reaches the institute's latest; the SHA256SUMS each
#      serves is byte-equal to the institute's manifest of that cut, and the pages fetched
#      hash to the manifest's lines; every store passes `prep verify`;
#   2. S's receiver and server and P's server killed for 3 cuts: the pushes go on landing
#      in S's incoming (a chain of missed cuts); restarted, both catch up to the latest
#      (meanwhile F's first, whole push runs: it must not hold S up);
#   3. F too serves the latest cut, verified (1. for F);
#   4. `prep difusor block` F and P mid-run: P's link answers 403 (curl), no push to F is
#      recorded, both stop advancing while S keeps advancing; `unblock`: both catch up;
#   5. the end state checked again, every process stopped and none left (pgrep).
# Needs root (sshd) and sshd/vsftpd; skips (exit 77) without them.
# Usage: tests/integ/delivery_e2e.sh PATH/TO/prep   (KEEP=1 keeps the temp dir)
set -uo pipefail
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "skip: needs root to run sshd"; exit 77; }
[ -x /usr/sbin/sshd ] && [ -x /usr/sbin/vsftpd ] || { echo "skip: sshd or vsftpd missing"; exit 77; }
command -v curl >/dev/null || { echo "skip: curl missing"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-e2e.XXXXXX)
. "$(dirname "$0")/lib/night.sh" # start, stop, start_institute, pull_difusor
cleanup() {
  stop "${!PID[@]}"
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
die() { bad "$*"; dump; exit 1; }
dump() {
  for f in "$T"/logs/*.log; do echo "--- ${f#$T/}"; tail -15 "$f"; done
}

mkdir -p "$T/logs"
cd "$T" || exit 1

# ---------------------------------------------------------------- the institute's inputs
"$PREP" sim catalog --scale tiny --out "$T/cat.cat" >/dev/null &&
  "$PREP" sim actas --catalog "$T/cat.cat" --out "$T/actas" --seed 2021 >/dev/null 2>&1 &&
  "$PREP" keygen --out "$T/ieeq" --drill >/dev/null || die "catalogue, actas or key"
peer_cert "$T/cert.pem" "$T/key.pem" || die "certificate"
CURL=(curl -s --max-time 5 --cacert "$T/cert.pem")

# ---------------------------------------------------------------- sshd (S's server)
SSH_PORT=$(peer_free_port)
mkdir -p "$T/s/incoming"
peer_sshd_start "$T" "$SSH_PORT" "$T/logs/sshd.log"
PID[sshd]=$PEER_PID
PIN=$PEER_SSH_PIN

# ---------------------------------------------------------------- vsftpd (F's server)
FTP_PORT=$(peer_free_port)
mkdir -p "$T/ftproot/incoming"
chmod 0777 "$T/ftproot/incoming"
# (a data connection per file: the default wide passive range)
peer_vsftpd_start "$T" "$FTP_PORT" "$T/ftproot" "$T/logs/vsftpd.log" \
  xferlog_enable=YES "vsftpd_log_file=$T/logs/vsftpd-xfer.log"
PID[vsftpd]=$PEER_PID
peer_wait_port "$SSH_PORT" || die "sshd did not start"
peer_wait_port "$FTP_PORT" || die "vsftpd did not start"

# ---------------------------------------------------------------- the registry
D=(--db "$T/difusores.db")
register() { # id method extra-lines
  cat >"$T/$1.txt" <<EOF
id = $1
name = Difusor $1 (simulacro)
kind = medio
website = https://$1.example.mx/
publication-url = https://prep.$1.example.mx/
legal-name = Ana Pérez
legal-phone = 442 123 4567
legal-mobile = 442 765 4321
legal-email = ana@$1.example.mx
tech-name = Luis Gómez
tech-phone = 442 123 4568
tech-mobile = 442 765 4322
tech-email = luis@$1.example.mx
method = $2
$3
EOF
  "$PREP" difusor add "${D[@]}" --from "$T/$1.txt" --by e2e >"$T/add-$1.out" 2>&1 || die "difusor add $1: $(cat "$T/add-$1.out")"
  for s in verify-infra approve activate; do
    "$PREP" difusor "$s" "$1" "${D[@]}" --by e2e --why prueba >/dev/null 2>>"$T/reg.err" || die "difusor $s $1: $(cat "$T/reg.err")"
  done
}
register difusor-s sftp "sftp-url = sftp://root@127.0.0.1:$SSH_PORT$T/s/incoming/
ssh-host-key = $PIN
ssh-key = $T/clientkey"
register difusor-f ftps "ftps-url = ftp://127.0.0.1:$FTP_PORT/incoming/
ca-file = $T/cert.pem"
register difusor-p pull ""
TOKEN=$(sed -n 's/^pull token .*: \([0-9a-f]\{64\}\)$/\1/p' "$T/add-difusor-p.out")
[ ${#TOKEN} = 64 ] || die "no pull token in: $(cat "$T/add-difusor-p.out")"

# ---------------------------------------------------------------- the institute
PULL_PORT=$(peer_free_port)
LINK="https://127.0.0.1:$PULL_PORT/pull/$TOKEN/"
start_institute ieeq 4 "$PULL_PORT" "\"tls_cert\": \"$T/cert.pem\", \"tls_key\": \"$T/key.pem\"" \
  '"deliver": {"parallel": 4, "retries": 1, "backoff_ms": 200}' || die "the institute's pull listener did not start"

# ---------------------------------------------------------------- the broadcasters
read -r S_PORT F_PORT P_PORT < <(peer_free_ports 3)
TLS=(--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --threads 1 --poll-ms 100)
start_s() {
  start s-receive "$PREP" receive --watch --poll-ms 200 --from "$T/s/incoming" --store "$T/s/store" --pubkey "$T/ieeq.pub" --drill
  start s-serve "$PREP" serve --store "$T/s/store" --tls-listen "127.0.0.1:$S_PORT" "${TLS[@]}"
}
start_f() {
  start f-receive "$PREP" receive --watch --poll-ms 200 --from "$T/ftproot/incoming" --store "$T/f/store" --pubkey "$T/ieeq.pub" --drill
  start f-serve "$PREP" serve --store "$T/f/store" --tls-listen "127.0.0.1:$F_PORT" "${TLS[@]}"
}
start_p() {
  start p-serve "$PREP" serve --store "$T/p/store" --tls-listen "127.0.0.1:$P_PORT" "${TLS[@]}" \
    --pull "$LINK" --pubkey "$T/ieeq.pub" --drill --pull-ca "$T/cert.pem" --pull-every 300
}
mkdir -p "$T/s" "$T/f" "$T/p"
start_s; start_f; start_p
for p in $S_PORT $F_PORT $P_PORT; do peer_wait_port "$p" || die "a broadcaster's server did not start on $p"; done

declare -A PORT=([s]=$S_PORT [f]=$F_PORT [p]=$P_PORT)
latest() { sed -n 's/^sequence //p' "$T/inst/active" 2>/dev/null || echo 0; }
served() { # b: the cut broadcaster b serves now (/health over HTTPS), 0 if none or down
  local h
  h=$("${CURL[@]}" "https://127.0.0.1:${PORT[$1]}/health" 2>/dev/null) || { echo 0; return; }
  echo "$h" | sed -n 's/^ok corte \([0-9]*\)$/\1/p'
}
# at_latest b...: every one serves the institute's latest cut (retried up to $WAIT s)
at_latest() {
  local end=$((SECONDS + ${WAIT:-20})) b l good
  while [ $SECONDS -lt $end ]; do
    l=$(latest); good=1
    [ "${l:-0}" -gt 0 ] || good=0
    for b in "$@"; do [ "$(served "$b")" = "$l" ] || good=0; done
    [ $good = 1 ] && return 0
    sleep 0.2
  done
  return 1
}
status_line() { echo "institute $(latest); S $(served s) F $(served f) P $(served p)"; }
wait_seq() { # n: until the institute's latest cut is >= n (up to 30 s)
  local end=$((SECONDS + 30))
  while [ $SECONDS -lt $end ]; do [ "$(latest)" -ge "$1" ] 2>/dev/null && return 0; sleep 0.2; done
  return 1
}
# same_cut b: SHA256SUMS served by b is byte-equal to the institute's manifest of the cut
# named by the same response's x-prep-corte, and two pages hash to that manifest's lines.
same_cut() {
  local b=$1 u="https://127.0.0.1:${PORT[$1]}" seq page want got
  "${CURL[@]}" -D "$T/h-$b" -o "$T/sums-$b" "$u/SHA256SUMS" || { bad "$b: GET SHA256SUMS"; return; }
  seq=$(tr -d '\r' <"$T/h-$b" | sed -n 's/^x-prep-corte: \([0-9]*\).*/\1/ip')
  [ -n "$seq" ] || { bad "$b: no x-prep-corte on SHA256SUMS"; return; }
  cmp -s "$T/sums-$b" "$T/inst/cuts/$seq/manifest" && ok "$b: SHA256SUMS of corte $seq byte-equal to the institute's manifest" ||
    bad "$b: SHA256SUMS of corte $seq differs from the institute's manifest"
  for page in index.html "$(awk 'length($1) == 64 && $2 ~ /\.csv$/ {print $2; exit}' "$T/inst/cuts/$seq/manifest")"; do
    "${CURL[@]}" -D "$T/hp-$b" -o "$T/page-$b" "$u/$page" || { bad "$b: GET $page"; continue; }
    seq=$(tr -d '\r' <"$T/hp-$b" | sed -n 's/^x-prep-corte: \([0-9]*\).*/\1/ip')
    want=$(awk -v p="$page" '$2 == p && length($1) == 64 {print $1}' "$T/inst/cuts/$seq/manifest")
    got=$(sha256sum "$T/page-$b" | cut -d' ' -f1)
    [ -n "$want" ] && [ "$want" = "$got" ] && ok "$b: $page of corte $seq byte-equal to the institute's" ||
      bad "$b: $page of corte $seq: sha256 $got, the institute's manifest says ${want:-nothing}"
  done
}
verify_store() { # b
  "$PREP" verify --store "$T/$1/store" --pubkey "$T/ieeq.pub" --drill >"$T/verify-$1.out" 2>&1 &&
    ok "$1: prep verify of the whole chain" || bad "$1: prep verify: $(tail -3 "$T/verify-$1.out")"
}
last_record() { # id status: the newest cut recorded for id with that status in the registry
  "$PREP" difusor show "$1" "${D[@]}" --deliveries 1000 2>/dev/null |
    sed -n "s/^  cut \([0-9]*\) [a-z]* .* $2, .*/\1/p" | sort -n | tail -1
}

# ---------------------------------------------------------------- 1. S and P follow
# (F's first push is cut 1 whole, ~200 files: FTPS costs a TLS handshake and a login per
# file, so it takes a while; S and P are checked meanwhile, and must not wait for it.)
wait_seq 3 || die "the institute made no 3 cuts: $(tail -5 "$T/logs/institute.log")"
WAIT=20 at_latest s p && ok "S (sftp) and P (pull) serve the institute's latest cut ($(status_line))" ||
  die "S or P did not reach the latest cut: $(status_line)"
for b in s p; do same_cut $b; done

# ---------------------------------------------------------------- 2. S and P down for 3 cuts
K0=$(latest)
stop s-receive s-serve p-serve
K1=$(sed -n 's/^sequence //p' "$T/s/store/active")
wait_seq $((K0 + 3)) || bad "the institute stopped cutting"
sleep 1.5
nin=$(find "$T/s/incoming/cuts" -name manifest.sig 2>/dev/null | wc -l)
[ "$nin" -ge 2 ] && ok "S down: the pushes kept landing in its incoming ($nin cuts waiting)" ||
  bad "S down: $nin cuts in its incoming"
[ "$(sed -n 's/^sequence //p' "$T/s/store/active")" = "$K1" ] && ok "S down: its store stays at corte $K1" || bad "S's store moved while down"
start_s; start_p
for p in $S_PORT $P_PORT; do peer_wait_port "$p" || bad "restart on $p"; done
WAIT=20 at_latest s p && ok "restarted: S and P caught up from corte $K1 ($(status_line))" || bad "restart: no catch-up: $(status_line)"
grep -Eq "cuts accepted" "$T/logs/s-receive.log" &&
  [ "$(sed -n 's/.* \([0-9]*\) cuts accepted.*/\1/p' "$T/logs/s-receive.log" | sort -n | tail -1)" -ge 2 ] &&
  ok "S's receiver took the missed cuts as one chain" || bad "S's receiver: $(tail -3 "$T/logs/s-receive.log")"
grep -Eq "pulled corte [0-9]+ \(([2-9]|[1-9][0-9]+) cortes" "$T/logs/p-serve.log" && ok "P pulled the missed chain" || bad "P's log: $(tail -3 "$T/logs/p-serve.log")"
# a broadcaster holding the cut before takes the next manifest as a patch against it
grep -Eq "pulled corte [0-9]+ \([0-9]+ cortes, [1-9][0-9]* of them as manifest patches" "$T/logs/p-serve.log" &&
  ok "P took manifests as patches" || bad "P never used a manifest patch: $(grep -m3 'pulled corte' "$T/logs/p-serve.log")"

# ---------------------------------------------------------------- 3. all three follow
WAIT=75 at_latest s f p && ok "S (sftp), F (ftps), P (pull) serve the institute's latest cut ($(status_line))" ||
  die "not every broadcaster reached the latest cut: $(status_line)"
grep -q "entregado a difusor-f por FTPS (completo" "$T/logs/institute.log" && ok "F got cut 1 whole, then the chain" ||
  bad "F's pushes: $(grep difusor-f "$T/logs/institute.log" | sed -n 1,3p)"
same_cut f
for b in s f p; do verify_store $b; done

# ---------------------------------------------------------------- 4. block F and P
"$PREP" difusor block difusor-f "${D[@]}" --by e2e --why "prueba de bloqueo" >/dev/null 2>&1 || bad "block F"
"$PREP" difusor block difusor-p "${D[@]}" --by e2e --why "prueba de bloqueo" >/dev/null 2>&1 || bad "block P"
B0=$(latest)
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "${LINK}estado")
[ "$code" = 403 ] && ok "P's pull link answers 403 once blocked" || bad "P's link answered $code after the block"
# a push round or pull already under way may still land one more cut; then nothing
wait_seq $((B0 + 1)) && sleep 1.5
FZ=$(served f); PZ=$(served p); RZ=$(last_record difusor-f ok)
wait_seq $((B0 + 4)) || bad "the institute stopped cutting"
sleep 1
l=$(latest)
[ "$FZ" -le $((B0 + 1)) ] && [ "$(served f)" = "$FZ" ] && ok "F blocked: stays at corte $FZ while the institute is at $l" ||
  bad "F blocked: served $(served f), frozen at $FZ, blocked at $B0"
[ "$PZ" -le $((B0 + 1)) ] && [ "$(served p)" = "$PZ" ] && ok "P blocked: stays at corte $PZ while the institute is at $l" ||
  bad "P blocked: served $(served p), frozen at $PZ, blocked at $B0"
[ "$(last_record difusor-f ok)" = "$RZ" ] && ok "F blocked: no push recorded after corte ${RZ:-none}" ||
  bad "F blocked: a push was recorded: $(last_record difusor-f ok) (was $RZ)"
n=$(awk -v b="$B0" '$2 == "institute:" && $3 == "corte" && $4 + 0 > b + 1 && / entregado a difusor-f /' "$T/logs/institute.log" | wc -l)
ns=$(awk -v b="$B0" '$2 == "institute:" && $3 == "corte" && $4 + 0 > b + 1 && / entregado a difusor-s /' "$T/logs/institute.log" | wc -l)
[ "$n" = 0 ] && [ "$ns" -ge 1 ] && ok "institute log: after the block, $ns pushes to S and none to F" ||
  bad "institute log after the block: $n pushes to F, $ns to S"
WAIT=10 at_latest s && ok "S keeps advancing while F and P are blocked ($(status_line))" || bad "S stopped: $(status_line)"
grep -q "blocked" "$T/logs/p-serve.log" && ok "P's server logged the 403 (blocked)" || bad "P's log does not say blocked"
"$PREP" difusor unblock difusor-f "${D[@]}" --by e2e --why "fin de la prueba" >/dev/null 2>&1 || bad "unblock F"
"$PREP" difusor unblock difusor-p "${D[@]}" --by e2e --why "fin de la prueba" >/dev/null 2>&1 || bad "unblock P"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "${LINK}estado")
[ "$code" = 200 ] && ok "P's pull link answers 200 again once unblocked" || bad "P's link answered $code after unblock"
WAIT=20 at_latest s f p && ok "unblocked: F and P caught up ($(status_line))" || bad "unblocked: no catch-up: $(status_line)"
same_cut f; same_cut p

# ---------------------------------------------------------------- 5. the end state
WAIT=20 at_latest s f p || bad "final: $(status_line)"
for b in s f p; do same_cut $b; done
for b in s f p; do verify_store $b; done
[ "$(last_record difusor-s ok)" -ge "$K0" ] 2>/dev/null && ok "S's pushes are recorded in the registry" || bad "S's records"
grep -q 'falló' "$T/logs/institute.log" && echo "note: some push attempts failed (retried): $(grep -c falló "$T/logs/institute.log")"
echo "$(grep -c '^prep institute: corte [0-9]* (' "$T/logs/institute.log") cuts made; $(status_line)"

stop "${!PID[@]}"
left=$(pgrep -f "$T" || true)
[ -z "$left" ] && ok "no process left" || bad "processes left: $left"
if [ $fails -gt 0 ]; then
  dump
  echo "$fails check(s) failed"
  exit 1
fi
echo "all delivery e2e checks passed"
