#!/usr/bin/env bash
# A broadcaster's store damaged on disk (session 33): `prep serve --pull` from a
# `prep institute` pull link (a drill cut every 2 s). Once it serves a cut, one byte of an
# object that every cut names (the site's script, assets/app.*.js) is flipped in its store,
# the size kept, as a failing disk would, and the server is restarted (a running server
# holds the bytes it checked; a restart reads them from the disk). Before, every cut,
# the active one and each older one it could fall back to, was refused for that object
# ("hash-mismatch"), and the store trusted the object by its size, so no later cut fetched
# it: the waiting page (503) for the rest of the night. Now:
#   1. the first cut refused for it moves the damaged object to STORE/damaged/ (kept, and
#      named in the store's log and on stderr) and says the next cut fetches it again;
#   2. the next cut pulled fetches it whole and is served (x-prep-corte moves on, / 200),
#      the script's bytes equal the institute's;
#   3. the same for `prep receive --pull --export` (Apache mode) whose docroot is made
#      again from such a store: the export refused for the object moves it aside, and the
#      next export has it whole;
#   4. after the night's last cut (no next cut to bring the object): the pull takes the
#      active cut again for what the store lacks (STORE/damaged/ changed), and the server
#      loads it again (its refused load is tried again once the store's log moved).
# Usage: tests/integ/serve_repair.sh PATH/TO/prep   (KEEP=1 keeps the temp dir)
set -uo pipefail
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
command -v curl >/dev/null || { echo "skip: curl missing"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-repair.XXXXXX)
. "$(dirname "$0")/lib/night.sh"
cleanup() { stop "${!PID[@]}"; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
dump() { for f in "$T"/logs/*.log; do echo "--- ${f#$T/}"; tail -15 "$f"; done; }
die() { echo "FAIL $*"; dump; exit 1; }
ok() { echo "ok   $*"; }
mkdir -p "$T/logs" "$T/b"
cd "$T" || exit 1

"$PREP" sim catalog --scale tiny --out cat.cat >/dev/null &&
  "$PREP" sim actas --catalog cat.cat --out actas --seed 2021 >/dev/null 2>&1 &&
  "$PREP" keygen --out ieeq --drill >/dev/null || die "catalogue, actas or key"
declare -A TOKENS=()
for b in a b; do TOKENS[$b]=$(pull_difusor "$T/difusores.db" $b) || die "registering difusor-$b"; done
TOKEN=${TOKENS[b]}

read -r PULL_PORT B_PORT < <(peer_free_ports 2)
FINAL=12 # the institute's last cut
start_institute ieeq 1 "$PULL_PORT" "" "\"max_cuts\": $FINAL" || die "the institute's pull link did not start"
start b "$PREP" serve --store "$T/b/store" --listen "127.0.0.1:$B_PORT" --threads 1 --poll-ms 100 \
  --pull "http://127.0.0.1:$PULL_PORT/pull/$TOKEN/" --pubkey "$T/ieeq.pub" --drill --pull-every 150
peer_wait_port "$B_PORT" || die "the broadcaster's server did not start"
U=http://127.0.0.1:$B_PORT
corte() { curl -s --max-time 5 -o /dev/null -w '%header{x-prep-corte}' "$U/"; }

c0=""
for _ in $(seq 1 100); do c0=$(corte); [ -n "$c0" ] && [ "$c0" -ge 2 ] && break; sleep 0.2; done
[ -n "$c0" ] && [ "$c0" -ge 2 ] || die "the broadcaster never served cut 2"

# one byte of the site's script flipped in a broadcaster's store, its size kept
flip() { # store: sets h (the object's hash), js (its path), obj (its file); whole.js: its bytes
  local line size hx
  line=$(grep -E '^[0-9a-f]{64}  assets/app\.[0-9a-f]+\.js$' "$1/cuts/$(sed -n 's/^sequence //p' "$1/active")/manifest") ||
    die "no assets/app.*.js in $1's active cut"
  h=${line:0:64}; js=${line:66}
  obj=$1/objects/${h:0:2}/${h:2}
  [ -f "$obj" ] || die "no object $obj"
  size=$(stat -c %s "$obj"); cp "$obj" whole.js
  chmod u+w "$obj"
  hx=$(printf '%02x' $(( $(od -An -tu1 -j $((size / 2)) -N1 "$obj") ^ 1 )))
  printf "\\x$hx" | dd of="$obj" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
  [ "$(stat -c %s "$obj")" = "$size" ] && [ "$(cmp -l whole.js "$obj" | wc -l)" = 1 ] || die "not one byte flipped"
}
flip "$T/b/store"
ok "cut $c0 served; one byte of $js (object ${h:0:12}..) flipped in the broadcaster's store"
stop b
start b "$PREP" serve --store "$T/b/store" --listen "127.0.0.1:$B_PORT" --threads 1 --poll-ms 100 \
  --pull "http://127.0.0.1:$PULL_PORT/pull/$TOKEN/" --pubkey "$T/ieeq.pub" --drill --pull-every 150
peer_wait_port "$B_PORT" || die "the broadcaster's server did not start again"

# 1. the first cut refused for it moves it aside
for _ in $(seq 1 100); do grep -q "object $h of $js .* was damaged" logs/b.log && break; sleep 0.2; done
grep -q "object $h of $js .* was damaged .*moved to damaged/, the next cut stores it again" logs/b.log ||
  die "the damaged object was not moved aside"
ls "$T/b/store/damaged/$h".* >/dev/null 2>&1 || die "the damaged bytes were not kept in damaged/"
grep -q "error object $h" "$T/b/store/log" || die "not in the broadcaster's store log"
grep -q "the damaged ones are moved to $T/b/store/damaged/ and the next cut fetches them again" logs/b.log ||
  die "no line saying the next cut fetches it"
ok "the refused cut moved the damaged object to damaged/ (logged)"

# 2. the object is fetched again (the refused cut taken again, or the next one) and served
bad_cut=$(sed -n 's/^prep serve: active cut \([0-9]*\) cannot be loaded.*/\1/p' logs/b.log | sed -n 1p)
[ -n "$bad_cut" ] || die "no cut refused"
c1=""
for _ in $(seq 1 100); do c1=$(corte); [ -n "$c1" ] && [ "$c1" -ge "$bad_cut" ] && break; sleep 0.2; done
[ -n "$c1" ] && [ "$c1" -ge "$bad_cut" ] || die "the broadcaster serves '$c1' after cut $bad_cut was refused"
[ "$(sha256sum <"$obj" | cut -c1-64)" = "$h" ] || die "the object was not fetched whole again"
curl -s --max-time 5 -o got.js "$U/$js" && cmp -s got.js whole.js || die "$js served is not the institute's"
ok "cut $bad_cut refused, cut $c1 served with $js fetched whole again"

code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$U/")
[ "$code" = 200 ] || die "/ answered $code"
ok "/ answers 200"

# 3. the same for prep receive --pull --export (Apache mode): its docroot made again
#    from a store with the byte flipped (a new server, a docroot lost)
mkdir -p a
RA=("$PREP" receive --store "$T/a/store" --pull "http://127.0.0.1:$PULL_PORT/pull/${TOKENS[a]}/" --pubkey "$T/ieeq.pub"
  --drill --poll-ms 150 --export "$T/a/docroot")
start a "${RA[@]}"
for _ in $(seq 1 100); do grep -q "^prep receive: exported corte" logs/a.log && break; sleep 0.2; done
grep -q "^prep receive: exported corte" logs/a.log || die "A never exported a cut"
stop a
flip "$T/a/store"
rm -rf "$T/a/docroot" "$T/a/docroot.cortes" "$T/a/docroot.objetos" # its pool too: every file read from the store
start a "${RA[@]}"
for _ in $(seq 1 100); do grep -q "object $h of $js .* was damaged" logs/a.log && break; sleep 0.2; done
grep -q "object $h of $js .* was damaged .*moved to damaged/, the next cut stores it again" logs/a.log ||
  die "A: the damaged object was not moved aside"
grep -q "the damaged ones are moved to $T/a/store/damaged/ and the next cut pulled fetches them again" logs/a.log ||
  die "A: no line saying the next cut fetches it"
for _ in $(seq 1 100); do [ -f "$T/a/docroot/$js" ] && break; sleep 0.2; done
cmp -s "$T/a/docroot/$js" whole.js || die "A: $js not exported whole after the next cut"
[ "$(sha256sum <"$T/a/store/objects/${h:0:2}/${h:2}" | cut -c1-64)" = "$h" ] || die "A: the object was not fetched whole again"
ok "A (receive --export): the export refused for it moved it aside; it was fetched again and exported whole"

# 4. after the night's last cut there is no next cut: the active cut is taken again
for _ in $(seq 1 150); do grep -q "no more cuts ($FINAL made)" logs/institute.log && break; sleep 0.2; done
grep -q "no more cuts ($FINAL made)" logs/institute.log || die "the institute did not reach its last cut $FINAL"
for _ in $(seq 1 100); do [ "$(corte)" = "$FINAL" ] && break; sleep 0.2; done
[ "$(corte)" = "$FINAL" ] || die "B does not serve the last cut $FINAL: $(corte)"
flip "$T/b/store"
stop b
start b "$PREP" serve --store "$T/b/store" --listen "127.0.0.1:$B_PORT" --threads 1 --poll-ms 100 \
  --pull "http://127.0.0.1:$PULL_PORT/pull/$TOKEN/" --pubkey "$T/ieeq.pub" --drill --pull-every 150
peer_wait_port "$B_PORT" || die "the broadcaster's server did not start again"
for _ in $(seq 1 100); do [ "$(corte)" = "$FINAL" ] && break; sleep 0.2; done
[ "$(corte)" = "$FINAL" ] || die "after the last cut, B serves '$(corte)', not cut $FINAL again"
grep -q "took 1 object(s) of the active cut $FINAL again" logs/b.log || die "no line saying the object was taken again"
[ "$(sha256sum <"$obj" | cut -c1-64)" = "$h" ] || die "the object was not fetched whole again after the last cut"
curl -s --max-time 5 -o got.js "$U/$js" && cmp -s got.js whole.js || die "$js served after the last cut is not the institute's"
ok "after the last cut: the damaged object taken again with cut $FINAL, which is served again"
echo "PASS"
