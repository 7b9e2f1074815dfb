#!/usr/bin/env bash
# Benchmark (issue 6): cut instant -> served by 50 broadcasters on loopback (target <= 10 s),
# and the bytes sent per cut per broadcaster. A benchmark, not a test: never run by
# scripts/test.sh; ~5 minutes at Querétaro scale on a 2-core machine.
#
# The mix (defaults): 40 pull broadcasters (`prep serve --pull LINK --threads 1`), 5 SFTP
# (one sshd, 5 incoming dirs, each watched by `prep receive --watch` and served by `prep
# serve --threads 1`) and 5 FTPS (one vsftpd, 5 dirs, the same). The institute (`prep
# institute`, accelerated clock) makes --cuts cuts from the busy hour (21:05 on) every
# --seconds-per-cut seconds. Every broadcaster starts seeded with the institute's cut 1
# (hard links of its store; the pushers' state says "delivered 1"), as after a drill:
# the first whole cut is not what is measured (over FTPS it costs ~0.2 s per file here,
# 15,000 files). A poller (bench_delivery_poll.py) reads the institute's active pointer
# and every broadcaster's /health every 100 ms.
#
# Prints per cut: the delay from the cut's creation (its active pointer's mtime) to the
# moment each broadcaster serves it: min / median / p90 / max, overall and per method;
# the bytes each broadcaster received for it (pull: its "pulled" log line; push: the
# institute's delivery line); the CPU each `prep serve` spent loading it; the
# institute's CPU for the cut.
#
# Usage: bench/bench_delivery.sh PATH/TO/prep [--scale qro2021|tiny] [--cuts N]
#        [--pull N] [--sftp N] [--ftps N] [--seconds-per-cut S]   (KEEP=1 keeps the dir)
# SFTP/FTPS broadcasters need root (sshd) and sshd/vsftpd; without them only pull ones run.
set -uo pipefail
case ${1:-} in
  ''|-h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
PREP=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
HERE=$(cd "$(dirname "$0")" && pwd)
SCALE=qro2021 CUTS=4 NPULL=40 NSFTP=5 NFTPS=5 SPC=
while [ $# -gt 0 ]; do
  case $1 in
    --scale) SCALE=$2; shift 2 ;;
    --cuts) CUTS=$2; shift 2 ;;
    --pull) NPULL=$2; shift 2 ;;
    --sftp) NSFTP=$2; shift 2 ;;
    --ftps) NFTPS=$2; shift 2 ;;
    --seconds-per-cut) SPC=$2; shift 2 ;;
    *) echo "usage: $0 PREP [--scale qro2021|tiny] [--cuts N] [--pull N] [--sftp N] [--ftps N] [--seconds-per-cut S]" >&2; exit 2 ;;
  esac
done
[ -n "$SPC" ] || { [ "$SCALE" = tiny ] && SPC=6 || SPC=30; }
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] || [ ! -x /usr/sbin/vsftpd ]; then
  echo "note: no root or no sshd/vsftpd: pull broadcasters only"; NSFTP=0; NFTPS=0
fi
# Measured here: a `prep serve` holding a Querétaro-scale cut has 0.5-0.8 GB RSS (twice
# that while it switches) and spends ~8 CPU s loading it; 50 of them do not fit in 24 GB
# (the OOM killer took the institute). Refuse rather than take the machine down.
if [ "$SCALE" = qro2021 ]; then
  need=$(( (NPULL + NSFTP + NFTPS) * 1100 + 2000 ))
  avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
  [ "$avail" -ge "$need" ] || { echo "bench_delivery: $((NPULL + NSFTP + NFTPS)) Querétaro-scale servers need ~$need MB, $avail MB available: use fewer (--pull/--sftp/--ftps) or --scale tiny" >&2; exit 2; }
fi
. "$HERE/../tests/integ/lib/peers.sh"
T=$(mktemp -d /tmp/prep-bench-delivery.XXXXXX)
peer_cleanup_on_exit "$T"
mkdir -p "$T/logs"
start() { local n=$1; shift; "$@" >>"$T/logs/$n.log" 2>&1 & peer_track $!; }
die() { echo "bench_delivery: $*" >&2; exit 1; }
say() { echo "[$(date +%T)] $*"; }

say "inputs: $SCALE catalogue, simulated night, drill key, certificate (in $T)"
"$PREP" sim catalog --scale "$SCALE" --out "$T/cat.cat" >/dev/null &&
  "$PREP" sim actas --catalog "$T/cat.cat" --out "$T/actas" --seed 2021 >/dev/null 2>&1 &&
  "$PREP" keygen --out "$T/ieeq" --drill >/dev/null || die "inputs"
peer_cert "$T/cert.pem" "$T/key.pem" || die "certificate"

# ---------------------------------------------------------------- sshd and vsftpd
if [ "$NSFTP" -gt 0 ]; then
  SSH_PORT=$(peer_free_port)
  peer_sshd_start "$T" "$SSH_PORT" "$T/logs/sshd.log" "MaxStartups 100" "MaxSessions 100"
  peer_track "$PEER_PID"
  PIN=$PEER_SSH_PIN
  peer_wait_port "$SSH_PORT" 30 || die "sshd did not start"
fi
if [ "$NFTPS" -gt 0 ]; then
  FTP_PORT=$(peer_free_port)
  PEER_PASV_SPAN=400 peer_vsftpd_start "$T" "$FTP_PORT" "$T/ftproot" "$T/logs/vsftpd.log" max_clients=200 max_per_ip=200
  peer_track "$PEER_PID"
  peer_wait_port "$FTP_PORT" 30 || die "vsftpd did not start"
fi

# ---------------------------------------------------------------- the registry
say "registry: $NPULL pull, $NSFTP sftp, $NFTPS ftps broadcasters"
D=(--db "$T/difusores.db")
IDS=() METHOD=()
register() { # id method extra
  printf '%s\n' "id = $1" "name = Difusor $1" "kind = medio" "website = https://$1.example.mx/" \
    "publication-url = https://prep.$1.example.mx/" "legal-name = Ana Pérez" "legal-phone = 442 123 4567" \
    "legal-mobile = 442 765 4321" "legal-email = ana@$1.example.mx" "tech-name = Luis Gómez" \
    "tech-phone = 442 123 4568" "tech-mobile = 442 765 4322" "tech-email = luis@$1.example.mx" "method = $2" \
    "$3" >"$T/reg-$1.txt"
  "$PREP" difusor add "${D[@]}" --from "$T/reg-$1.txt" --by bench >"$T/add-$1.out" 2>&1 || die "add $1: $(cat "$T/add-$1.out")"
  for s in verify-infra approve activate; do
    "$PREP" difusor "$s" "$1" "${D[@]}" --by bench --why bench >/dev/null || die "$s $1"
  done
  IDS+=("$1"); METHOD+=("$2")
}
for i in $(seq 1 "$NPULL"); do register "pull-$i" pull ""; done
for i in $(seq 1 "$NSFTP"); do
  mkdir -p "$T/sftp/sftp-$i"
  register "sftp-$i" sftp "sftp-url = sftp://root@127.0.0.1:$SSH_PORT$T/sftp/sftp-$i/
ssh-host-key = $PIN
ssh-key = $T/clientkey"
done
for i in $(seq 1 "$NFTPS"); do
  mkdir -p "$T/ftproot/ftps-$i"; chmod 0777 "$T/ftproot/ftps-$i"
  register "ftps-$i" ftps "ftps-url = ftp://127.0.0.1:$FTP_PORT/ftps-$i/
ca-file = $T/cert.pem"
done

# ---------------------------------------------------------------- the seed: cut 1 everywhere
PULL_PORT=$(peer_free_port)
inst_config() { # file start max_cuts with-registry
  {
    printf '{\n  "catalog": "%s", "actas": "%s", "key": "%s", "pubkey": "%s", "store": "%s", "drill": true,\n' \
      "$T/cat.cat" "$T/actas" "$T/ieeq.key" "$T/ieeq.pub" "$T/inst"
    printf '  "clock": {"start": "%s", "seconds_per_cut": %s}, "max_cuts": %s' "$2" "$SPC" "$3"
    [ "$4" = 1 ] && printf ',\n  "registry": "%s",\n  "pull": {"listen": "127.0.0.1:%s", "tls_cert": "%s", "tls_key": "%s"},\n  "deliver": {"parallel": 10, "retries": 2, "backoff_ms": 500}' \
      "$T/difusores.db" "$PULL_PORT" "$T/cert.pem" "$T/key.pem"
    printf '\n}\n'
  } >"$1"
}
say "seed: the institute's cut 1 (21:00), copied to every broadcaster's store"
inst_config "$T/seed.json" "2021-06-06 21:00" 1 0
"$PREP" institute --config "$T/seed.json" >"$T/logs/seed.log" 2>&1 || die "seed cut: $(tail -3 "$T/logs/seed.log")"
MAN=$(sed -n 's/^manifest //p' "$T/inst/active")
for id in "${IDS[@]}"; do
  mkdir -p "$T/b/$id/store"
  cp -al "$T/inst/objects" "$T/inst/cuts" "$T/b/$id/store/" && cp "$T/inst/active" "$T/b/$id/store/active" || die "seed $id"
  case $id in pull-*) ;; *) mkdir -p "$T/inst/deliver/$id"
    printf 'prep-deliver-state 1\nsequence 1\nmanifest %s\n' "$MAN" >"$T/inst/deliver/$id/state" ;; esac
done

# ---------------------------------------------------------------- the broadcasters
say "starting ${#IDS[@]} broadcasters (each prep serve loads cut 1 first)"
declare -A PORT TOKEN
POLL_ARGS=()
for k in "${!IDS[@]}"; do
  id=${IDS[$k]}; PORT[$id]=$(peer_free_port)
  SERVE=("$PREP" serve --store "$T/b/$id/store" --tls-listen "127.0.0.1:${PORT[$id]}" --tls-cert "$T/cert.pem"
    --tls-key "$T/key.pem" --threads 1 --poll-ms 100)
  case ${METHOD[$k]} in
    pull) tok=$(sed -n 's/^pull token .*: \([0-9a-f]\{64\}\)$/\1/p' "$T/add-$id.out")
      start "$id" "${SERVE[@]}" --pull "https://127.0.0.1:$PULL_PORT/pull/$tok/" --pubkey "$T/ieeq.pub" --drill \
        --pull-ca "$T/cert.pem" --pull-every 500 ;;
    sftp) start "$id-receive" "$PREP" receive --watch --poll-ms 200 --from "$T/sftp/$id" --store "$T/b/$id/store" \
        --pubkey "$T/ieeq.pub" --drill
      start "$id" "${SERVE[@]}" ;;
    ftps) start "$id-receive" "$PREP" receive --watch --poll-ms 200 --from "$T/ftproot/$id" --store "$T/b/$id/store" \
        --pubkey "$T/ieeq.pub" --drill
      start "$id" "${SERVE[@]}" ;;
  esac
  POLL_ARGS+=("$id=${PORT[$id]}")
done
t0=$SECONDS
for id in "${IDS[@]}"; do
  until [ "$(curl -s --max-time 2 --cacert "$T/cert.pem" "https://127.0.0.1:${PORT[$id]}/health")" = "ok corte 1" ]; do
    [ $((SECONDS - t0)) -lt 300 ] || die "$id does not serve cut 1: $(tail -3 "$T/logs/$id.log")"; sleep 0.5
  done
done
say "all ${#IDS[@]} serve cut 1"

# ---------------------------------------------------------------- the night
say "institute: $CUTS cuts from 21:05, one every $SPC s"
FINAL=$((CUTS + 1))
inst_config "$T/inst.json" "2021-06-06 21:05" "$CUTS" 1
start institute "$PREP" institute --config "$T/inst.json"
START_SEQ=1 python3 "$HERE/bench_delivery_poll.py" "$T/inst" "$T/cert.pem" "$FINAL" $((CUTS * ${SPC%.*} + 120)) "${POLL_ARGS[@]}" \
  >"$T/poll.out" 2>"$T/poll.err"
pst=$?
sleep 2 # the last log lines
[ $pst = 0 ] || echo "WARNING: not every broadcaster served cut $FINAL: $(tail -1 "$T/poll.out")"

# ---------------------------------------------------------------- report
echo
echo "== $SCALE: ${#IDS[@]} broadcasters ($NPULL pull, $NSFTP sftp, $NFTPS ftps), $CUTS cuts, one every $SPC s"
grep '^prep institute: corte [0-9]* (' "$T/logs/institute.log" | sed 's/^prep institute: /  institute: /'
python3 - "$T" "$FINAL" <<'EOF'
import re, sys, glob, os, statistics
T, final = sys.argv[1], int(sys.argv[2])
served = {}
for line in open(os.path.join(T, "poll.out")):
    f = line.split()
    if f[0] == "served":
        served.setdefault(int(f[1]), {})[f[2]] = float(f[3])
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
def stats(v):
    return "n=%2d min %5.2f  median %5.2f  p90 %5.2f  max %5.2f" % (len(v), min(v), statistics.median(v), q(v, .9), max(v)) if v else "n= 0"
# bytes per cut per broadcaster
byts = {}
for f in glob.glob(os.path.join(T, "logs", "pull-*.log")):
    b = os.path.basename(f)[:-4]
    for line in open(f, errors="replace"):
        m = re.search(r"pulled corte (\d+) \((\d+) cortes, (?:\d+ of them as manifest patches, )?(\d+) objetos, (?:\d+ of them gzip.d, )?(\d+) bytes\)", line)
        if m: byts.setdefault(int(m.group(1)), {})[b] = (int(m.group(4)), int(m.group(2)))
for line in open(os.path.join(T, "logs", "institute.log"), errors="replace"):
    m = re.search(r"corte (\d+) entregado a (\S+) por \S+ \([^,]*, (\d+) cortes\): (\d+) archivos, (\d+) objetos, (\d+) bytes en ([\d.]+) s", line)
    if m: byts.setdefault(int(m.group(1)), {})[m.group(2)] = (int(m.group(6)), int(m.group(3)), float(m.group(7)))
load = {}
for f in glob.glob(os.path.join(T, "logs", "*.log")):
    b = os.path.basename(f)[:-4]
    if not re.match(r"(pull|sftp|ftps)-\d+$", b): continue
    for line in open(f, errors="replace"):
        m = re.search(r"corte (\d+) activo \((\d+) archivos, ([\d.]+) s CPU\)", line)
        if m: load.setdefault(int(m.group(1)), []).append(float(m.group(3)))
allv = []
print("\n  cut   delay cut created -> served (s)                         bytes per broadcaster (mean)       serve load CPU (mean)")
for k in sorted(served):
    v = list(served[k].values()); allv += v
    bb = byts.get(k, {})
    def mean_b(pfx):
        x = [b[0] for i, b in bb.items() if i.startswith(pfx) and b[1] == 1]
        return "%s %7.0f KB" % (pfx, statistics.mean(x) / 1024) if x else "%s    -     " % pfx
    ld = load.get(k, [])
    print("  %3d   %s   %s %s %s   %s" % (k, stats(v), mean_b("pull"), mean_b("sftp"), mean_b("ftps"),
          "%.2f s" % statistics.mean(ld) if ld else "-"))
for pfx in ("pull", "sftp", "ftps"):
    v = [d for k in served for b, d in served[k].items() if b.startswith(pfx)]
    if v: print("  %-4s  %s" % (pfx, stats(v)))
print("  all   %s   (target: max <= 10 s)" % stats(allv))
pt = [b[2] for k in byts for i, b in byts[k].items() if len(b) > 2]
if pt: print("  push time per target and cut: median %.2f s, max %.2f s" % (statistics.median(pt), max(pt)))
EOF
echo "  (logs in $T/logs; KEEP=1 keeps them)"
