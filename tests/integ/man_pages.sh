#!/usr/bin/env bash
# The man pages come from the tables that feed --help (issue 17 item 3): for prep and
# every subcommand, the page's options are exactly --help's, and groff and man render
# every page without a warning. Also: --man is hidden from --help, and the pages CMake
# built (build/man) are what the binary prints. Usage: man_pages.sh PATH/TO/prep
set -u
PREP=${1:?usage: man_pages.sh PATH/TO/prep}
SRC=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v groff >/dev/null || { echo "skipped: groff is not installed (scripts/setup.sh installs groff-base)"; exit 77; }
command -v man >/dev/null || { echo "skipped: man is not installed (scripts/setup.sh installs man-db)"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# shellcheck source=lib/man_check.sh
. "$SRC/tests/integ/lib/man_check.sh"

bash "$SRC/scripts/man-pages.sh" "$PREP" "$T/man" >/dev/null || bad "scripts/man-pages.sh failed"
man_check "$PREP" "$T/man"

# hidden: no --man in any --help
if "$PREP" --help | grep -q -- '--man' || "$PREP" serve --help | grep -q -- '--man'; then
  bad "--man shows in --help"
else ok "--man is not in --help"; fi
grep -q '^\.SH NAME' "$T/man/prep.1" && grep -q '^prep \\- ' "$T/man/prep.1" && ok "prep.1 has a NAME line" ||
  bad "prep.1 NAME"
grep -q '^\.BR prep\\-serve (1),' "$T/man/prep.1" && ok "prep.1 refers to prep-serve(1)" || bad "prep.1 SEE ALSO"
grep -q '^prep\\-difusor\\-add \\- ' "$T/man/prep-difusor-add.1" && ok "a nested subcommand has its page" ||
  bad "prep-difusor-add.1"
v=$("$PREP" --version)
grep -q "^\.TH PREP\\\\-SERVE 1 \"\" \"$v\"" "$T/man/prep-serve.1" && ok "pages carry '$v'" || bad "version in .TH"

# the pages CMake generated next to the binary are the same bytes
B=$(dirname "$PREP")/man
if [ -s "$B/pages.txt" ]; then
  if diff -r -q "$B" "$T/man" >/dev/null; then ok "build/man is what the binary prints"; else
    bad "build/man differs from the binary's pages (stale?)"; diff -r -q "$B" "$T/man" | head -5; fi
fi

[ $fails -eq 0 ] && echo "man_pages: all ok" || { echo "man_pages: $fails failed"; exit 1; }
