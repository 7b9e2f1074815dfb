#!/usr/bin/env bash
# A night in Apache mode (docs/apache.md "A long night"): a broadcaster receives 30 signed
# cuts of a tiny process with `prep receive --export --link --archive-full 4`.
#  1. files are shared: an unchanged file of two archived cuts is one inode (stat link
#     counts), and after the first cuts each new cut adds a bounded number of inodes and
#     bytes (the cuts below the window are thinned to SHA256SUMS + signature);
#  2. a backlog of 15 cuts received at once: the site is switched to the newest cut
#     before any skipped cut is archived (the export is killed right after the switch and
#     the site, checked by a real apache2, already serves cut 25), and the next export
#     archives the skipped ones (full within the window, thin below);
#  3. the GC is killed at many points (PREP_EXPORT_GC_KILL_AFTER=N): after every kill the
#     served tree passes `sha256sum -c`, and a last export leaves no unused pool file;
#  4. the store's retention (--store-keep 6), its GC killed at several points: prep verify
#     passes after each kill, and at the end the store holds exactly the objects of the
#     6 newest cuts and every manifest;
#  5. prep verify on the store, sha256sum -c on the docroot and every full archived cut,
#     and every thin cut's SHA256SUMS equals the store's signed manifest.
set -u
PREP=${1:?usage: apache_night.sh PATH-TO-prep}
. "$(dirname "$0")/lib/store.sh"
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-night-XXXXXX)
chmod 755 "$T" # apache's workers run as nobody
cleanup() {
  if [ -s "$T/ap/httpd.pid" ]; then
    local pid; pid=$(cat "$T/ap/httpd.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
is() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi; }
FULL=4
SKEEP=6 # the store keeps the objects of the 6 newest cuts

# --- the institute: 30 signed drill cuts 5 minutes apart
"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
start=$(TZ=America/Mexico_City date -d '2021-06-06 20:00' +%s)
for i in $(seq 0 29); do
  at=$(TZ=America/Mexico_City date -d "@$((start + 300 * i))" '+%Y-%m-%d %H:%M')
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub \
    --store inst --drill >/dev/null 2>&1 || { echo "FAIL - cut at $at"; exit 1; }
done
now_of() { TZ=America/Mexico_City date -d "@$((start + 300 * ($1 - 1) + 60))" '+%Y-%m-%dT%H:%M:%S%:z'; }

# An incoming area with cuts FROM..TO and the objects they reference (a pusher's upload).
incoming() {
  local from=$1 to=$2 dir=$3 s
  rm -rf "$dir"; mkdir -p "$dir/cuts"
  for s in $(seq "$from" "$to"); do
    mkdir -p "$dir/cuts/$s"; cp inst/cuts/$s/manifest inst/cuts/$s/manifest.sig "$dir/cuts/$s/"
  done
  store_objects_of $(seq -f "inst/cuts/%g/manifest" "$from" "$to") | store_copy_objects inst "$dir"
}
receive() { # FROM TO [env...]: receive cuts FROM..TO and export
  local from=$1 to=$2; shift 2
  incoming "$from" "$to" in
  (env "$@" "$PREP" receive --store bstore --from in --pubkey drill.pub --drill --now "$(now_of "$to")" \
    --export "$T/site" --link --archive-full $FULL --store-keep $SKEEP; exit $?) >rcv.log 2>&1
}
inodes() { du -s --inodes site.sitios site.cortes site.objetos | awk '{s += $1} END {print s}'; }
# The bytes of the docroot's files, each inode once (hard links share one), by their sizes
# rather than du's blocks: the same figure on any file system (tmpfs allocates otherwise
# than ext4: du gave 627 KB for cuts 27-30 on one, 184 KB on the other).
bytes() { find site.sitios site.cortes site.objetos ! -type d -printf '%i %s\n' | sort -u -k1,1n | awk '{s += $2} END {print s + 0}'; }
served_ok() { (cd site && sha256sum -c --strict --quiet SHA256SUMS) >/dev/null 2>&1; }

# --- 1. ten cuts one by one; growth per cut once the window is full
declare -a INO BYT
for s in $(seq 1 10); do
  receive "$s" "$s" || { bad "receive cut $s: $(tail -3 rcv.log)"; }
  INO[$s]=$(inodes); BYT[$s]=$(bytes)
done
is "site -> site.sitios/10" "$(readlink site)" site.sitios/10
served_ok && ok "cut 10 passes sha256sum -c" || bad "cut 10 fails sha256sum -c"
full_cut_ino=$((INO[2] - INO[1]))
# A cut's share once the window is full: at most an eighth of what a full cut adds (the
# new stamp, changed bodies and the night's growing files; 75-115 KB a cut of 1.64 MB
# here). Kept full archives would add inodes (bounded above) and an unused pool file is
# counted below; this bounds the bytes of the objects that stay.
cut_bytes_max=$(((BYT[2] - BYT[1]) / 8))
echo "# a full cut adds $full_cut_ino inodes, $((BYT[2] - BYT[1])) bytes; cuts 7-10 added $((INO[10] - INO[6])) inodes, $((BYT[10] - BYT[6])) bytes"
[ $((INO[10] - INO[6])) -le $((4 * 12)) ] && ok "cuts 7-10 add at most 12 inodes each (a full cut adds $full_cut_ino)" ||
  bad "cuts 7-10 added $((INO[10] - INO[6])) inodes (a full cut adds $full_cut_ino)"
[ $((BYT[10] - BYT[6])) -le $((4 * cut_bytes_max)) ] && ok "cuts 7-10 add at most an eighth of a full cut each ($cut_bytes_max bytes)" ||
  bad "cuts 7-10 added $((BYT[10] - BYT[6])) bytes"
thin=$(cd site.cortes && for s in 1 2 3 4 5 6; do ls "$s" | tr '\n' ' '; echo; done | sort -u)
is "cuts 1-6 are thinned to their manifest and signature" "$thin" "SHA256SUMS SHA256SUMS.sig "
full=$(cd site.cortes && for s in 7 8 9 10; do [ -f "$s/index.html" ] && echo "$s"; done | tr '\n' ' ')
is "cuts 7-10 are archived in full" "$full" "7 8 9 10 "
# An unchanged file (a hashed asset, LEEME) is one inode in every full cut and the pool.
A=$(cd site && ls assets/*.css | head -1)
i9=$(stat -c %i "site.cortes/9/$A"); i10=$(stat -c %i "site.cortes/10/$A")
is "an unchanged file of cuts 9 and 10 is one inode" "$i9" "$i10"
is "its link count: the pool and the 4 full cuts" "$(stat -c %h "site.cortes/10/$A")" 5

# --- 2. a backlog: cuts 11-25 at once; the export is killed right after the switch
mkdir -p ap
receive 11 25 PREP_EXPORT_GC_KILL_AFTER=0
is "killed after the switch: site -> site.sitios/25" "$(readlink site)" site.sitios/25
served_ok && ok "cut 25 is served whole" || bad "cut 25 fails sha256sum -c"
[ -d site.cortes/25 ] && [ ! -e site.cortes/24 ] && [ ! -e site.cortes/11 ] &&
  ok "no skipped cut was archived before the switch" || bad "skipped cuts archived before the switch: $(ls site.cortes | sort -n | tr '\n' ' ')"
if command -v apache2 >/dev/null; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ap/key.pem -out ap/cert.pem \
    -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  "$PREP" apache --docroot "$T/site" --server-name localhost --listen 127.0.0.1:$PORT --tls-cert ap/cert.pem \
    --tls-key ap/key.pem --standalone "$T/ap" >ap/httpd.conf
  apache2 -d "$T/ap" -f "$T/ap/httpd.conf" -DFOREGROUND >ap/stdout.log 2>&1 &
  C=(curl -sS -k --resolve "localhost:$PORT:127.0.0.1" --max-time 10)
  for _ in $(seq 100); do "${C[@]}" -o /dev/null "https://localhost:$PORT/" 2>/dev/null && break; sleep 0.1; done
  "${C[@]}" -D h.home -o b.home "https://localhost:$PORT/"
  is "apache serves cut 25 (x-prep-corte)" "$(grep -i '^x-prep-corte:' h.home | tr -d '\r' | awk '{print $2}')" 25
  cmp -s b.home site.cortes/25/index.html && ok "apache's home page is cut 25's" || bad "home page is not cut 25's"
else
  echo "# apache2 not installed: the served cut is checked on disk only"
fi
"$PREP" export --store bstore --out "$T/site" --link --archive-full $FULL >/dev/null 2>x.log ||
  bad "the next export fails: $(cat x.log)"
is "the next export archived the skipped cuts" "$(ls site.cortes | sort -n | tr '\n' ' ')" "$(seq 1 25 | tr '\n' ' ')"
full=$(cd site.cortes && for s in $(seq 11 25); do [ -f "$s/index.html" ] && echo "$s"; done | tr '\n' ' ')
is "full within the window (22-25), thin below" "$full" "22 23 24 25 "

# --- 3. cuts 26-30, each export killed at several points of its GC, then finished
# (cuts 26-29: the store's GC is killed too, at its step 0, 1, 2 and 0)
skill=(0 1 2 0)
for s in $(seq 26 30); do
  if [ "$s" -lt 30 ]; then
    receive "$s" "$s" PREP_STORE_GC_KILL_AFTER=${skill[$((s - 26))]}
    is "cut $s: the store's GC was killed" "$?" 137
    "$PREP" verify --store bstore --pubkey drill.pub --drill >v.log 2>&1 &&
      ok "cut $s: prep verify after the kill" || bad "cut $s: prep verify after the kill: $(tail -3 v.log)"
  fi
  receive "$s" "$s" PREP_EXPORT_GC_KILL_AFTER=$((s % 3))
  is "cut $s: switched before the kill" "$(readlink site)" "site.sitios/$s"
  # every kill point at least once over the five cuts (9 points, not 9 a cut: each kill
  # is a whole export and a sha256sum -c of the served tree)
  case $s in
    26) kills="0 5 34" ;; 27) kills="1 8" ;; 28) kills="2 13" ;; 29) kills="3 21" ;; *) kills="0 1 2 3" ;;
  esac
  for k in $kills; do
    (PREP_EXPORT_GC_KILL_AFTER=$k "$PREP" export --store bstore --out "$T/site" --link --archive-full $FULL; exit $?) \
      >/dev/null 2>&1
    served_ok || bad "cut $s: the served tree fails sha256sum -c after a kill at step $k"
  done
  "$PREP" export --store bstore --out "$T/site" --link --archive-full $FULL >/dev/null 2>x.log ||
    bad "cut $s: export after the kills: $(cat x.log)"
  INO[$s]=$(inodes); BYT[$s]=$(bytes)
done
echo "# cuts 27-30 added $((INO[30] - INO[26])) inodes, $((BYT[30] - BYT[26])) bytes"
[ $((INO[30] - INO[26])) -le $((4 * 12)) ] && ok "cuts 27-30 add at most 12 inodes each" ||
  bad "cuts 27-30 added $((INO[30] - INO[26])) inodes"
[ $((BYT[30] - BYT[26])) -le $((4 * cut_bytes_max)) ] && ok "cuts 27-30 add at most an eighth of a full cut each ($cut_bytes_max bytes)" ||
  bad "cuts 27-30 added $((BYT[30] - BYT[26])) bytes"
left=$(find site.objetos -type f -links 1 ! -name '*.dfl' ! -name '*.none' ! -name lock | wc -l)
is "no pool file is left that no tree links" "$left" 0
is "no leftover of the killed runs" "$(ls -a site.cortes site.sitios | grep -c '^\.\(tmp\|thin\)-')" 0

# --- 4. the store's retention: cuts 1-24 pruned to their manifest, objects of 25-30 only
"$PREP" receive --store bstore --from in --pubkey drill.pub --drill --now "$(now_of 30)" --store-keep $SKEEP \
  >rcv.log 2>&1 || bad "receive --store-keep (nothing new): $(tail -3 rcv.log)"
pr=$(for s in $(seq 1 30); do [ -f bstore/cuts/$s/pruned ] && echo "$s"; done | tr '\n' ' ')
is "the store marks cuts 1-24 pruned" "$pr" "$(seq 1 24 | tr '\n' ' ')"
want=$(store_objects_of $(seq -f "bstore/cuts/%g/manifest" 25 30))
have=$(cd bstore/objects && find . -type f | sed 's|^\./||; s|/||' | sort)
[ "$want" = "$have" ] && ok "the store holds exactly the objects of cuts 25-30 ($(echo "$have" | wc -l))" ||
  bad "store objects: $(comm -3 <(echo "$want") <(echo "$have") | head -3)"
for s in $(seq 1 30); do cmp -s bstore/cuts/$s/manifest inst/cuts/$s/manifest || bad "cut $s's manifest changed"; done

# --- 5. everything still verifies
"$PREP" verify --store bstore --pubkey drill.pub --drill >v.log 2>&1 && ok "prep verify on the store" ||
  bad "prep verify: $(tail -3 v.log)"
served_ok && ok "the docroot passes sha256sum -c" || bad "the docroot fails sha256sum -c"
badfull=""
for s in 27 28 29 30; do (cd site.cortes/$s && sha256sum -c --strict --quiet SHA256SUMS >/dev/null 2>&1) || badfull+="$s "; done
is "the full archived cuts pass sha256sum -c" "$badfull" ""
badthin=""
for s in $(seq 1 26); do cmp -s site.cortes/$s/SHA256SUMS bstore/cuts/$s/manifest &&
  cmp -s site.cortes/$s/SHA256SUMS.sig bstore/cuts/$s/manifest.sig || badthin+="$s "; done
is "every thin cut keeps the signed manifest and signature" "$badthin" ""
for s in 3 26; do
  n=$(ls site.cortes/$s | tr '\n' ' ')
  is "cut $s is thin" "$n" "SHA256SUMS SHA256SUMS.sig "
done

[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failed"; exit 1; }
