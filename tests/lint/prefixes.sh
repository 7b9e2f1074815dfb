#!/bin/bash
# One naming scheme (issue 18): every symbol a part's library exports to the others
# starts with prep_<part>_ ; core, the part below all, exports prep_ helpers of its own
# families (prep_buf_, prep_diags_, ...), and a part's cross-file internals use a short
# private prefix without "prep_" (cat_, actas_, chk_...) that no header of include/ names.
# Usage: tests/lint/prefixes.sh BUILD_DIR   (the libprep_<part>.a files CMake built)
# Exit 0 when every exported prep_ symbol has its part's prefix and no header of
# include/prep/ declares a private one; 1 with one line per offence.
set -u
B=${1:?usage: prefixes.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v nm >/dev/null || { echo "prefixes: nm not found (binutils)"; exit 1; }
bad=0 n=0
for lib in "$B"/libprep_*.a; do
  [ -e "$lib" ] || { echo "prefixes: no libprep_*.a in $B"; exit 1; }
  part=${lib##*/libprep_}
  part=${part%.a}
  while read -r sym; do
    n=$((n + 1))
    case $sym in
      prep_"$part"_*) ;;
      prep_*) [ "$part" = core ] || { echo "$lib: exports $sym, not prep_${part}_*"; bad=1; } ;;
      *) # a private cross-file name: no public header may declare it
         if grep -qE -- "^[[:space:]]*[A-Za-z_][^/*]*\b$sym[[:space:]]*\(" "$ROOT"/include/prep/*.h; then
           echo "$lib: $sym is declared in include/prep/ without a prep_ prefix"; bad=1
         fi ;;
    esac
  done < <(nm -g --defined-only "$lib" 2>/dev/null | awk '$2 ~ /^[TDBRC]$/ {print $3}')
done
[ $bad = 0 ] && echo "prefixes: $n exported symbols, each with its part's prefix"
exit $bad
