#!/usr/bin/env bash
# prep deliver against real servers on loopback: OpenSSH sshd (SFTP, key login, pinned
# host key) and vsftpd (explicit FTPS, certificate verified, anonymous write), recipes of
# /work/shared/C-DEPS-AND-STYLE.md §2. Checks:
#   1. cut 1 to an SFTP target, an FTPS target, a second SFTP target and a target that is
#      down (closed port): the three get it, the down one is retried then reported failed,
#      exit 1; each broadcaster's `prep receive` activates cut 1 and `prep verify` passes;
#   2. cut 2 to the first two: only the new object, the patch and the signature cross;
#   3. a wrong host-key pin fails with a clear message and sends nothing;
#   4. the second SFTP target, 3 cuts behind, gets the chain 2..4 and activates cut 4;
#   5. no temporary name is left anywhere;
#   6. `--db`: an active broadcaster of the registry gets the newest cut and the delivery is
#      recorded there; once blocked it gets nothing;
#   7. a cut of 160 objects to FTPS over 8 streams (--ftps-streams 8) and to SFTP over 3
#      (--sftp-streams 3): every file arrives, no temporary name is left, the signature
#      is the last file renamed in place, receive + verify pass.
# Needs root (sshd) and the sshd/vsftpd binaries; skips (exit 77) without them.
# Usage: tests/integ/deliver_push.sh PATH/TO/prep
set -uo pipefail
PREP=$1
[ "$(id -u)" = 0 ] || { echo "skip: needs root to run sshd"; exit 77; }
[ -x /usr/sbin/sshd ] && [ -x /usr/sbin/vsftpd ] || { echo "skip: sshd or vsftpd missing"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-deliver-push.XXXXXX)
peer_cleanup_on_exit "$T"
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# ---------------------------------------------------------------- the institute's cuts
"$PREP" keygen --out "$T/ieeq" >/dev/null || { bad keygen; exit 1; }
mkdir -p "$T/site/datos"
for i in $(seq 1 20); do printf 'página %d\n%0300d\n' "$i" 0 >"$T/site/p$i.html"; done
printf 'CLAVE|VOTOS\n' >"$T/site/datos/QRO.csv"
make_cut() { # k: changes index.html, then cuts at 20:0k
  printf '<!doctype html><title>PREP</title><p>Corte %d</p>\n' "$1" >"$T/site/index.html"
  "$PREP" cut --from "$T/site" --process qro2021 --at "2021-06-06 20:0$1" --valid-for 86400 \
    --key "$T/ieeq.key" --store "$T/store" >/dev/null || bad "prep cut $1"
}
make_cut 1
NOW="2021-06-06T20:30:00-05:00"

# ---------------------------------------------------------------- sshd
SSH_PORT=$(peer_free_port)
peer_sshd_start "$T" "$SSH_PORT" "$T/sshd.log"
peer_track "$PEER_PID"
PIN=${PEER_SSH_PIN#SHA256:}
ssh-keygen -q -t ed25519 -N '' -f "$T/otherkey"
WRONG_PIN=$(peer_ssh_pin "$T/otherkey.pub")
WRONG_PIN=${WRONG_PIN#SHA256:}
mkdir -p "$T/sftp1/incoming" "$T/sftp2/incoming"

# ---------------------------------------------------------------- vsftpd
FTP_PORT=$(peer_free_port)
mkdir -p "$T/ftproot/incoming"
chmod 0777 "$T/ftproot/incoming"
peer_cert "$T/cert.pem" "$T/key.pem"
PEER_PASV_SPAN=60 peer_vsftpd_start "$T" "$FTP_PORT" "$T/ftproot" "$T/vsftpd.err" \
  xferlog_enable=YES "vsftpd_log_file=$T/vsftpd.log"
peer_track "$PEER_PID"
DOWN_PORT=$(peer_free_port)
peer_wait_port "$SSH_PORT" || { bad "sshd did not start"; cat "$T/sshd.log"; exit 1; }
peer_wait_port "$FTP_PORT" || { bad "vsftpd did not start"; cat "$T/vsftpd.err"; exit 1; }

cat >"$T/targets" <<EOF
# id url and credentials (one target a line)
id=canal-sftp url=sftp://root@127.0.0.1:$SSH_PORT$T/sftp1/incoming/ ssh-key=$T/clientkey host-sha256=SHA256:$PIN
id=radio-ftps url=ftp://127.0.0.1:$FTP_PORT/incoming/ ca-file=$T/cert.pem
id=atrasado url=sftp://root@127.0.0.1:$SSH_PORT$T/sftp2/incoming/ ssh-key=$T/clientkey host-sha256=$PIN
id=caido url=ftp://127.0.0.1:$DOWN_PORT/incoming/ ca-file=$T/cert.pem
EOF
DELIVER=("$PREP" deliver --store "$T/store" --targets "$T/targets" --retries 2 --backoff 100 --connect-timeout 3)

# The broadcaster's side: receive what arrived, then empty incoming (as --watch does).
receive() { # name incoming-dir
  "$PREP" receive --store "$T/b-$1" --from "$2" --pubkey "$T/ieeq.pub" --now "$NOW" >"$T/recv-$1.log" 2>&1 ||
    { bad "receive $1: $(tail -3 "$T/recv-$1.log")"; return 1; }
  rm -rf "${2:?}"/*
}
active_of() { sed -n 's/^sequence //p' "$T/b-$1/active" 2>/dev/null; }
count_files() { find "$1" -type f | wc -l; }

# A targets file with a NUL byte is refused, naming the line, before any upload: the
# targets after it would otherwise be dropped without a word.
{ head -3 "$T/targets"; printf 'id=nul\0 url=ftp://127.0.0.1:1/x/\n'; tail -1 "$T/targets"; } >"$T/targets-nul"
"$PREP" deliver --store "$T/store" --targets "$T/targets-nul" >"$T/dn.out" 2>"$T/dn.err"
rc=$?
[ $rc = 2 ] && grep -q "targets-nul:4: a NUL byte" "$T/dn.err" && [ ! -e "$T/store/deliver" ] &&
  ok "a targets file with a NUL byte is refused (line 4), nothing sent" || bad "NUL targets: rc=$rc $(cat "$T/dn.err")"

# The same for a password file whose first line holds a NUL (it would be cut short).
printf 'sec\0ret\n' >"$T/pw-nul"
printf 'id=pw url=ftp://127.0.0.1:1/x/ password-file=%s\n' "$T/pw-nul" >"$T/targets-pw"
"$PREP" deliver --store "$T/store" --targets "$T/targets-pw" >"$T/dp.out" 2>"$T/dp.err"
rc=$?
[ $rc = 2 ] && grep -q "has a NUL byte in its first line" "$T/dp.err" &&
  ok "a password file with a NUL byte is refused" || bad "NUL password: rc=$rc $(cat "$T/dp.err")"

# ---------------------------------------------------------------- 1. cut 1, one target down
"${DELIVER[@]}" >"$T/d1.out" 2>"$T/d1.err"
rc=$?
[ $rc = 1 ] && ok "exit 1 when one target fails" || bad "exit $rc, expected 1"
cat "$T/d1.out"
grep -q '^canal-sftp: cut 1 delivered' "$T/d1.out" && ok "sftp target got cut 1" || bad "sftp: $(cat "$T/d1.out" "$T/d1.err")"
grep -q '^radio-ftps: cut 1 delivered' "$T/d1.out" && ok "ftps target got cut 1" || bad "ftps: $(cat "$T/d1.out" "$T/d1.err")"
grep -q '^caido: FAILED cut 1 after 3 attempts: .*cannot connect' "$T/d1.out" && ok "down target retried twice, then failed" || bad "down target: $(cat "$T/d1.out")"
[ "$(grep -c 'retrying in' "$T/d1.err")" = 2 ] && ok "two retries reported" || bad "retries: $(cat "$T/d1.err")"
grep -q '^3 of 4 targets have cut 1' "$T/d1.out" && ok "summary" || bad "summary"
[ "$(cat "$T/store/deliver/canal-sftp/state" | sed -n 's/^sequence //p')" = 1 ] && ok "state: canal-sftp at 1" || bad "state"
[ ! -e "$T/store/deliver/caido/state" ] && ok "no state for the down target" || bad "state written for a failed target"
grep -q 'status=failed' "$T/store/deliver/caido/deliveries" && grep -q 'status=done' "$T/store/deliver/canal-sftp/deliveries" &&
  ok "delivery records" || bad "delivery records"
n1=$(count_files "$T/sftp1/incoming")
n1gz=$(find "$T/sftp1/incoming/objects" -name '*.gz' | wc -l)
[ -n "$(find "$T/sftp1" "$T/sftp2" "$T/ftproot" -name '*.tmp-*')" ] && bad "temporary names left" || ok "no temporary name left"
receive sftp1 "$T/sftp1/incoming" && [ "$(active_of sftp1)" = 1 ] && ok "sftp broadcaster activated cut 1" || bad "sftp activate"
receive ftps "$T/ftproot/incoming" && [ "$(active_of ftps)" = 1 ] && ok "ftps broadcaster activated cut 1" || bad "ftps activate"
receive sftp2 "$T/sftp2/incoming" && [ "$(active_of sftp2)" = 1 ] && ok "second sftp broadcaster activated cut 1" || bad "sftp2 activate"
for b in sftp1 ftps; do
  "$PREP" verify --store "$T/b-$b" --pubkey "$T/ieeq.pub" --now "$NOW" >/dev/null 2>&1 && ok "verify $b" || bad "verify $b"
done
# 22 distinct files -> 22 objects, plus manifest and signature.
[ "$n1" = 24 ] && ok "cut 1 whole: 24 files crossed" || bad "cut 1: $n1 files crossed, expected 24"
# The 20 pages (312 bytes of HTML each) crossed gzip'd; index.html and the CSV (under 128
# bytes) raw.
[ "$n1gz" = 20 ] && ok "cut 1: the 20 pages crossed gzip'd" || bad "cut 1: $n1gz .gz files, expected 20"

# ---------------------------------------------------------------- 2. cut 2: only what is new
make_cut 2
"${DELIVER[@]}" --to canal-sftp --to radio-ftps >"$T/d2.out" 2>"$T/d2.err" || bad "deliver cut 2: $(cat "$T/d2.out" "$T/d2.err")"
cat "$T/d2.out"
# Cut 2 changed index.html only: 1 object, the patch (smaller than the manifest), the signature.
for d in "$T/sftp1/incoming" "$T/ftproot/incoming"; do
  n=$(count_files "$d")
  [ "$n" = 3 ] && ok "cut 2: 3 files crossed to ${d#$T/}" || { bad "cut 2: $n files in ${d#$T/}"; find "$d" -type f; }
  # the patch goes gzip'd: prep deliver made the cut's compressed forms once (docs/delivery.md)
  [ -f "$d/cuts/2/manifest.patch.gz" ] && [ -f "$d/cuts/2/manifest.sig" ] && ok "patch (gzip'd) and signature" || bad "no patch"
done
grep -q '^canal-sftp: cut 2 delivered (from 1, 1 cut): 3 files, 1 objects' "$T/d2.out" && ok "reported 1 object" || bad "report: $(cat "$T/d2.out")"
receive sftp1 "$T/sftp1/incoming" && [ "$(active_of sftp1)" = 2 ] && ok "sftp broadcaster activated cut 2" || bad "sftp cut 2"
receive ftps "$T/ftproot/incoming" && [ "$(active_of ftps)" = 2 ] && ok "ftps broadcaster activated cut 2" || bad "ftps cut 2"
# Again: nothing to send.
"${DELIVER[@]}" --to canal-sftp >"$T/d2b.out" 2>&1 && grep -q 'already delivered' "$T/d2b.out" && ok "up to date: nothing sent" ||
  bad "second run: $(cat "$T/d2b.out")"

# ---------------------------------------------------------------- 3. a wrong pin
"$PREP" deliver --store "$T/store" --target "sftp://root@127.0.0.1:$SSH_PORT$T/sftp1/incoming/" --id impostor \
  --ssh-key "$T/clientkey" --host-sha256 "$WRONG_PIN" --retries 0 --state "$T/state-wrong" >"$T/d3.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "impostor: FAILED.*host key does not match the pinned SHA-256" "$T/d3.out" &&
  ok "wrong pin refused clearly" || bad "wrong pin: rc $rc: $(cat "$T/d3.out")"
[ "$(count_files "$T/sftp1/incoming")" = 0 ] && ok "nothing sent past a wrong pin" || bad "files sent despite a wrong pin"

# ---------------------------------------------------------------- 4. three cuts behind
make_cut 3
make_cut 4
"${DELIVER[@]}" --to atrasado >"$T/d4.out" 2>"$T/d4.err" || bad "deliver to atrasado: $(cat "$T/d4.out" "$T/d4.err")"
cat "$T/d4.out"
# Cuts 2, 3, 4 each changed index.html: 3 objects, 3 patches, 3 signatures.
grep -q '^atrasado: cut 4 delivered (from 1, 3 cuts): 9 files, 3 objects' "$T/d4.out" && ok "chain 2..4 planned" || bad "chain: $(cat "$T/d4.out")"
receive sftp2 "$T/sftp2/incoming" && [ "$(active_of sftp2)" = 4 ] && ok "3 cuts behind: caught up to cut 4" || bad "catch-up"
"$PREP" verify --store "$T/b-sftp2" --pubkey "$T/ieeq.pub" --now "$NOW" >/dev/null 2>&1 && ok "verify the chain 1..4" || bad "verify sftp2"
[ -n "$(find "$T/sftp1" "$T/sftp2" "$T/ftproot" -name '*.tmp-*')" ] && bad "temporary names left" || ok "no temporary name left"

# ---------------------------------------------------------------- 6. targets from the registry
# An active broadcaster of `prep difusor` gets the newest cut whole; the registry keeps
# the delivery record. A blocked one gets nothing.
mkdir -p "$T/sftp3/incoming"
D=(--db "$T/difusores.db")
"$PREP" difusor add "${D[@]}" --by prueba --name "Canal Siete" --kind medio --website https://c7.example.mx \
  --publication-url https://prep.c7.example.mx --legal-name "Ana Pérez" --legal-phone "442 123 4567" \
  --legal-mobile "442 765 4321" --legal-email ana@c7.example.mx --tech-name "Luis Gómez" \
  --tech-phone "442 123 4568" --tech-mobile "442 765 4322" --tech-email luis@c7.example.mx --method sftp \
  --sftp-url "sftp://root@127.0.0.1:$SSH_PORT$T/sftp3/incoming/" --ssh-host-key "SHA256:$PIN" \
  --ssh-key "$T/clientkey" >/dev/null 2>"$T/reg.err" || bad "difusor add: $(cat "$T/reg.err")"
for s in verify-infra approve activate; do
  "$PREP" difusor "$s" canal-siete "${D[@]}" --by prueba --why prueba >/dev/null 2>>"$T/reg.err" || bad "difusor $s: $(cat "$T/reg.err")"
done
"$PREP" deliver --store "$T/store" "${D[@]}" --state "$T/state-db" >"$T/d6.out" 2>&1 || bad "deliver --db: $(cat "$T/d6.out")"
cat "$T/d6.out"
grep -q '^canal-siete: cut 4 delivered (whole, 1 cut)' "$T/d6.out" && ok "registry target got cut 4" || bad "registry target"
"$PREP" difusor show canal-siete "${D[@]}" >"$T/show.out" 2>&1
grep -A3 '^deliveries' "$T/show.out" >"$T/show.deliveries" && grep -q ' 4 ' "$T/show.deliveries" && grep -q 'ok' "$T/show.deliveries" &&
  ok "delivery recorded in the registry" || bad "registry record: $(cat "$T/show.out" | tail -5)"
receive sftp3 "$T/sftp3/incoming" && [ "$(active_of sftp3)" = 4 ] && ok "registry broadcaster activated cut 4" || bad "sftp3"
"$PREP" difusor block canal-siete "${D[@]}" --by prueba --why prueba >/dev/null 2>&1 || bad "block"
make_cut 5
"$PREP" deliver --store "$T/store" "${D[@]}" --state "$T/state-db" >"$T/d7.out" 2>&1
grep -q 'no active SFTP or FTPS broadcaster' "$T/d7.out" && [ "$(count_files "$T/sftp3/incoming")" = 0 ] &&
  ok "a blocked broadcaster gets nothing" || bad "blocked: $(cat "$T/d7.out")"

# ---------------------------------------------------------------- 7. many objects, many streams
mkdir -p "$T/many"
for i in $(seq 1 159); do printf 'objeto %d\n%0200d\n' "$i" 0 >"$T/many/o$i.html"; done
printf '<!doctype html><title>PREP</title><p>Muchos</p>\n' >"$T/many/index.html"
"$PREP" cut --from "$T/many" --process qro2021 --at "2021-06-06 20:10" --valid-for 86400 \
  --key "$T/ieeq.key" --store "$T/store-many" >/dev/null || bad "prep cut (many)"
mkdir -p "$T/ftproot/many" "$T/sftp4/incoming"
chmod 0777 "$T/ftproot/many"
cat >"$T/targets-many" <<EOF
id=muchos-ftps url=ftp://127.0.0.1:$FTP_PORT/many/ ca-file=$T/cert.pem
id=muchos-sftp url=sftp://root@127.0.0.1:$SSH_PORT$T/sftp4/incoming/ ssh-key=$T/clientkey host-sha256=$PIN
EOF
t0=$(date +%s%N)
"$PREP" deliver --store "$T/store-many" --targets "$T/targets-many" --ftps-streams 8 --sftp-streams 3 \
  --retries 2 --backoff 100 >"$T/d8.out" 2>"$T/d8.err" || bad "deliver many: $(cat "$T/d8.out" "$T/d8.err")"
t1=$(date +%s%N)
cat "$T/d8.out"
echo "     (160 objects, one FTPS target over 8 streams and one SFTP over 3: $(((t1 - t0) / 1000000)) ms)"
for d in "$T/ftproot/many" "$T/sftp4/incoming"; do
  n=$(count_files "$d")
  [ "$n" = 162 ] && ok "many objects: 162 files crossed to ${d#$T/}" || bad "many objects: $n files in ${d#$T/}, expected 162"
  left=$(find "$d" -name '*.tmp-*' | wc -l)
  [ "$left" = 0 ] && ok "no temporary name left in ${d#$T/}" || bad "$left temporary names left in ${d#$T/}"
  # The signature is renamed in place after every other file is: its mtime is the newest.
  newest=$(find "$d" -type f -printf '%T@ %P\n' | sort -n | tail -1 | cut -d' ' -f2)
  [ "$newest" = cuts/1/manifest.sig ] && ok "signature last in ${d#$T/}" || bad "newest file in ${d#$T/} is $newest"
done
grep -q '^muchos-ftps: cut 1 delivered (whole, 1 cut): 162 files, 160 objects' "$T/d8.out" && ok "ftps report: 160 objects" ||
  bad "ftps report: $(cat "$T/d8.out")"
receive many-ftps "$T/ftproot/many" && [ "$(active_of many-ftps)" = 1 ] && ok "ftps broadcaster activated the big cut" || bad "many-ftps"
receive many-sftp "$T/sftp4/incoming" && [ "$(active_of many-sftp)" = 1 ] && ok "sftp broadcaster activated the big cut" || bad "many-sftp"
for b in many-ftps many-sftp; do
  "$PREP" verify --store "$T/b-$b" --pubkey "$T/ieeq.pub" --now "$NOW" >/dev/null 2>&1 && ok "verify $b" || bad "verify $b"
done

if [ $fails -gt 0 ]; then
  echo "--- sshd log"; tail -20 "$T/sshd.log"; echo "--- vsftpd log"; tail -20 "$T/vsftpd.log" 2>/dev/null
  echo "$fails check(s) failed"
  exit 1
fi
echo "all deliver push checks passed"
