#!/usr/bin/env bash
# The Debian package end to end (issue 17 items 1-3, 5): builds prep_<version>_amd64.deb
# from the tree with dpkg-buildpackage (once, in a temporary copy), runs lintian (no error,
# no warning), installs it with apt-get, runs `prep --version` and `prep check`, checks
# the installed units with `systemd-analyze verify` and `security` (exposure <= 2.5 each),
# the man pages against --help and their rendering, starts `prep serve` the way
# prep-serve.service does (user prep, only CAP_NET_BIND_SERVICE, no new privileges, on a
# port below 1024 of loopback, a drill cut) and fetches a page over HTTPS; starts and
# restarts the unit with systemctl when PID 1 is systemd (skipped, with the reason,
# otherwise); lets the installed monitor send its alerts by mail and by webhook
# (monitor_alerts.sh with /usr/bin/prep); then purges the package and checks that nothing
# of it is left: binary,
# /etc/prep, units, man pages, /var/lib/prep, the prep user and group.
#
# Needs root (it installs a package). Takes about 2 minutes (the build is most of it).
# Exit 77 only when it cannot run here at all: not root, a tool missing, or a prep
# package or user already on the machine that the test must not touch.
# Usage: debian_package.sh PATH/TO/prep   (the build's binary: only its --version is used)
set -u
BUILT=${1:?usage: debian_package.sh PATH/TO/prep}
SRC=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
skip() { echo "skipped: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "installing a package needs root"
for t in dpkg-buildpackage dh lintian systemd-analyze apt-get groff man setpriv runuser curl openssl; do
  command -v "$t" >/dev/null || skip "$t is not installed (scripts/setup.sh installs it)"
done
if dpkg-query -W -f='${Status}' prep 2>/dev/null | grep -q 'install ok'; then
  skip "a prep package is already installed here; this test installs and purges its own"
fi
getent passwd prep >/dev/null && skip "a user 'prep' exists without the package; purging would remove it"
[ -e /var/lib/prep ] && skip "/var/lib/prep exists without the package; purging would remove it"

T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-deb.XXXXXX)
SPID=
installed=0
cleanup() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  # never leave the package behind, also when a check failed half-way
  [ $installed = 1 ] && DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 prep >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
t0=$(date +%s)

# ---- build, once, in a copy of the tree (the .deb lands beside it, in $T)
mkdir -p "$T/prep"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  # tracked and new files of the working tree, as they are now; nothing ignored (build*/)
  (cd "$SRC" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$T/prep"
else
  tar -C "$SRC" --exclude='./build*' --exclude='./out' --exclude=node_modules -cf - . | tar -xf - -C "$T/prep"
fi
if (cd "$T/prep" && dpkg-buildpackage -us -uc -b -j2) >"$T/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - t0 )) s)"
else
  tail -40 "$T/build.log"; bad "dpkg-buildpackage failed"; exit 1
fi
ver=$(cd "$T/prep" && dpkg-parsechangelog -S Version)
deb=$T/prep_${ver}_$(dpkg --print-architecture).deb
[ -s "$deb" ] && ok "built $(basename "$deb")" || { bad "no $deb"; ls "$T"; exit 1; }
[ "$("$BUILT" --version)" = "prep $ver" ] && ok "debian/changelog's version is prep --version's ($ver)" ||
  bad "debian/changelog says $ver, $BUILT --version says '$("$BUILT" --version)' (CMakeLists.txt project VERSION)"

# ---- lintian: no error, no warning (overrides only with a reason: debian/*.lintian-overrides)
lintian --pedantic "$T"/prep_"${ver}"_*.changes >"$T/lintian.txt" 2>&1
grep -v '^running with root privileges' "$T/lintian.txt" | sed 's/^/  lintian: /'
if grep -qE '^[EW]: ' "$T/lintian.txt"; then bad "lintian reports errors or warnings"; else
  ok "lintian: no error, no warning ($(grep -cE '^[IPX]: ' "$T/lintian.txt") info/pedantic tags)"; fi

# ---- install
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "$deb" >"$T/apt.log" 2>&1; then
  installed=1; ok "apt-get install ./$(basename "$deb")"
else
  tail -20 "$T/apt.log"; bad "apt-get install failed"; exit 1
fi
[ "$(/usr/bin/prep --version)" = "prep $ver" ] && ok "/usr/bin/prep --version: prep $ver" || bad "installed --version"
# prep check: asserts it runs and prints its report, not that this machine passes
/usr/bin/prep check >"$T/check.txt" 2>&1; rc=$?
if [ $rc -le 1 ] && grep -qE '^[0-9]+ pass, [0-9]+ fail, [0-9]+ cannot tell$' "$T/check.txt"; then
  ok "prep check ran and reported (exit $rc): $(grep -E '^[0-9]+ pass, ' "$T/check.txt")"
else bad "prep check exit $rc: $(tail -5 "$T/check.txt")"; fi

# the shipped example configs are what the daemons accept: any complaint is about the
# files an administrator still has to provide, never the config's syntax, keys or values
out=$(runuser -u prep -- /usr/bin/prep institute --config /etc/prep/institute.json 2>&1)
if grep -q 'config-' <<<"$out"; then bad "/etc/prep/institute.json refused: $out"
else ok "/etc/prep/institute.json accepted (then: $(head -1 <<<"$out"))"; fi
out=$(timeout 60 runuser -u prep -- /usr/bin/prep monitor --config /etc/prep/monitor.json --once 2>&1)
if grep -q 'config-' <<<"$out"; then bad "/etc/prep/monitor.json refused: $out"
else ok "/etc/prep/monitor.json accepted (then: $(head -1 <<<"$out"))"; fi

# ---- user, state, conffiles
if getent passwd prep | awk -F: '{exit !($3 < 1000 && $6 == "/var/lib/prep")}'; then
  ok "system user prep, home /var/lib/prep"; else bad "user prep: $(getent passwd prep)"; fi
for d in institute serve receive monitor; do
  [ "$(stat -c %U:%G "/var/lib/prep/$d" 2>/dev/null)" = prep:prep ] || bad "/var/lib/prep/$d is not prep's"
done
conff=$(dpkg-query -W -f='${Conffiles}' prep)
for f in institute.json monitor.json serve.conf receive.conf; do
  grep -q "/etc/prep/$f " <<<"$conff" || bad "/etc/prep/$f is not a conffile"
done
ok "state directories and conffiles"

# ---- units: verify (no output at all) and security exposure <= 2.5
units="prep-institute prep-serve prep-receive prep-monitor"
for u in $units; do
  f=/lib/systemd/system/$u.service
  [ -s "$f" ] || { bad "$f missing"; continue; }
  out=$(systemd-analyze verify "$f" 2>&1)
  [ -z "$out" ] && ok "systemd-analyze verify $u.service: clean" || bad "systemd-analyze verify $u.service: $out"
  sec=$(systemd-analyze security --offline=true "$f" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  if [ -n "$sec" ] && awk -v s="$sec" 'BEGIN{exit !(s <= 2.5)}'; then
    ok "systemd-analyze security $u.service: exposure $sec"
  else bad "systemd-analyze security $u.service: exposure '${sec:-?}' (> 2.5)"; fi
  grep -q '^ExecReload' "$f" && bad "$u: ExecReload, but no prep daemon reloads on a signal (docs/debian.md)"
  grep -q '^User=prep$' "$f" || bad "$u: not User=prep"
done

# ---- man pages: installed = what the binary prints; options = --help's; no warnings
# shellcheck source=lib/man_check.sh
. "$SRC/tests/integ/lib/man_check.sh"
bash "$SRC/scripts/man-pages.sh" /usr/bin/prep "$T/man" >/dev/null
man_check /usr/bin/prep "$T/man"
same=1
while IFS=$'\t' read -r name _; do
  zcat "/usr/share/man/man1/$name.1.gz" 2>/dev/null | cmp -s - "$T/man/$name.1" || { same=0; bad "installed $name.1 differs"; }
done <"$T/man/pages.txt"
[ $same = 1 ] && ok "the $(wc -l <"$T/man/pages.txt") installed pages are the binary's"
for p in prep prep-serve prep-difusor-add; do
  w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings "$p" 2>&1 >/dev/null)
  { [ -z "$w" ] && man -w "$p" >/dev/null 2>&1; } && ok "man $p: found, no warning" || bad "man $p: $w"
done

# ---- prep serve as prep-serve.service runs it
grep -q '^ExecStart=/usr/bin/prep serve \$PREP_SERVE_OPTS$' /lib/systemd/system/prep-serve.service ||
  bad "prep-serve.service's ExecStart is not '/usr/bin/prep serve \$PREP_SERVE_OPTS'"
W=/var/lib/prep/serve/drill
runuser -u prep -- mkdir -p "$W"
asprep() { runuser -u prep -- "$@"; }
(cd "$W" && asprep /usr/bin/prep sim catalog --scale tiny --seed 7 --out tiny.cat >/dev/null 2>&1 &&
  asprep /usr/bin/prep sim actas --catalog tiny.cat --out actas --seed 7 >/dev/null 2>&1 &&
  asprep /usr/bin/prep keygen --out drill --drill >/dev/null 2>&1 &&
  asprep /usr/bin/prep cut --catalog tiny.cat --actas actas --at "2021-06-06 21:00" --key drill.key \
    --pubkey drill.pub --store "$W/store" --drill >"$T/cut.txt" 2>&1) && ok "a drill cut made as user prep" ||
  bad "drill cut: $(tail -3 "$T/cut.txt")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" \
  -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
chown prep:prep "$W/key.pem" "$W/cert.pem"
# a free port below 1024: only CAP_NET_BIND_SERVICE lets user prep bind it
port=
for p in $(shuf -i 600-999 -n 40); do
  ss -Hltn "sport = :$p" | grep -q . || { port=$p; break; }
done
[ -n "$port" ] || bad "no free port in 600..999"
# what systemd does for the unit: User=prep, Group=prep, NoNewPrivileges=yes,
# CapabilityBoundingSet= and AmbientCapabilities=CAP_NET_BIND_SERVICE, UMask=0027
PREP_SERVE_OPTS="--store $W/store --tls-listen 127.0.0.1:$port --tls-cert $W/cert.pem --tls-key $W/key.pem --listen 127.0.0.1:0 --threads 2"
# shellcheck disable=SC2086  # split like systemd splits $PREP_SERVE_OPTS
(umask 0027; exec setpriv --reuid prep --regid prep --init-groups --no-new-privs \
  --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
  /usr/bin/prep serve $PREP_SERVE_OPTS) >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
for _ in $(seq 100); do grep -q "listening on https://" "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
if grep -q "listening on https://127.0.0.1:$port/" "$T/serve.out"; then
  ok "prep serve as user prep bound 127.0.0.1:$port with only CAP_NET_BIND_SERVICE"
  [ "$(ps -o user= -p "$SPID")" = prep ] && ok "it runs as prep" || bad "serve runs as $(ps -o user= -p "$SPID")"
  code=$(curl -s -o "$T/page.html" -w '%{http_code}' --cacert "$W/cert.pem" "https://127.0.0.1:$port/")
  if [ "$code" = 200 ] && grep -qi 'simulacro' "$T/page.html"; then ok "GET https://127.0.0.1:$port/: 200, the drill page"
  else bad "GET /: $code"; fi
  curl -sf --cacert "$W/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && ok "/health answers" || bad "/health"
else
  bad "prep serve did not listen: $(cat "$T/serve.out" "$T/serve.err" | tail -5)"
fi
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
# the control: without the capability user prep cannot bind that port (unless this
# kernel lets anyone bind it: net.ipv4.ip_unprivileged_port_start)
if [ -n "$port" ] && [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)" -gt "$port" ]; then
  # shellcheck disable=SC2086
  timeout 10 setpriv --reuid prep --regid prep --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
    /usr/bin/prep serve $PREP_SERVE_OPTS >"$T/nocap.out" 2>&1
  rc=$?
  if grep -q "listening on https://127.0.0.1:$port/" "$T/nocap.out" || [ $rc = 124 ] || [ $rc = 0 ]; then
    bad "without CAP_NET_BIND_SERVICE prep serve ran on port $port (exit $rc)"
  else ok "without CAP_NET_BIND_SERVICE it cannot bind port $port (exit $rc): $(tail -1 "$T/nocap.out")"; fi
fi

# ---- systemctl: only where systemd is PID 1
pid1=$(ps -o comm= -p 1)
if [ -d /run/systemd/system ] && [ "$pid1" = systemd ]; then
  mkdir -p /run/systemd/system/prep-serve.service.d
  printf '[Service]\nEnvironmentFile=\nEnvironment="PREP_SERVE_OPTS=%s"\n' "$PREP_SERVE_OPTS" \
    >/run/systemd/system/prep-serve.service.d/test.conf
  systemctl daemon-reload
  for step in start restart; do
    systemctl "$step" prep-serve.service || bad "systemctl $step prep-serve"
    okc=0
    for _ in $(seq 50); do
      curl -sf --cacert "$W/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && { okc=1; break; }; sleep 0.2
    done
    [ $okc = 1 ] && ok "systemctl $step prep-serve: the page answers" || bad "after systemctl $step: no answer"
  done
  systemctl stop prep-serve.service
  rm -rf /run/systemd/system/prep-serve.service.d; systemctl daemon-reload
else
  echo "skipped: systemctl start/restart of prep-serve.service: PID 1 is '$pid1', not systemd (the same ExecStart ran under setpriv above; the static checks ran)"
fi

# ---- the installed monitor sends its alerts: one by mail, one by webhook (issue 17)
# The installed /usr/bin/prep runs the monitor's alert rounds against a real SMTP server
# (STARTTLS) and a webhook receiver: tests/integ/monitor_alerts.sh, with this binary.
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  if bash "$SRC/tests/integ/monitor_alerts.sh" /usr/bin/prep >"$T/alerts.txt" 2>&1; then
    ok "the installed prep monitor sent its alerts by mail and by webhook ($(grep -c . "$T/alerts.txt") lines of the run)"
  else tail -15 "$T/alerts.txt"; bad "the installed prep monitor's alerts"; fi
else
  bad "python3-aiosmtpd missing (scripts/setup.sh installs it): the monitor's alerts not tried"
fi

# ---- purge: nothing left
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 prep >"$T/purge.log" 2>&1; then
  installed=0; ok "apt-get purge prep"
else tail -10 "$T/purge.log"; bad "apt-get purge failed"; fi
left=
for f in /usr/bin/prep /etc/prep /var/lib/prep /usr/share/doc/prep /usr/share/man/man1/prep.1.gz \
  /usr/share/man/man1/prep-serve.1.gz /lib/systemd/system/prep-serve.service /lib/systemd/system/prep-institute.service \
  /lib/systemd/system/prep-receive.service /lib/systemd/system/prep-monitor.service; do
  [ -e "$f" ] && left="$left $f"
done
getent passwd prep >/dev/null && left="$left user:prep"
getent group prep >/dev/null && left="$left group:prep"
dpkg-query -W -f='${Status}' prep 2>/dev/null | grep -q 'not-installed\|^$' || [ -z "$(dpkg-query -W -f='${Status}' prep 2>/dev/null)" ] ||
  left="$left dpkg:$(dpkg-query -W -f='${Status}' prep)"
[ -z "$left" ] && ok "nothing of prep left after purge" || bad "left after purge:$left"

echo "debian_package: $(( $(date +%s) - t0 )) s"
[ $fails -eq 0 ] && echo "debian_package: all ok" || { echo "debian_package: $fails failed"; exit 1; }
