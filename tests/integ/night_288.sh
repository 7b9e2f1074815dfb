#!/usr/bin/env bash
# Issue 13: a whole accelerated night, 288 cuts (24 simulated hours at 5 minutes a cut, one
# real second each), tiny scale, with both broadcaster modes (prep serve, and Apache from
# an exported docroot when apache2 is installed), and a browser-like abort against each
# broadcaster every cut (an HTTP/2 stream left with a zero window, the socket then closed
# mid-response; curl cut off mid-download). Checked from outside:
#   - RSS, open files and threads of every process of the night stay flat after the first
#     simulated hour (12 cuts): no leak, no pinned cut versions, no thread per cut;
#   - every broadcaster serves a cut within one cut of the institute's, all night;
#   - the stores and the Apache docroot grow by a bounded amount per cut;
#   - the monitor ends green and its evidence log holds no false verdict (nothing
#     "modified" or "not signed": every broadcaster here is honest).
# Bounded: ~5 minutes, loopback only. The Querétaro-scale night is bench/, not CI.
set -euo pipefail
PREP=${1:?usage: night_288.sh PATH/TO/prep}
CUTS=${PREP_NIGHT_CUTS:-288}
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-night-XXXXXX)
chmod 755 "$T"
DEMO_PID=
cleanup() {
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then kill -INT "$DEMO_PID"; wait "$DEMO_PID" || true; fi
  pkill -f "$T/" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$T/out" >&2 || true; for f in "$T"/d/logs/*.log; do echo "--- $f" >&2; tail -n 8 "$f" >&2; done; exit 1; }
pass() { echo "ok: $*"; }
# set -e ends the test on a failed command: say which, or the log ends with no reason
trap 'echo "FAIL: line $LINENO: \"$BASH_COMMAND\" exited with status $?" >&2' ERR
# du and find walk trees the night changes meanwhile (a cut's objects written, an old
# cut's collected): a file gone under the walk makes them exit 1 (seen in CI at the first
# hour's sample). Walked again until one walk sees no such change, at most 10 times.
bytes_of() {
  local out
  for _ in $(seq 10); do out=$(du -sb "$1" 2>/dev/null) && { echo "${out%%[[:space:]]*}"; return 0; }; sleep 0.1; done
  fail "du $1 failed 10 times in a row"
}
entries_of() {
  local out
  for _ in $(seq 10); do out=$(find "$1" 2>/dev/null | wc -l; exit "${PIPESTATUS[0]}") && { echo "$out"; return 0; }; sleep 0.1; done
  fail "find $1 failed 10 times in a row"
}
PY=/usr/bin/python3
H2="$(dirname "$0")/h2_attack.py"

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PREP" demo --scale tiny --seconds-per-cut 1 --duration $((CUTS + 40)) --dir "$T/d" --port "$port" >"$T/out" 2>&1 &
DEMO_PID=$!
for _ in $(seq 1 300); do grep -q "tablero del monitor" "$T/out" 2>/dev/null && break; sleep 0.2; done
grep -q "tablero del monitor" "$T/out" || fail "the drill did not print its URLs"
A=$(sed -n 's/^  difusor 1, prep serve: *\(https:[^ ]*\).*/\1/p' "$T/out")
B=$(sed -n 's/^  difusor 2, Apache httpd: *\(https:[^ ]*\).*/\1/p' "$T/out")
BOARD=$(sed -n 's|^  tablero del monitor: *file://\(.*\)/index.html|\1|p' "$T/out")
CA="$T/d/tls/cert.pem"
urls=("$A"); [ -n "$B" ] && urls+=("$B")
store="$T/d/instituto"
# The loop below polls 5 times a second for 5 minutes beside other tests on 2 cores: what it
# runs at each poll is bash builtins only (a fork and exec per poll was ~0.4 of a core of
# harness for the night, more than the night's own processes).
corte_of() { curl -sk --max-time 5 -o /dev/null -w '%header{x-prep-corte}' "$1"; }
ACTIVE=0
read_active() { # ACTIVE = the institute's active cut, from its store's active pointer ("sequence N")
  local l; ACTIVE=0
  { while read -r l; do [[ $l == "sequence "* ]] && ACTIVE=${l#sequence }; done <"$store/active"; } 2>/dev/null || true
}
mkfifo "$T/tick"; exec {TICK}<>"$T/tick" # never written: `read -t` on it is a sleep without a process
nap() { read -r -t "$1" -u "$TICK" _ || true; }

procs() { pgrep -f -- "$T/d/" | while read -r p; do [ -d /proc/$p ] && echo "$p"; done; }
sample() { # prints "pid name rss_kb fds threads" per process of the night
  for p in $(procs); do
    local n rss fds thr
    n=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | awk '{print $1" "$2}' | sed "s|$T/d/||g") || continue
    rss=$(awk '/^VmRSS/{print $2}' /proc/$p/status 2>/dev/null) || continue
    thr=$(awk '/^Threads/{print $2}' /proc/$p/status 2>/dev/null) || continue
    fds=$(ls /proc/$p/fd 2>/dev/null | wc -l)
    echo "$p|$n|${rss:-0}|$fds|${thr:-0}"
  done
}

# wait for the first cut on every broadcaster
for u in "${urls[@]}"; do
  for _ in $(seq 1 200); do c=$(corte_of "$u" || true); [ -n "$c" ] && break; sleep 0.3; done
  [ -n "${c:-}" ] || fail "$u never served a cut"
done
pass "URLs: ${urls[*]}"

aborts=0 held=0 asked=0 rounds=0 first_seen=0
# The HTTP/2 aborts come from one client process for the whole night (h2_attack.py holds:
# the ports on its input, one JSON line back per round), not a Python start per abort, and
# every broadcaster's at once, the heads awaited 0.4 s at most: a round fits in a cut.
# (Each hold used to wait for all its heads, up to 8 s when some did not come, one
# broadcaster after the other: at 30 and 40 cuts the rounds came every 3 to 6 cuts.)
coproc HOLDS { exec timeout $((CUTS + 200)) $PY "$H2" holds --cafile "$CA" --conns 1 --streams 2 --wait 0.4 \
  --path /base-de-datos/LEEME.txt 2>"$T/holds.err"; }
abort_round() { # a browser-like abort against every broadcaster, all at once
  local u line hps=() pids=()
  kill -0 "$HOLDS_PID" 2>/dev/null || fail "the HTTP/2 abort client ended: $(tail -3 "$T/holds.err")"
  for u in "${urls[@]}"; do
    line=${u#https://127.0.0.1:}; hps+=("${line%/}")
    curl -sk --limit-rate 2k --max-time 0.3 -o /dev/null "${u}SHA256SUMS" 2>/dev/null &
    pids+=($!)
  done
  echo "${hps[*]}" >&"${HOLDS[1]}"
  # heads or resets of the streams asked, before the abort
  if read -r -t 10 line <&"${HOLDS[0]}" &&
    [[ $line =~ \"heads\":\ ([0-9]+),\ \"resets\":\ ([0-9]+),\ \"streams\":\ ([0-9]+) ]]; then
    held=$((held + BASH_REMATCH[1] + BASH_REMATCH[2])); asked=$((asked + BASH_REMATCH[3]))
  fi
  for line in "${pids[@]}"; do wait "$line" || true; done
  aborts=$((aborts + 2 * ${#urls[@]})); rounds=$((rounds + 1))
}
declare -A base_rss base_fds base_thr
worst_lag=0; lag_samples=0; over_one=0
t_start=$SECONDS
hour_sampled=0
last=0
while :; do
  read_active; s=$ACTIVE
  [ "$s" -ge "$CUTS" ] && break
  if [ $((SECONDS - t_start)) -gt $((CUTS + 120)) ]; then fail "the night did not reach cut $CUTS (at $s)"; fi
  if [ "$s" != "$last" ]; then
    last=$s
    [ "$first_seen" = 0 ] && first_seen=$s
    abort_round
    # within one cut of the institute (read the institute after the broadcaster)
    for u in "${urls[@]}"; do
      read_active; i=$ACTIVE; c=$(corte_of "$u" || true) # the institute first: a lag is never overstated
      if [ -n "$c" ] && [ "$i" -gt 14 ]; then
        lag=$((i - c)); lag_samples=$((lag_samples + 1))
        [ $lag -gt $worst_lag ] && worst_lag=$lag
        [ $lag -gt 1 ] && over_one=$((over_one + 1))
      fi
    done
    if [ $hour_sampled = 0 ] && [ "$s" -ge 12 ]; then
      while IFS='|' read -r p n rss fds thr; do
        base_rss[$n]=$rss; base_fds[$n]=$fds; base_thr[$n]=$thr
      done < <(sample)
      bytes_of "$store" >"$T/store.12"
      if [ -d "$T/d/diario" ]; then bytes_of "$T/d/diario" >"$T/doc.12"; entries_of "$T/d/diario" >"$T/inodes.12"; fi
      hour_sampled=1
      pass "first simulated hour (cut $s): ${#base_rss[@]} processes sampled"
    fi
  fi
  nap 0.2
done
pass "$aborts aborted downloads over the night, in $rounds of the $((CUTS - first_seen + 1)) cuts from cut $first_seen on ($held of $asked HTTP/2 streams answered before their abort); worst lag $worst_lag cut(s), more than one cut behind in $over_one of $lag_samples samples"
# within one cut; on a shared 2-core CI machine running other tests beside this one, a
# sample may catch a broadcaster mid-pull at one cut per second: at most 5 % of the
# samples may be two cuts behind, never more
[ "$worst_lag" -le 2 ] || fail "a broadcaster fell $worst_lag cuts behind the institute"
[ $((over_one * 20)) -le "$lag_samples" ] || fail "$over_one of $lag_samples samples more than one cut behind"

# flat after the first hour, sampled once the night is over: every broadcaster serving the
# last cut. A sample taken while a broadcaster is still pulling it counts the store's
# directory handles the pull holds until it ends (one per objects/XX/ written, up to 257;
# CI run of e7c5ac6: prep serve 9 -> 208 open files, mid-pull of cut 288), not a leak.
for u in "${urls[@]}"; do
  for _ in $(seq 1 100); do c=$(corte_of "$u" || true); [ "${c:-0}" = "$CUTS" ] && break; nap 0.2; done
  [ "${c:-0}" = "$CUTS" ] || fail "$u never served the last cut $CUTS (serves ${c:-nothing})"
done
nap 1
bad=0
while IFS='|' read -r p n rss fds thr; do
  b=${base_rss[$n]:-}; [ -n "$b" ] || continue
  lim=$(( b + b / 4 + 16384 ))
  if [ "$rss" -gt "$lim" ]; then echo "  $n: RSS $b -> $rss kB"; bad=1; fi
  if [ "$fds" -gt $(( ${base_fds[$n]} + 8 )) ]; then echo "  $n: open files ${base_fds[$n]} -> $fds"; bad=1; fi
  if [ "$thr" -gt $(( ${base_thr[$n]} + 4 )) ]; then echo "  $n: threads ${base_thr[$n]} -> $thr"; bad=1; fi
  echo "  $n: RSS ${b} -> ${rss} kB, fds ${base_fds[$n]} -> $fds, threads ${base_thr[$n]} -> $thr"
done < <(sample)
[ $bad = 0 ] || fail "a process grew after the first hour"
pass "RSS, open files and threads flat after the first hour"

# disk per cut
n=$((CUTS - 12))
s12=$(cat "$T/store.12"); s_end=$(bytes_of "$store")
per=$(( (s_end - s12) / n ))
echo "  institute store: $(( per / 1024 )) KiB per cut"
if [ -f "$T/doc.12" ]; then
  d_end=$(bytes_of "$T/d/diario")
  i_end=$(entries_of "$T/d/diario")
  echo "  Apache broadcaster (store and docroot): $(( (d_end - $(cat "$T/doc.12")) / n / 1024 )) KiB and $(( (i_end - $(cat "$T/inodes.12")) / n )) inodes per cut"
fi
[ $per -lt $((512 * 1024)) ] || fail "the institute's store grows $per bytes per cut at tiny scale"

# the monitor: green, no false verdict
ok=0
for _ in $(seq 1 30); do
  if [ -f "$BOARD/board.json" ] && $PY - "$BOARD/board.json" "${#urls[@]}" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
rows = b.get("broadcasters") or b.get("rows") or []
sys.exit(0 if len(rows) == int(sys.argv[2]) and all((r.get("state") or r.get("status")) == "green" for r in rows) else 1)
PY
  then ok=1; break; fi
  sleep 1
done
[ $ok = 1 ] || { cat "$BOARD/board.json" >&2 || true; fail "the board is not green"; }
# every broadcaster here is honest: no page "modified" or "missing", no manifest the
# institute did not sign ("unknown-manifest")
false_verdicts=$(cat "$BOARD"/evidence/*.jsonl 2>/dev/null | grep -cE '"verdict":"(modified|missing|unknown-manifest)"' || true)
[ "$false_verdicts" = 0 ] || { grep -hE '"verdict":"(modified|missing|unknown-manifest)"' "$BOARD"/evidence/*.jsonl | sed -n 1,5p >&2; fail "$false_verdicts false verdicts in the monitor's evidence"; }
pass "the monitor is green with no false verdict"
echo "night of $CUTS cuts: all checks passed"
