#!/usr/bin/env bash
# Benchmark (issue 15, "Done when"): `prep demo --scale national` end to end on loopback,
# the institute, both broadcasters (prep serve, and Apache httpd on a docroot that
# `prep receive --export --link` keeps) and the monitor, for a bounded number of cuts,
# measured from outside as a reader would. A benchmark, not a test: never run by
# scripts/test.sh; a national run takes ~9 GB of RAM at its peak, ~25 GB of disk under
# DIR and ~25 minutes for 12 cuts on a 2-core machine.
#
# Prints, per cut and per broadcaster (bench_demo_poll.py does the watching):
# - the time from the cut's signature (the mtime of cuts/SEQ/manifest.sig at the
#   institute) to the moment that broadcaster's home page, fetched over HTTPS with its
#   certificate checked, is that cut with its stamp (data-corte and the cut's instant in
#   `<time datetime>`), with the moments it was pulled and (Apache) exported;
# - the bytes the pull link carried for it, on the wire (the "pulled" log line);
# - the institute's CPU for the cut (its log);
# - the RSS of the institute, prep serve, prep receive, Apache (PSS of its processes) and
#   the monitor in each cut's interval;
# then the limits of issue 15 (and issue 6's delivery delay) beside the figures they
# concern, the monitor board's verdict for each broadcaster, every error line of the
# drill's logs, and the disk each part used.
#
# Usage: bench/bench_demo_national.sh PATH/TO/prep [--cuts N] [--seconds-per-cut S]
#        [--scale national|national-small] [--dir DIR] [--port N]
# DIR (default /work/tmp/bench-demo-national, never /dev/shm: a national run's disk does
# not fit there) is emptied first and kept afterwards (KEEP=0 removes it).
set -uo pipefail
case ${1:-} in
  ''|-h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
HERE=$(cd "$(dirname "$0")" && pwd)
CUTS=12 SPC=60 SCALE=national DIR=/work/tmp/bench-demo-national PORT=18443
while [ $# -gt 0 ]; do
  case $1 in
    --cuts) CUTS=$2; shift 2 ;;
    --seconds-per-cut) SPC=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "usage: $0 PREP [--cuts N] [--seconds-per-cut S] [--scale national|national-small] [--dir DIR] [--port N]" >&2; exit 2 ;;
  esac
done
# A national drill holds ~3.5 GB (institute) + ~3 GB (prep serve across a switch) + ~1.5
# GB (prep receive) at once: refuse rather than wake the OOM killer on a shared machine.
if [ "$SCALE" = national ]; then
  avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
  [ "$avail" -ge 9000 ] || { echo "bench_demo_national: a national drill needs ~9 GB, $avail MB available" >&2; exit 2; }
fi
GEO=$HERE/../../shared/data/geo/mexico-entidades.geojson
geo=(); [ -f "$GEO" ] && geo=(--geojson "$GEO")
rm -rf "$DIR"
mkdir -p "$(dirname "$DIR")"
OUT=$DIR.out
DEMO_PID=
finish() {
  if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -INT "$DEMO_PID"; wait "$DEMO_PID" 2>/dev/null
  fi
  [ "${KEEP:-1}" = 0 ] && rm -rf "$DIR"
}
trap finish EXIT
# the drill runs longer than needed: the poller decides when the bench is over
dur=$(( (CUTS + 8) * ${SPC%.*} + 1800 ))
t_start=$(date +%s)
"$PREP" demo --scale "$SCALE" "${geo[@]}" --seconds-per-cut "$SPC" --duration "$dur" \
  --dir "$DIR" --port "$PORT" >"$OUT" 2>&1 &
DEMO_PID=$!
echo "bench_demo_national: prep demo --scale $SCALE --seconds-per-cut $SPC --dir $DIR (its output: $OUT)"
for _ in $(seq 1 600); do grep -q "tablero del monitor" "$OUT" 2>/dev/null && break; sleep 0.5; done
A=$(sed -n 's/^  difusor 1, prep serve: *\(https:[^ ]*\).*/\1/p' "$OUT")
B=$(sed -n 's/^  difusor 2, Apache httpd: *\(https:[^ ]*\).*/\1/p' "$OUT")
[ -n "$A" ] || { echo "bench_demo_national: the drill did not start:" >&2; cat "$OUT" >&2; exit 1; }
bs=("uaq=$A"); [ -n "$B" ] && bs+=("diario=$B")
echo "bench_demo_national: broadcasters ${bs[*]}; watching until both serve cut $CUTS"
python3 "$HERE/bench_demo_poll.py" "$DIR" "$CUTS" "$((dur - 60))" "${bs[@]}"
rc=$?
echo
echo "the monitor board ($DIR/board/board.json), its last round:"
python3 - "$DIR/board/board.json" <<'PY' || echo "  (no board)"
import json, sys
b = json.load(open(sys.argv[1]))
for r in b.get("broadcasters", []):
    hist = r.get("history") or []
    print(f"  {r['id']}: {r['state']}, serving corte {r.get('serving_cut')}, {r.get('cuts_behind')} cuts behind, "
          f"lag {r.get('lag_seconds')} s, {r.get('pages_checked')} pages checked, {r.get('pages_bad')} bad; "
          f"rounds: " + " ".join(f"{h['state']}:{h.get('cut')}" for h in hist[-12:]) + f" ({r.get('reason', '')})")
PY
echo
echo "error lines in the drill's logs ($DIR/logs/):"
grep -n -i -E "error|fail|refused|cannot|stopped|killed|larger than" "$DIR"/logs/*.log "$OUT" | grep -v -E "estado: (Failed to connect|HTTP status 503)" | sed -n 1,40p || true
echo
echo "disk: $(du -sh "$DIR/instituto" | cut -f1) institute store, $(du -sh "$DIR/uaq" | cut -f1) prep serve's store," \
  "$(du -sh "$DIR/diario" | cut -f1) Apache side (store and docroot: du counts each hard-linked file once)"
echo "wall: $(( $(date +%s) - t_start )) s"
exit $rc
