#!/usr/bin/env bash
# Apache mode on a full disk (docs/apache.md "A long night"): the docroot lives on a 14 MB
# tmpfs. Exporting every cut whole (--archive-full 0) fills it: the export fails naming
# "no space left on device" and the path, and the site stays on the last good cut, whole.
# Then an export with the retention (--archive-full 2) applies it before the new cut
# (the retention normally runs after the switch, which a full disk never reaches) and
# switches to the newest cut; 8 more cuts then fit on the same disk. Needs root (mount).
# Sized so that about four whole cuts of the tiny simulated process fit (one is ~3 MB and
# ~720 files with the section tree and the open data): the retention's two whole cuts and
# the new one fit, twelve whole cuts do not.
set -u
PREP=${1:?usage: apache_full_disk.sh PATH-TO-prep}
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-full-XXXXXX)
cleanup() { umount "$T/disk" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T"
mkdir disk
mount -t tmpfs -o size=14m,nr_inodes=9000 tmpfs disk 2>/dev/null || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
is() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi; }
served_ok() { (cd disk/site && sha256sum -c --strict --quiet SHA256SUMS) >/dev/null 2>&1; }

"$PREP" sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 7 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
start=$(TZ=America/Mexico_City date -d '2021-06-06 20:00' +%s)
for i in $(seq 0 19); do
  at=$(TZ=America/Mexico_City date -d "@$((start + 300 * i))" '+%Y-%m-%d %H:%M')
  "$PREP" cut --catalog tiny.cat --actas actas --at "$at" --key drill.key --pubkey drill.pub \
    --store st --drill >/dev/null 2>&1 || { echo "FAIL - cut at $at"; exit 1; }
done
export_cut() { # SEQ ARCHIVE_FULL
  "$PREP" export --store st --cut "$1" --out "$T/disk/site" --link --keep 0 --archive-full "$2" >x.log 2>&1
}

# 1. every cut whole until the disk is full
last=0 failed=0
for s in $(seq 1 12); do
  if export_cut "$s" 0; then last=$s; else failed=$s; break; fi
done
[ "$failed" -gt 0 ] && ok "the disk filled at cut $failed" || bad "the disk never filled"
grep -q "no space left on device (or no free inode) while [a-z ]* $T/disk/site" x.log &&
  ok "the failure names ENOSPC and the path" || bad "the failure: $(head -3 x.log)"
is "the site stays on cut $last" "$(readlink disk/site)" "site.sitios/$last"
served_ok && ok "cut $last is still served whole" || bad "the served cut fails sha256sum -c"

# 2. the retention frees space first, then the newest cut is switched in
export_cut 12 2 && ok "the export with --archive-full 2 succeeds on the full disk" || bad "export: $(cat x.log)"
grep -q "recovered" x.log && ok "it says it recovered" || bad "no recovery note: $(cat x.log)"
is "site -> site.sitios/12" "$(readlink disk/site)" site.sitios/12
served_ok && ok "cut 12 is served whole" || bad "cut 12 fails sha256sum -c"

# 3. the night goes on on the same disk
bad_runs=""
for s in $(seq 13 20); do export_cut "$s" 2 || bad_runs+="$s "; served_ok || bad_runs+="$s(sha) "; done
is "cuts 13-20 export on the same 14 MB disk" "$bad_runs" ""
is "site -> site.sitios/20" "$(readlink disk/site)" site.sitios/20
thin=$(cd disk/site.cortes && ls 5 | tr '\n' ' ')
is "old cuts keep their manifest and signature" "$thin" "SHA256SUMS SHA256SUMS.sig "

[ "$fails" -eq 0 ] && echo "PASS" || { echo "$fails failed"; exit 1; }
