#!/usr/bin/env bash
# Installs every Debian 12 package that prep's build, tests and demo use, then builds.
# Idempotent: packages already present are not fetched again. Run as root.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

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
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "setup: must run as root to install packages" >&2; exit 2; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PKGS[@]} packages present"
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build
  echo "setup: built build/prep"
fi
