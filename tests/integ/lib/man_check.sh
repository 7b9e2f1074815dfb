# Shared by tests/integ/man_pages.sh and tests/integ/debian_package.sh: checks the man
# pages in a directory written by scripts/man-pages.sh (with its pages.txt) against the
# binary's --help. Source it, then: man_check PREP DIR; it calls ok/bad (the caller's).

# The options --help lists for "WORDS": "--name" per line, and "-h" for "-h, --help".
help_opts() {
  local prep=$1; shift
  "$prep" "$@" --help 2>/dev/null | sed -n '/^options:/,$p' |
    sed -nE 's/^  (-h), --help .*/\1/p; s/^  (--[A-Za-z0-9-]+)( .*)?$/\1/p' | sort
}
# The options a page lists: each .TP item's first bold word.
man_opts() {
  sed -n '/^\.SH OPTIONS/,/^\.SH /{/^\.TP/{n;p}}' "$1" | sed -nE 's/^\\fB([^\\]*(\\-[^\\]*)*)\\fR.*/\1/p' |
    sed 's/\\-/-/g' | sort
}

man_check() {
  local prep=$1 dir=$2 name words n=0 w before=$fails
  [ -s "$dir/pages.txt" ] || { bad "no pages.txt in $dir"; return; }
  while IFS=$'\t' read -r name words; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if [ "$(help_opts "$prep" $words)" = "$(man_opts "$dir/$name.1")" ]; then :; else
      bad "$name: the options of --help and of the man page differ:"
      # shellcheck disable=SC2086
      diff <(help_opts "$prep" $words) <(man_opts "$dir/$name.1") | head -10
    fi
    w=$(groff -man -ww -z "$dir/$name.1" 2>&1)
    [ -z "$w" ] || bad "$name: groff warns: $w"
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$dir/$name.1" 2>&1 >/dev/null)
    [ -z "$w" ] || bad "$name: man warns: $w"
  done <"$dir/pages.txt"
  [ "$fails" = "$before" ] && ok "$n pages: each one's options are --help's, rendered without warnings"
  # every command of prep --help has its page
  local c missing=
  for c in $("$prep" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
    [ -s "$dir/prep-$c.1" ] || missing="$missing $c"
  done
  [ -z "$missing" ] && ok "every command has a page" || bad "commands without a page:$missing"
}
