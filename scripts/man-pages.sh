#!/usr/bin/env bash
# Writes the man pages of prep and of every subcommand into OUTDIR, each printed by the
# binary itself with the hidden --man (the same cli_opt tables, synopsis and summary that
# --help prints: src/cli/args.c), and OUTDIR/pages.txt: one line per page,
# "PAGE<TAB>COMMAND WORDS" (tests/integ/man_pages.sh compares each with --help).
# Subcommands are found from the binary, not from a list kept here: the commands of
# `prep --help`, and for a command whose --help has no options (a dispatcher: sim,
# difusor) every word of its help text that `prep CMD WORD --help` accepts.
# Usage: scripts/man-pages.sh PREP OUTDIR
set -euo pipefail
PREP=$1 OUT=$2
mkdir -p "$OUT"
rm -f "$OUT"/*.1 "$OUT/pages.txt"
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT

page() { # name, words...
  local name=$1; shift
  "$PREP" "$@" --man >"$tmp" || { echo "man-pages: prep $* --man failed" >&2; exit 1; }
  [ -s "$tmp" ] || { echo "man-pages: prep $* --man printed nothing" >&2; exit 1; }
  cp "$tmp" "$OUT/$name.1"
  printf '%s\t%s\n' "$name" "$*" >>"$OUT/pages.txt"
}

page prep
cmds=$("$PREP" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$cmds" ] || { echo "man-pages: no commands in prep --help" >&2; exit 1; }
for c in $cmds; do
  help=$("$PREP" "$c" --help 2>&1) || { echo "man-pages: prep $c --help failed" >&2; exit 1; }
  page "prep-$c" "$c"
  if ! grep -q '^options:' <<<"$help"; then
    n=0
    for w in $(grep -oE '\b[a-z][a-z-]*[a-z]\b' <<<"$help" | sort -u); do
      [ "$w" = "$c" ] && continue
      h=$("$PREP" "$c" "$w" --help 2>/dev/null) || continue
      grep -q "^usage: prep $c $w " <(head -1 <<<"$h") || continue
      page "prep-$c-$w" "$c" "$w"
      n=$((n + 1))
    done
    [ $n -gt 0 ] || { echo "man-pages: prep $c has no options and no subcommand found" >&2; exit 1; }
  fi
done
echo "man-pages: $(wc -l <"$OUT/pages.txt") pages in $OUT"
