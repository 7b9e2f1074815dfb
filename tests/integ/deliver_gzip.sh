#!/usr/bin/env bash
# Compressed transfer (docs/delivery.md "Compressed transfer") by each delivery method,
# with the real peers on loopback (sshd, vsftpd, the institute's pull link):
#   1. SFTP and FTPS: `prep deliver` sends cut 1's pages as objects/aa/<sha>.gz, made once
#      into the institute's STORE/wire (not per target: the .gz files' mtimes do not move
#      when a second target is served); every .gz inflates (gzip -dc, not prep) to the
#      bytes of its name; each broadcaster's `prep receive` activates the cut and `prep
#      verify` passes; fewer bytes crossed than the objects weigh.
#   2. cut 2 to both, tampered before it is received: a byte flipped in a .gz in the SFTP
#      incoming area, a .gz cut short in the FTPS one. Each receive exits 1 naming why
#      (bad-gzip, truncated), the broadcaster keeps cut 1, which still verifies; the honest
#      delivery is then accepted.
#   3. --no-gzip: the next cut raw (a receiver older than the compressed form); then one
#      gzip'd taken by `prep receive --watch`, which consumes every file it was sent.
#   4. pull: `prep institute` (drill clock, plain-HTTP link) and `prep receive --pull`: the
#      broadcaster takes cuts with objects gzip'd (its log says how many); curl without
#      Accept-Encoding gets an object raw, with it gets gzip (Content-Encoding) that gzip -dc
#      inflates to the same bytes. Stopped on cut k, the institute's cached .gz of the
#      objects it lacks damaged: restarted, it refuses the newer cuts (bad-gzip or
#      hash-mismatch, or oversize: which depends on the bytes hit) and keeps cut k; the damaged
#      files removed, it takes the newest cut.
# Needs root (sshd), sshd, vsftpd, curl, gzip; skips (exit 77) without them.
# Usage: tests/integ/deliver_gzip.sh PATH/TO/prep   (KEEP=1 keeps the temp dir)
set -uo pipefail
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ "$(id -u)" = 0 ] || { echo "skip: needs root to run sshd"; exit 77; }
[ -x /usr/sbin/sshd ] && [ -x /usr/sbin/vsftpd ] || { echo "skip: sshd or vsftpd missing"; exit 77; }
command -v curl >/dev/null && command -v gzip >/dev/null || { echo "skip: curl or gzip missing"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-deliver-gzip.XXXXXX)
. "$(dirname "$0")/lib/night.sh" # start, stop, start_institute, pull_difusor
cleanup() {
  stop "${!PID[@]}"
  peer_cleanup
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
die() { bad "$*"; for f in "$T"/logs/*.log; do [ -f "$f" ] && { echo "--- ${f#$T/}"; tail -8 "$f"; }; done; exit 1; }
wait_for() { # seconds command...: until the command succeeds
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
mkdir -p "$T/logs"
cd "$T" || exit 1

# ---------------------------------------------------------------- the institute's cuts (push)
"$PREP" keygen --out "$T/ieeq" >/dev/null || die keygen
mkdir -p "$T/site/datos"
for i in $(seq 1 30); do
  { printf '<!doctype html><html lang="es"><title>Sección %04d</title>\n' "$i"
    for k in $(seq 1 12); do printf '<tr><td>Casilla %04d-B%d</td><td>%d</td><td>%d</td></tr>\n' "$i" "$k" $((k * 7)) $((k * 3)); done
  } >"$T/site/p$i.html"
done
printf 'CLAVE|VOTOS\n' >"$T/site/datos/QRO.csv"
make_cut() { # k: changes index.html and page k, then cuts at 20:0k
  printf '<!doctype html><title>PREP</title><p>Corte %d</p>\n' "$1" >"$T/site/index.html"
  printf '<p>actualizada en el corte %d</p>\n' "$1" >>"$T/site/p$1.html"
  "$PREP" cut --from "$T/site" --process qro2021 --at "2021-06-06 20:0$1" --valid-for 86400 \
    --key "$T/ieeq.key" --store "$T/store" >/dev/null || bad "prep cut $1"
}
make_cut 1
NOW="2021-06-06T20:30:00-05:00"

SSH_PORT=$(peer_free_port)
peer_sshd_start "$T" "$SSH_PORT" "$T/logs/sshd.log"
peer_track "$PEER_PID"
FTP_PORT=$(peer_free_port)
mkdir -p "$T/ftproot/incoming" "$T/sftp/incoming"
chmod 0777 "$T/ftproot/incoming"
peer_cert "$T/cert.pem" "$T/key.pem"
PEER_PASV_SPAN=60 peer_vsftpd_start "$T" "$FTP_PORT" "$T/ftproot" "$T/logs/vsftpd.log"
peer_track "$PEER_PID"
peer_wait_port "$SSH_PORT" || die "sshd did not start"
peer_wait_port "$FTP_PORT" || die "vsftpd did not start"
cat >"$T/targets" <<EOF
id=canal-sftp url=sftp://root@127.0.0.1:$SSH_PORT$T/sftp/incoming/ ssh-key=$T/clientkey host-sha256=$PEER_SSH_PIN
id=radio-ftps url=ftp://127.0.0.1:$FTP_PORT/incoming/ ca-file=$T/cert.pem
EOF
DELIVER=("$PREP" deliver --store "$T/store" --targets "$T/targets" --retries 1 --backoff 100 --connect-timeout 3)
declare -A INC=([sftp]="$T/sftp/incoming" [ftps]="$T/ftproot/incoming")
receive() { # name: prep receive of its incoming area; 0 accepted
  "$PREP" receive --store "$T/b-$1" --from "${INC[$1]}" --pubkey "$T/ieeq.pub" --now "$NOW" >"$T/logs/recv-$1.log" 2>&1
}
active_of() { sed -n 's/^sequence //p' "$T/b-$1/active" 2>/dev/null; }
is_on() { [ "$(active_of "$1")" = "$2" ]; }
verify() { "$PREP" verify --store "$T/b-$1" --pubkey "$T/ieeq.pub" --now "$NOW" >/dev/null 2>&1; }

# ---------------------------------------------------------------- 1. cut 1 gzip'd, by SFTP and FTPS
"${DELIVER[@]}" --to canal-sftp >"$T/logs/d1.log" 2>&1 || die "deliver cut 1 (sftp): $(cat "$T/logs/d1.log")"
find "$T/store/wire" -name '*.gz' -printf '%P %T@\n' | sort >"$T/wire-before"
"${DELIVER[@]}" --to radio-ftps >>"$T/logs/d1.log" 2>&1 || die "deliver cut 1 (ftps): $(cat "$T/logs/d1.log")"
find "$T/store/wire" -name '*.gz' -printf '%P %T@\n' | sort >"$T/wire-after"
cmp -s "$T/wire-before" "$T/wire-after" && [ -s "$T/wire-before" ] &&
  ok "the .gz forms made once ($(wc -l <"$T/wire-before")), not again for the second target" ||
  bad "the wire cache changed between targets"
for b in sftp ftps; do
  d=${INC[$b]}
  ngz=$(find "$d/objects" -name '*.gz' | wc -l)
  [ "$ngz" = 30 ] && ok "$b: the 30 pages crossed gzip'd" || bad "$b: $ngz .gz objects, expected 30"
  badgz=0
  for g in $(find "$d/objects" -name '*.gz'); do
    rel=${g#$d/objects/}; want=${rel%.gz}; want=${want%%/*}${want#*/}
    [ "$(gzip -dc "$g" | sha256sum | cut -c1-64)" = "$want" ] || badgz=$((badgz + 1))
  done
  [ "$badgz" = 0 ] && ok "$b: every .gz inflates (gzip -dc) to the bytes its name hashes" || bad "$b: $badgz .gz wrong"
  wire=$(find "$d/objects" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  raw=$(find "$T/store/objects" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  [ "$wire" -lt $((raw / 2)) ] && ok "$b: $wire bytes of objects crossed for $raw raw" || bad "$b: $wire bytes crossed for $raw raw"
  receive $b && [ "$(active_of $b)" = 1 ] && ok "$b broadcaster activated cut 1" || bad "$b: $(tail -3 "$T/logs/recv-$b.log")"
  verify $b && ok "$b: prep verify" || bad "$b: verify"
  rm -rf "${d:?}"/*
done

# ---------------------------------------------------------------- 2. cut 2, tampered on arrival
make_cut 2
"${DELIVER[@]}" >"$T/logs/d2.log" 2>&1 || die "deliver cut 2: $(cat "$T/logs/d2.log")"
for b in sftp ftps; do
  [ -f "${INC[$b]}/cuts/2/manifest.patch.gz" ] && ok "$b: cut 2's patch crossed gzip'd" || bad "$b: no manifest.patch.gz"
done
g=$(find "${INC[sftp]}/objects" -name '*.gz' | sed -n 1p)
[ -n "$g" ] || die "no .gz in cut 2's SFTP delivery"
size=$(stat -c %s "$g")
printf '\x55' | dd of="$g" bs=1 seek=$((size / 2)) conv=notrunc status=none
g2=$(find "${INC[ftps]}/objects" -name '*.gz' | sed -n 1p)
truncate -s $(($(stat -c %s "$g2") - 10)) "$g2"
for b in sftp ftps; do
  receive $b
  rc=$?
  # a flipped byte: the stream no longer inflates, or inflates past the declared size
  # (which, depends on the byte); a stream cut short: truncated
  want='(bad-gzip|oversize|hash-mismatch)'; [ $b = ftps ] && want=truncated
  [ $rc = 1 ] && grep -Eq "refused: $want" "$T/logs/recv-$b.log" &&
    ok "$b: tampered .gz $(grep -Eo "refused: $want" "$T/logs/recv-$b.log" | sed -n 1p), exit 1" ||
    bad "$b: rc $rc: $(tail -3 "$T/logs/recv-$b.log")"
  [ "$(active_of $b)" = 1 ] && verify $b && ok "$b keeps cut 1, which verifies" || bad "$b: active $(active_of $b)"
  grep -Eq "refused: $want" "$T/b-$b/log" && ok "$b: the refusal is in the store's log" || bad "$b: not logged"
  rm -rf "${INC[$b]:?}"/*
done
"${DELIVER[@]}" --full >"$T/logs/d2b.log" 2>&1 || die "redeliver cut 2: $(cat "$T/logs/d2b.log")"
for b in sftp ftps; do
  receive $b && [ "$(active_of $b)" = 2 ] && verify $b && ok "$b: the honest cut 2 accepted afterwards" ||
    bad "$b: honest cut 2: $(tail -3 "$T/logs/recv-$b.log")"
  rm -rf "${INC[$b]:?}"/*
done

# ---------------------------------------------------------------- 3. raw on request
make_cut 3
"${DELIVER[@]}" --to canal-sftp --no-gzip >"$T/logs/d3.log" 2>&1 || die "deliver --no-gzip: $(cat "$T/logs/d3.log")"
n=$(find "${INC[sftp]}" -name '*.gz' | wc -l)
[ "$n" = 0 ] && [ -f "${INC[sftp]}/cuts/3/manifest.patch" ] && ok "--no-gzip: every file raw" || bad "--no-gzip: $n .gz files"
receive sftp && [ "$(active_of sftp)" = 3 ] && ok "sftp: the raw cut 3 accepted" || bad "sftp raw cut 3"

# a watching broadcaster (prep receive --watch) stages the .gz forms as they came
make_cut 4
"${DELIVER[@]}" --to canal-sftp >"$T/logs/d4.log" 2>&1 || die "deliver cut 4: $(cat "$T/logs/d4.log")"
[ -f "${INC[sftp]}/cuts/4/manifest.patch.gz" ] && [ -n "$(find "${INC[sftp]}/objects" -name '*.gz')" ] ||
  bad "cut 4 did not cross gzip'd"
start watch "$PREP" receive --store "$T/b-sftp" --from "${INC[sftp]}" --pubkey "$T/ieeq.pub" --now "$NOW" --watch \
  --poll-ms 100
wait_for 15 is_on sftp 4 && ok "receive --watch took the gzip'd cut 4" ||
  bad "receive --watch: on $(active_of sftp): $(tail -3 "$T/logs/watch.log")"
stop watch
[ -z "$(find "${INC[sftp]}" -type f)" ] && ok "receive --watch consumed every file, .gz included" ||
  bad "left in incoming: $(find "${INC[sftp]}" -type f | sed -n 1,3p)"

# ---------------------------------------------------------------- 4. the pull link
"$PREP" sim catalog --scale tiny --out cat.cat >/dev/null &&
  "$PREP" sim actas --catalog cat.cat --out actas --seed 2021 >/dev/null 2>&1 &&
  "$PREP" keygen --out drill --drill >/dev/null || die "catalogue, actas or key"
TOKEN=$(pull_difusor "$T/difusores.db" p) || die "registering difusor-p"
PULL_PORT=$(peer_free_port)
LINK="http://127.0.0.1:$PULL_PORT/pull/$TOKEN/"
CUTS=4
start_institute drill 2 "$PULL_PORT" "" "\"max_cuts\": $CUTS" || die "the institute's pull link did not start"
latest() { sed -n 's/^sequence //p' "$T/inst/active" 2>/dev/null || echo 0; }
pactive() { sed -n 's/^sequence //p' "$T/p/active" 2>/dev/null || echo 0; }
ge() { [ "$($1)" -ge "$2" ] 2>/dev/null; }
RCV=("$PREP" receive --store "$T/p" --pull "$LINK" --pubkey "$T/drill.pub" --drill --poll-ms 150)
start p "${RCV[@]}"
wait_for 30 ge pactive 1 || die "the pull broadcaster took no cut"
stop p
K=$(pactive)
grep -Eq "pulled corte $K \(.*objetos, [1-9][0-9]* of them gzip'd" "$T/logs/p.log" &&
  ok "pull: cut $K taken with objects gzip'd: $(grep -o 'pulled corte [0-9]* (.*)' "$T/logs/p.log" | tail -1)" ||
  bad "pull: no gzip'd objects: $(tail -3 "$T/logs/p.log")"
grep -q "corte 1 comprimido para envio" "$T/logs/institute.log" && ok "the institute compressed each cut once" ||
  bad "no compression line: $(tail -3 "$T/logs/institute.log")"
wait_for 40 grep -q "no more cuts" "$T/logs/institute.log" || die "the institute did not finish its $CUTS cuts"
L=$(latest)
[ "$L" -gt "$K" ] || die "the broadcaster is on $K, the institute on $L: nothing to tamper with"

# an object by an old client (no Accept-Encoding) and by a new one
g=$(cd "$T/inst/wire" && find . -name '*.gz' | sed -n 1p)
g=${g#./}
sha=${g%.gz}; sha=${sha%%/*}${sha#*/}
curl -sf "${LINK}objects/${sha:0:2}/${sha:2}" -o "$T/raw.bin" -D "$T/raw.h" || bad "curl raw object"
[ "$(sha256sum <"$T/raw.bin" | cut -c1-64)" = "$sha" ] && ! grep -qi '^content-encoding' "$T/raw.h" &&
  ok "a client without Accept-Encoding gets the object raw" || bad "raw object: $(cat "$T/raw.h")"
curl -sf -H 'Accept-Encoding: gzip' "${LINK}objects/${sha:0:2}/${sha:2}" -o "$T/gz.bin" -D "$T/gz.h" || bad "curl gz"
grep -qi '^content-encoding: gzip' "$T/gz.h" && [ "$(gzip -dc <"$T/gz.bin" | sha256sum | cut -c1-64)" = "$sha" ] &&
  [ "$(stat -c %s "$T/gz.bin")" -lt "$(stat -c %s "$T/raw.bin")" ] &&
  ok "with Accept-Encoding: gzip, Content-Encoding: gzip that gzip -dc inflates to the object" || bad "gz object: $(cat "$T/gz.h")"

# damage the cached .gz of every object the broadcaster lacks
n=0
for f in $(cd "$T/inst/wire" && find . -path './[0-9a-f][0-9a-f]/*.gz'); do
  f=${f#./}; o=${f%.gz}
  [ -e "$T/p/objects/$o" ] && continue
  cp "$T/inst/wire/$f" "$T/damaged-$n"
  echo "$f" >>"$T/damaged.list"
  size=$(stat -c %s "$T/inst/wire/$f")
  printf '\x55\x55\x55\x55' | dd of="$T/inst/wire/$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
  n=$((n + 1))
done
[ $n -gt 0 ] || die "no cached .gz for the cuts after $K"
start p "${RCV[@]}"
# Which refusal names the damage depends on the bytes it hit: a stream that no longer
# inflates (bad-gzip), one that inflates to other bytes (hash-mismatch), or to more than
# the manifest declares (oversize, "cut N refused: oversize"): any of them, not the cut.
REFUSAL='(pull|refused): (bad-gzip|hash-mismatch|oversize)'
wait_for 15 grep -Eq "$REFUSAL" "$T/logs/p.log" &&
  ok "pull: $n damaged .gz refused: $(grep -Eo "$REFUSAL" "$T/logs/p.log" | sed -n 1p)" ||
  bad "pull: no refusal: $(tail -3 "$T/logs/p.log")"
[ "$(pactive)" = "$K" ] && ok "pull: the broadcaster keeps cut $K" || bad "pull: moved to $(pactive)"
"$PREP" verify --store "$T/p" --pubkey "$T/drill.pub" --drill >/dev/null 2>&1 && ok "pull: its store verifies" ||
  bad "pull: verify"
while read -r f; do rm -f "$T/inst/wire/$f"; done <"$T/damaged.list"
wait_for 20 ge pactive "$L" && ok "pull: the damaged files gone, it took cut $(pactive) (the raw objects sent)" ||
  bad "pull: stuck on $(pactive), institute on $L: $(tail -3 "$T/logs/p.log")"
stop p institute

if [ $fails -gt 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all compressed delivery checks passed"
