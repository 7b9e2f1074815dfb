# shellcheck shell=bash
# A store's objects, for the integration tests that play a pusher or check a store's
# contents (docs/formats/cut.md: a manifest line is "SHA256  path"; a composed page's
# "#p" line lists its parts' ids, and the line after it is the page, not an object).
#
# Source it (it lives under lib/, so CMake's tests/integ/*.sh glob does not run it):
#   . "$(dirname "$0")/lib/store.sh"
# Names start with store_. Safe under `set -euo pipefail`.

# store_objects_of MANIFEST...: the object ids the manifests name, once each, sorted.
store_objects_of() {
  awk '/^#p /{for(i=3;i<=NF;i+=2)print $i; skip=1; next} /^#/{next} {if(!skip)print $1; skip=0}' "$@" | sort -u
}

# store_copy_objects SRC-STORE DIR: copies the objects whose ids come on standard input
# (one a line) from SRC-STORE/objects/ to DIR/objects/, keeping any already there. One cp
# for many files: a mkdir and a cp per object were 116 s of apache_night's 133 s.
store_copy_objects() {
  local to
  mkdir -p "$2" && to=$(cd "$2" && pwd) || return 1
  sed -E 's|^(..)(.+)$|objects/\1/\2|' | (cd "$1" && xargs -r cp -n --parents -t "$to")
}
