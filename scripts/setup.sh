#!/usr/bin/env bash
# Installs every Debian 12 package that prep's build, tests and demo use, and the npm
# packages of the browser tests, then builds.
# Idempotent: packages already present are not fetched again. Run as root.
# Usage: scripts/setup.sh [--no-build] [--no-npm]
#   --no-npm: not the browser tests' npm packages (scripts/demo.sh: the drill needs none, so
#   it runs on a machine that cannot reach the npm registry)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=1 NPM_PKGS=1
for a in "$@"; do
  case $a in
    --no-build) BUILD=0 ;;
    --no-npm) NPM_PKGS=0 ;;
    *) echo "usage: scripts/setup.sh [--no-build] [--no-npm]" >&2; exit 2 ;;
  esac
done

# Why each package is here: docs/dependencies.md.
PKGS=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libssl-dev libsodium-dev libcurl4-openssl-dev libsqlite3-dev libjansson-dev
  libnghttp2-dev zlib1g-dev libbrotli-dev
  # tests, sanitizers, fuzzing
  libcmocka-dev clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # runtime data and stock verification tools
  tzdata ca-certificates openssl signify-openbsd sqlite3 coreutils
  # browser tests (docs/testing-browser.md): Debian's Chromium (its headless shell for the
  # checks, the full browser for Lighthouse), driven by playwright-core from npm (never a
  # browser download); tidy for HTML validity; a font for the screenshots
  chromium chromium-headless-shell tidy fonts-dejavu-core
  # real peers started by the tests and the drill (docs/testing-peers.md): Apache httpd 2.4
  # (the broadcasters' stack the call names), nginx and HAProxy (comparison, scale-out),
  # OpenSSH's sshd (SFTP delivery), vsftpd (explicit FTPS delivery); clients curl, h2load/
  # nghttp (HTTP/2) and wrk (load)
  apache2 nginx haproxy openssh-server openssh-client vsftpd curl nghttp2-client wrk
  # TLS configuration scanner run against prep serve (tests/integ/serve_testssl.sh)
  testssl.sh
  # HTTP/2 attack client of the serve_h2_* tests (tests/integ/h2_attack.py, /usr/bin/python3);
  # python3 itself for the scripts' independent recounts (tests/integ/real_files.sh)
  python3 python3-h2
  # a real SMTP server (STARTTLS, AUTH) for the monitor's mail alerts test
  # (tests/integ/monitor_alerts.sh, tests/integ/lib/smtp_sink.py, /usr/bin/python3)
  python3-aiosmtpd
  # a real JSON Schema validator: every datos.json of a rendered cut against the shipped
  # datos/esquema.json (tests/integ/open_data.sh, open_data_check.py, /usr/bin/python3)
  python3-jsonschema
  # the self-check reads firewall rules and the clock state (prep check)
  nftables iproute2 procps
  # the Debian package (docs/debian.md, tests/integ/debian_package.sh): dpkg-buildpackage
  # (dpkg-dev) with debhelper, lintian to check it, fakeroot; systemd-analyze (systemd)
  # verifies the units and scores their hardening; man-db and groff-base render the man
  # pages with warnings on (tests/integ/man_pages.sh); adduser for the package's postinst
  dpkg-dev debhelper lintian fakeroot systemd man-db groff-base adduser
)
# Node.js and npm for the browser tests: Debian's only where none is on PATH (a machine may
# have Node 20 with its own npm from elsewhere; Debian's npm would conflict with that one).
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  grep -q "install ok installed" <(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: must run as root to install packages" >&2; exit 2; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's maintainer scripts start a freshly installed server (apache2 on :80, sshd,
  # vsftpd, nginx) unless a policy-rc.d says no; prep starts its own throwaway instances,
  # so forbid that for the duration of the install when the machine has no policy yet.
  policy=/usr/sbin/policy-rc.d
  ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# installed by prep scripts/setup.sh during apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"; ours=1
  fi
  apt-get install -y --no-install-recommends "${missing[@]}" || { [ $ours = 1 ] && rm -f "$policy"; exit 1; }
  if [ $ours = 1 ]; then rm -f "$policy"; fi
else
  echo "setup: all ${#PKGS[@]} packages present"
fi

# npm packages of the browser tests (playwright-core, axe-core, lighthouse with its
# dependencies), the exact versions of tests/browser/package-lock.json; none has an install
# script or downloads a browser.
# Runs only when node_modules is missing or the lockfile changed since the last install.
# Debian 12's own npm (9.2, on a machine with no other Node.js) cannot read this lockfile:
# the overrides in package.json that pin two "latest" dependencies of Lighthouse's trace
# engine make its arborist throw "Invalid comparator: latest" (npm ci then says there is
# no lockfile). There, npm 10.9.2 (pinned; its engines accept Debian's Node 18.20) is
# installed once from the npm registry into tests/browser/.npm-tool/ and runs the install.
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.prep-lock.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ $NPM_PKGS = 0 ]; then
  :
elif [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: tests/browser/node_modules up to date"
else
  npm=(npm)
  if [ "$(npm --version | cut -d. -f1)" -lt 10 ]; then
    tool=tests/browser/.npm-tool
    if [ "$(node "$tool/node_modules/npm/bin/npm-cli.js" --version 2>/dev/null)" != 10.9.2 ]; then
      echo "setup: npm $(npm --version) cannot read the lockfile; installing npm 10.9.2 into $tool"
      npm install --prefix "$tool" --no-audit --no-fund --no-save npm@10.9.2
    fi
    npm=(node "$tool/node_modules/npm/bin/npm-cli.js")
  fi
  echo "setup: npm ci --prefix tests/browser (npm $("${npm[@]}" --version))"
  "${npm[@]}" ci --prefix tests/browser --no-audit --no-fund --ignore-scripts
  echo "$want" >"$stamp"
fi

if [ $BUILD = 1 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build
  echo "setup: built build/prep"
fi
