#!/usr/bin/env bash
# A night of Apache mode at Querétaro 2021 scale (issue 13 item 9; docs/benchmarks.md).
#
#   bench/bench_apache_night.sh PATH-TO-prep [CUTS] [ARCHIVE_FULL] [WORKDIR] [OLD]
#
# The institute: `prep sim catalog --scale qro2021`, `prep sim actas --seed 1`, then a cut
# every simulated 5 minutes from 20:00 (`prep cut --catalog`), CUTS of them (default 48).
# After each cut, the broadcaster's export in Apache mode (`prep export --link
# --archive-full ARCHIVE_FULL`, default 8) of that cut into WORKDIR/site. Per cut it prints
# the export's CPU seconds (user + sys, /usr/bin/time), the new bytes and inodes of the
# docroot (site.sitios + site.cortes + site.objetos, each inode counted once: du) and the
# growth of the store; then the mean over the cuts after the window filled, the goals, and
# the figures extrapolated to 576 cuts (48 hours) from the last cut's totals plus the
# steady growth per cut. The store is the institute's; a broadcaster's store receives the
# same cuts and objects, so it grows alike.
#
# OLD (optional): an A/B in the same run. A path to another prep binary, or a git revision
# of this repository, built (RelWithDebInfo, `ninja -j2 prep`) into WORKDIR/old-REV. Each
# cut is then also exported by OLD into WORKDIR/old/site, the two exports taking turns to
# go first, and its CPU seconds are printed beside the new ones (column `old`): the
# machine's noise (other jobs, a VM's steal) hits both alike. The docroot figures are the
# new build's.
set -eu
PREP=${1:?usage: bench_apache_night.sh PATH-TO-prep [CUTS] [ARCHIVE_FULL] [WORKDIR] [OLD]}
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
CUTS=${2:-48}
FULL=${3:-8}
W=${4:-$(mktemp -d /tmp/prep-bench-night-XXXXXX)}
OLD=${5:-}
mkdir -p "$W"
W=$(cd "$W" && pwd)
if [ -n "$OLD" ] && [ ! -x "$OLD" ]; then
  REPO=$(cd "$(dirname "$0")/.." && pwd)
  REV=$(git -C "$REPO" rev-parse --short "$OLD")
  OB="$W/old-$REV"
  if [ ! -x "$OB/build/prep" ]; then
    rm -rf "$OB" && mkdir -p "$OB/src"
    git -C "$REPO" archive "$REV" | tar -x -C "$OB/src"
    cmake -S "$OB/src" -B "$OB/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ninja -C "$OB/build" -j2 prep >/dev/null
  fi
  OLD="$OB/build/prep"
fi
[ -z "$OLD" ] || OLD=$(cd "$(dirname "$OLD")" && pwd)/$(basename "$OLD")
cd "$W"
[ -f qro.cat ] || "$PREP" sim catalog --scale qro2021 --out qro.cat >/dev/null
[ -d actas ] || "$PREP" sim actas --catalog qro.cat --out actas --seed 1 >/dev/null 2>&1
[ -f drill.key ] || "$PREP" keygen --out drill --drill >/dev/null
rm -rf inst site site.sitios site.cortes site.objetos old
[ -z "$OLD" ] || mkdir -p old
start=$(TZ=America/Mexico_City date -d '2021-06-06 20:00' +%s)
docroot() { du -s -B1 site.sitios site.cortes site.objetos 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
docino() { du -s --inodes site.sitios site.cortes site.objetos 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
storeb() { du -s -B1 inst 2>/dev/null | awk '{printf "%.0f\n", $1}'; }
echo "# prep $(git -C "$(dirname "$PREP")/.." rev-parse --short HEAD 2>/dev/null || echo '?'), $CUTS cuts, --archive-full $FULL, in $W ($(df -T . | awk 'NR==2 {print $2}'))"
[ -z "$OLD" ] || echo "# A/B: old = $OLD"
printf '%4s %6s %7s %7s %7s %7s %12s %9s %12s\n' cut capt user sys cpu old docroot+B docroot+i store+B
b0=0 i0=0 s0=0
sum_cpu=0 sum_b=0 sum_i=0 sum_s=0 n=0 max_cpu=0 sum_old=0 max_old=0
# export_cpu BIN DOCROOT FILE: one `prep export --link` of the store's active cut; "user sys" in FILE
export_cpu() {
  /usr/bin/time -f "%U %S" -o "$3" "$1" export --store inst --out "$2" --link --archive-full "$FULL" \
    >/dev/null 2>x.log || { echo "export of cut $seq by $1 failed:"; cat x.log; exit 1; }
}
steady_from=$((FULL + 5)) # the window and the kept trees are full from here on
for i in $(seq 0 $((CUTS - 1))); do
  seq=$((i + 1))
  at=$(TZ=America/Mexico_City date -d "@$((start + 300 * i))" '+%Y-%m-%d %H:%M')
  capt=$("$PREP" cut --catalog qro.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub \
    --store inst --drill 2>&1 | sed -n 's/.*: \([0-9]*\) captures in the cut.*/\1/p')
  s1=$(storeb)
  ocpu=0
  if [ -n "$OLD" ] && [ $((seq % 2)) -eq 0 ]; then export_cpu "$OLD" "$W/old/site" t.old; fi
  export_cpu "$PREP" "$W/site" t.out
  if [ -n "$OLD" ] && [ $((seq % 2)) -eq 1 ]; then export_cpu "$OLD" "$W/old/site" t.old; fi
  read -r u s < t.out
  if [ -n "$OLD" ]; then read -r ou os < t.old; ocpu=$(echo "$ou + $os" | bc); fi
  b1=$(docroot); i1=$(docino)
  cpu=$(echo "$u + $s" | bc)
  printf '%4d %6s %7.2f %7.2f %7.2f %7s %12d %9d %12d\n' "$seq" "${capt:-?}" "$u" "$s" "$cpu" \
    "$([ -n "$OLD" ] && printf '%.2f' "$ocpu" || echo -)" $((b1 - b0)) $((i1 - i0)) $((s1 - s0))
  if [ "$seq" -ge "$steady_from" ]; then
    sum_cpu=$(echo "$sum_cpu + $cpu" | bc); n=$((n + 1))
    sum_old=$(echo "$sum_old + $ocpu" | bc)
    max_old=$(echo "if ($ocpu > $max_old) $ocpu else $max_old" | bc)
    sum_b=$((sum_b + b1 - b0)); sum_i=$((sum_i + i1 - i0)); sum_s=$((sum_s + s1 - s0))
    max_cpu=$(echo "if ($cpu > $max_cpu) $cpu else $max_cpu" | bc)
  fi
  b0=$b1; i0=$i1; s0=$s1
done
[ "$n" -gt 0 ] || { echo "# too few cuts for a steady state (need more than $steady_from)"; exit 0; }
mb() { echo "scale=1; $1 / 1000000" | bc; }
gb() { echo "scale=2; $1 / 1000000000" | bc; }
avg_cpu=$(echo "scale=2; $sum_cpu / $n" | bc)
avg_b=$((sum_b / n)); avg_i=$((sum_i / n)); avg_s=$((sum_s / n))
left=$((576 - CUTS))
proj_b=$((b0 + left * avg_b)); proj_i=$((i0 + left * avg_i)); proj_s=$((s0 + left * avg_s))
# A structural estimate as well: pages grow while actas arrive, so the busy hours' growth
# per cut overstates the rest of the night. After the window, a new cut adds its thin
# remainder (SHA256SUMS + signature) once its full tree is dropped, and the window holds
# ARCHIVE_FULL whole cuts of the final size: measured on the last cut of the window
# (7 June 19:55), made and exported after the night's cuts.
thin_b=$(du -s -B1 "site.cortes/$((CUTS - FULL - 4))" | awk '{printf "%.0f\n", $1}')
full_now=$(du -s -B1 "site.cortes/$CUTS" | awk '{printf "%.0f\n", $1}')
"$PREP" cut --catalog qro.cat --actas actas --at '2021-06-07 19:55' --key drill.key --pubkey drill.pub \
  --store inst --drill >/dev/null 2>&1
"$PREP" export --store inst --out "$W/site" --link --archive-full "$FULL" >/dev/null 2>&1
full_final=$(du -s -B1 "site.cortes/$((CUTS + 1))" | awk '{printf "%.0f\n", $1}')
struct_b=$((b0 + left * thin_b + FULL * (full_final - full_now)))
echo
echo "# steady state: cuts $steady_from-$CUTS ($n cuts), means per new cut"
printf '%-44s %14s %14s\n' "" measured goal
printf '%-44s %14s %14s\n' "export CPU s (mean / max)" "$avg_cpu / $max_cpu" "<= 2"
[ -z "$OLD" ] || printf '%-44s %14s %14s\n' "  the same cuts, old build (mean / max)" "$(echo "scale=2; $sum_old / $n" | bc) / $max_old" ""
printf '%-44s %14s %14s\n' "new docroot disk per cut, MB" "$(mb $avg_b)" "<= 30"
printf '%-44s %14s %14s\n' "new docroot inodes per cut" "$avg_i" ""
printf '%-44s %14s %14s\n' "store growth per cut, MB" "$(mb $avg_s)" ""
echo "# after $CUTS cuts: docroot $(gb "$b0") GB, $i0 inodes; store $(gb "$s0") GB"
echo "# a thin cut: $(mb "$thin_b") MB; the newest whole cut: $(mb "$full_now") MB, the night's last: $(mb "$full_final") MB"
echo "# extrapolated to 576 cuts (the last totals + $left x the steady growth per cut):"
printf '%-44s %14s %14s\n' "docroot disk, GB (linear, upper bound)" "$(gb $proj_b)" "<= 8"
printf '%-44s %14s %14s\n' "docroot disk, GB (thin cuts + final window)" "$(gb $struct_b)" "<= 8"
printf '%-44s %14s %14s\n' "docroot inodes" "$proj_i" "<= 1000000"
printf '%-44s %14s %14s\n' "institute's store, GB (linear, upper bound)" "$(gb $proj_s)" "<= 10"
