#!/usr/bin/env bash
# Store retention over pull links (issue 13 item 9; docs/institute.md "Store retention",
# docs/formats/cut.md section 4): `prep institute` on an accelerated clock (a drill cut
# every second) with "store_keep": 4 and a plain-HTTP pull link on loopback, and four pull
# broadcasters:
#   A  prep receive --pull --store-keep 3
#   B  prep serve --pull --store-keep 3 (its archive answered over HTTP)
#   C  prep receive --pull, stopped, restarted when it is 3 cuts (N-1) behind
#   D  prep receive --pull, stopped, restarted when it is 6 cuts (N+2) behind
# Checked:
#  1. A keeps taking cuts while its retention fails (a directory squats the mark of a cut):
#     the failure is printed once, naming the path; once it is gone the retention works
#     again;
#  2. C, 3 cuts behind the institute's newest (whose store keeps 4 cuts whole), catches up;
#  3. D, 6 cuts behind, gets the named refusal (pull-gone) and keeps its cut; started
#     afresh from an empty store, it takes the newest cut;
#  4. at the end, the institute's, A's and B's stores hold exactly the objects of their N
#     newest cuts, every older cut its manifest, signature and mark; prep verify passes on
#     each (signatures and chain of the pruned cuts, objects of the kept ones);
#  5. B answers /cortes/<pruned>/ pages 410 with the Spanish page, and their SHA256SUMS and
#     SHA256SUMS.sig 200, byte-equal to the institute's; a kept cut's page 200, equal to
#     its manifest's line.
# Usage: tests/integ/store_retention.sh PATH/TO/prep   (KEEP=1 keeps the temp dir)
set -uo pipefail
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
. "$(dirname "$0")/lib/store.sh"
command -v curl >/dev/null || { echo "skip: curl missing"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
. "$(dirname "$0")/lib/peers.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-retention.XXXXXX)
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
dump() { for f in "$T"/logs/*.log; do echo "--- ${f#$T/}"; tail -12 "$f"; done; }
die() { bad "$*"; dump; exit 1; }
mkdir -p "$T/logs"
cd "$T" || exit 1
N=4      # the institute keeps the objects of its 4 newest cuts
BN=3     # A and B keep 3
CUTS=16  # the institute's cuts

"$PREP" sim catalog --scale tiny --out cat.cat >/dev/null &&
  "$PREP" sim actas --catalog cat.cat --out actas --seed 2021 >/dev/null 2>&1 &&
  "$PREP" keygen --out ieeq --drill >/dev/null || die "catalogue, actas or key"

# ---------------------------------------------------------------- the registry: 4 pull broadcasters
declare -A TOKEN=()
for b in a b c d; do TOKEN[$b]=$(pull_difusor "$T/difusores.db" $b) || die "registering difusor-$b"; done

# ---------------------------------------------------------------- a bad store_keep: file:line
cat >"$T/bad.json" <<EOF
{
  "catalog": "$T/cat.cat", "actas": "$T/actas", "key": "$T/ieeq.key", "store": "$T/badstore",
  "drill": true,
  "store_keep": 0
}
EOF
"$PREP" institute --config "$T/bad.json" >"$T/bad.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "^$T/bad.json:4: config-range: \"store_keep\" is out of range (1..100000)" "$T/bad.out" &&
  ok "store_keep 0 refused, exit 2, naming file:line" || bad "store_keep 0: exit $rc: $(cat "$T/bad.out")"

# ---------------------------------------------------------------- the institute
read -r PULL_PORT B_PORT < <(peer_free_ports 2)
link() { echo "http://127.0.0.1:$PULL_PORT/pull/${TOKEN[$1]}/"; }
start_institute ieeq 1 "$PULL_PORT" "" "\"max_cuts\": $CUTS, \"store_keep\": $N" ||
  die "the institute's pull link did not start"

RCV=(--pubkey "$T/ieeq.pub" --drill --poll-ms 150)
start_rcv() { # b [extra...]
  local b=$1; shift
  start "$b" "$PREP" receive --store "$T/$b/store" --pull "$(link "$b")" "${RCV[@]}" "$@"
}
mkdir -p a b c d
start_rcv a --store-keep $BN
start b "$PREP" serve --store "$T/b/store" --listen "127.0.0.1:$B_PORT" --threads 1 --poll-ms 100 \
  --pull "$(link b)" --pubkey "$T/ieeq.pub" --drill --pull-every 150 --store-keep $BN
start_rcv c
start_rcv d
peer_wait_port "$B_PORT" || die "B's server did not start"

# one daemon per store: a second institute, and a second puller into A's or B's store, are
# refused at start naming the one that runs (two would race for every cut)
"$PREP" institute --config "$T/instituto.json" >"$T/two.out" 2>&1 && die "a second institute ran on the store"
grep -q "^$T/inst/institute.lock: another prep institute (pid ${PID[institute]}) runs on this store" "$T/two.out" &&
  ok "a second institute on the store refused, naming the first's pid" || bad "second institute: $(cat "$T/two.out")"
for _ in $(seq 1 50); do [ -s "$T/a/store/pull.lock" ] && break; sleep 0.1; done
timeout 10 "$PREP" receive --store "$T/a/store" --pull "$(link a)" "${RCV[@]}" >"$T/two.out" 2>&1 &&
  die "a second puller ran on A's store"
grep -q "^$T/a/store/pull.lock: another prep receive --pull (pid ${PID[a]}) runs on this store" "$T/two.out" &&
  ok "a second receive --pull on a store refused" || bad "second receive --pull: $(cat "$T/two.out")"
timeout 10 "$PREP" serve --store "$T/b/store" --listen 127.0.0.1:0 --pull "$(link b)" --pubkey "$T/ieeq.pub" --drill \
  >"$T/two.out" 2>&1 && die "a second puller ran on B's store"
grep -q "^$T/b/store/pull.lock: another prep serve --pull (pid ${PID[b]}) runs on this store" "$T/two.out" &&
  ok "a second serve --pull on a store refused" || bad "second serve --pull: $(cat "$T/two.out")"

latest() { sed -n 's/^sequence //p' "$T/inst/active" 2>/dev/null || echo 0; }
active() { sed -n 's/^sequence //p' "$T/$1/store/active" 2>/dev/null || echo 0; }
wait_for() { # seconds command...: until the command succeeds
  local end=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
ge() { [ "$($1 "${@:3}")" -ge "$2" ] 2>/dev/null; }

# C and D take a cut, then stop
wait_for 20 ge active 2 c && wait_for 20 ge active 2 d || die "C or D took no cut (C $(active c), D $(active d))"
stop c d
SC=$(active c); SD=$(active d)
ok "C stopped on cut $SC, D on cut $SD"

# 1. A's retention fails (a directory where the mark of A's active cut will go): A goes on
A0=$(active a)
mkdir "$T/a/store/cuts/$A0/pruned" || die "cannot squat A's mark of cut $A0"

# 2. C restarted when the institute is N-1 cuts ahead of it
wait_for 30 ge latest $((SC + N - 1)) || die "the institute did not reach cut $((SC + N - 1))"
start_rcv c
BEHIND=$(( $(latest) - SC ))
wait_for 15 ge active $((SC + N - 1)) c &&
  ok "C, $BEHIND cuts behind (the institute keeps $N), caught up to cut $(active c)" ||
  bad "C ($BEHIND behind) did not catch up: on $(active c), institute $(latest): $(tail -3 logs/c.log)"
grep -q "pull-gone" logs/c.log && bad "C got pull-gone: $(grep pull-gone logs/c.log | sed -n 1p)"

# A took cuts beyond the failing retention (it fails from cut A0 + BN on)
wait_for 20 ge active $((A0 + BN + 2)) a && ok "A took cuts $((A0 + 1))..$(active a) while its retention failed" ||
  bad "A stuck on $(active a) (was $A0) with a failing retention: $(tail -3 logs/a.log)"
n=$(grep -c "store retention (--store-keep $BN) failed" logs/a.log)
[ "$n" = 1 ] && grep -q "a/store/cuts/$A0/pruned" logs/a.log && ok "A's retention failure printed once, naming the path" ||
  bad "A's retention failure printed $n times / path not named: $(grep -m3 -i retention logs/a.log)"
rmdir "$T/a/store/cuts/$A0/pruned"

# 3. D restarted when it is N+2 behind: refused by name, keeps its cut; afresh, it takes the newest
wait_for 30 ge latest $((SD + N + 2)) || die "the institute did not reach cut $((SD + N + 2))"
start_rcv d
wait_for 10 grep -q "pull-gone" logs/d.log &&
  ok "D, $(( $(latest) - SD )) cuts behind: $(grep -m1 -o 'pull-gone: .*is too far behind' logs/d.log | cut -c1-60)..." ||
  bad "D ($(( $(latest) - SD )) behind): no pull-gone: $(tail -3 logs/d.log)"
[ "$(active d)" = "$SD" ] && ok "D keeps its cut $SD" || bad "D moved to $(active d)"
stop d
mv d/store d/store.old
start_rcv d
wait_for 15 ge active $(( $(latest) )) d && ok "D afresh took cut $(active d)" || bad "D afresh: $(tail -3 logs/d.log)"

# the night ends: every broadcaster on the last cut
wait_for 40 ge latest $CUTS || die "the institute stopped at $(latest)"
for b in a b c d; do
  wait_for 15 ge active $CUTS $b || bad "$b is on $(active $b), not $CUTS: $(tail -3 logs/$b.log)"
done
grep -q "retention working again" logs/a.log && ok "A: retention working again" || bad "A's retention did not recover"
# the retention of the last cut is done before the round ends: A and B waited on its marks
for b in a b; do wait_for 10 test -f "$T/$b/store/cuts/$((CUTS - BN))/pruned" || bad "$b: no mark on cut $((CUTS - BN))"; done
sleep 0.5
stop a b c d

# 4. each store: exactly the objects of its K newest cuts; marks below; prep verify
objects_of() { # store seq...: the object ids the manifests name (parts of composed files too)
  local st=$1 s; shift
  store_objects_of $(for s in "$@"; do echo "$st/cuts/$s/manifest"; done)
}
check_store() { # label store keep last
  local l=$1 st=$2 k=$3 last=$4 s first want have marks=0 unmarked=0
  first=$(ls "$st/cuts" | grep -E '^[0-9]+$' | sort -n | sed -n 1p)
  want=$(objects_of "$st" $(seq $((last - k + 1)) "$last") | md5sum)
  have=$(cd "$st/objects" && find . -type f | sed 's|^\./||; s|/||' | sort | md5sum)
  [ "$want" = "$have" ] && ok "$l: the store holds exactly the objects of cuts $((last - k + 1))..$last ($(find "$st/objects" -type f | wc -l) objects; cuts $first..$last)" ||
    bad "$l: objects are not those of cuts $((last - k + 1))..$last ($(find "$st/objects" -type f | wc -l) files)"
  for s in $(seq "$first" "$last"); do
    [ -f "$st/cuts/$s/manifest" ] && [ -f "$st/cuts/$s/manifest.sig" ] || bad "$l: cut $s lost its manifest or signature"
    if [ "$s" -le $((last - k)) ]; then [ -f "$st/cuts/$s/pruned" ] && marks=$((marks + 1)); else [ -e "$st/cuts/$s/pruned" ] || unmarked=$((unmarked + 1)); fi
  done
  [ $marks = $((last - k - first + 1)) ] && [ $unmarked = "$k" ] && ok "$l: cuts $first..$((last - k)) marked pruned, the $k newest not" ||
    bad "$l: $marks marks, $unmarked unmarked kept cuts"
  "$PREP" verify --store "$st" --pubkey "$T/ieeq.pub" --drill >"$T/verify.out" 2>&1 &&
    ok "$l: $(head -1 "$T/verify.out")" || bad "$l: prep verify: $(tail -3 "$T/verify.out")"
}
check_store institute "$T/inst" $N $CUTS
check_store A "$T/a/store" $BN $CUTS
check_store B "$T/b/store" $BN $CUTS

# 5. B's archive over HTTP: a pruned cut's pages 410, its signed list and signature 200
start b "$PREP" serve --store "$T/b/store" --listen "127.0.0.1:$B_PORT" --threads 1
peer_wait_port "$B_PORT" || die "B's server did not restart"
U="http://127.0.0.1:$B_PORT"
P=$(( CUTS - BN ))   # B's newest pruned cut
for path in "cortes/$P/" "cortes/$P/index.html" "cortes/$P/corte.json"; do
  code=$(curl -s -o "$T/page" -w '%{http_code} %{content_type}' "$U/$path")
  [ "$code" = "410 text/html; charset=utf-8" ] && grep -q "El corte $P ya no se conserva completo" "$T/page" &&
    grep -q "href=\"SHA256SUMS.sig\"" "$T/page" && ok "B: /$path answers 410 with the page" ||
    bad "B: /$path: $code: $(head -c 300 "$T/page")"
done
for f in SHA256SUMS:manifest SHA256SUMS.sig:manifest.sig; do
  code=$(curl -s -o "$T/got" -w '%{http_code}' "$U/cortes/$P/${f%%:*}")
  [ "$code" = 200 ] && cmp -s "$T/got" "$T/inst/cuts/$P/${f#*:}" && ok "B: /cortes/$P/${f%%:*} 200, byte-equal to the institute's" ||
    bad "B: /cortes/$P/${f%%:*}: $code"
done
K=$(( CUTS - 1 ))   # a kept cut
want=$(awk '$2 == "index.html" && length($1) == 64 {print $1}' "$T/inst/cuts/$K/manifest")
code=$(curl -s -o "$T/page" -w '%{http_code}' "$U/cortes/$K/index.html")
[ "$code" = 200 ] && [ "$(sha256sum <"$T/page" | cut -d' ' -f1)" = "$want" ] && ok "B: /cortes/$K/index.html 200, the signed page" ||
  bad "B: /cortes/$K/index.html: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/cortes/$P/nada.html")
[ "$code" = 404 ] && ok "B: a path cut $P never had: 404" || bad "B: /cortes/$P/nada.html: $code"
stop b institute
grep -q "almacén: .* cortes reducidos" logs/institute.log && ok "institute: retention lines printed" ||
  bad "institute: no retention line: $(tail -3 logs/institute.log)"

[ $fails = 0 ] || { dump; echo "$fails failed"; exit 1; }
echo "all ok"
