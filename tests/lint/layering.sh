#!/bin/bash
# The layering of DESIGN.md, checked on every #include "prep/..." of src/ and include/:
# a part includes only its own header and those of the parts below it that its arrows
# reach (docs/build.md "Layout"). The CLI wires parts together and may include any.
# Exit 0 when every include is allowed; 1 with one line per crossing (file:line: what).
set -u
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

# Which part owns each public header.
owner() {
  case "$1" in
    tls | policy) echo core ;;
    *) echo "$1" ;;
  esac
}

# What each part may include: itself and the parts below it (DESIGN.md's table).
allowed() {
  case "$1" in
    core) echo "core" ;;
    catalog) echo "core catalog" ;;
    actas) echo "core catalog actas" ;;
    tally) echo "core catalog actas tally" ;;
    sim) echo "core catalog actas tally sim" ;;
    render) echo "core catalog actas tally render" ;;
    cut) echo "core cut" ;;
    http) echo "core http" ;;
    serve) echo "core http cut serve" ;;
    deliver) echo "core cut deliver" ;;
    pull) echo "core http cut deliver pull" ;;
    registry) echo "core cut deliver registry" ;;
    institute) echo "core institute" ;;
    monitor) echo "core cut deliver registry monitor" ;;
    check) echo "core check" ;;
    cli) echo "*" ;;
    *) echo "" ;;
  esac
}

bad=0
check_file() { # file part
  local f=$1 part=$2 ok
  ok=$(allowed "$part")
  [ "$ok" = "*" ] && return
  if [ -z "$ok" ]; then
    echo "$f: part '$part' is not in DESIGN.md's table (add it to tests/lint/layering.sh)"
    bad=1
    return
  fi
  while IFS=: read -r line inc; do
    local h=${inc#*prep/}
    h=${h%%.h*}
    local o
    o=$(owner "$h")
    case " $ok " in
      *" $o "*) ;;
      *) echo "$f:$line: part '$part' includes prep/$h.h (part '$o'), which DESIGN.md's arrows do not allow"
         bad=1 ;;
    esac
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"prep/' "$f" | sed 's/^\([0-9]*\):.*"\(prep\/[^"]*\)".*/\1:\2/')
}

n=0
for f in src/*/*.c src/*/*.h; do
  [ -e "$f" ] || continue
  part=${f#src/}
  part=${part%%/*}
  check_file "$f" "$part"
  n=$((n + 1))
done
for f in include/prep/*.h; do
  h=$(basename "$f" .h)
  check_file "$f" "$(owner "$h")"
  n=$((n + 1))
done
# Relative includes that reach into another part's folder.
while IFS= read -r hit; do
  f=${hit%%:*}
  part=${f#src/}
  part=${part%%/*}
  echo "$hit: part '$part' includes another part's internal header"
  bad=1
done < <(grep -n '#[[:space:]]*include[[:space:]]*"\.\./' src/*/*.c src/*/*.h 2>/dev/null)

# The memory-failure policy (include/prep/core.h): the servers' request paths never abort.
while IFS= read -r hit; do
  echo "$(cut -d: -f1,2 <<<"$hit"): prep_x* aborts on allocation failure; the server core and serve must answer 503 instead (include/prep/core.h \"memory\")"
  bad=1
done < <(grep -n 'prep_x\(malloc\|calloc\|realloc\|strdup\|strndup\)\s*(' src/http/*.c src/http/*.h src/serve/*.c src/serve/*.h src/pull/pull_server.c 2>/dev/null)

if [ $bad = 0 ]; then
  echo "layering: $n files, every prep/ include follows DESIGN.md"
fi
exit $bad
