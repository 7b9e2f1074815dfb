#!/usr/bin/env bash
# Issue 3: the browser-test harness catches each fault it exists for (a missing lang, a
# request to another origin, low contrast, a console error, a cookie, a missing cut time,
# invalid HTML, sideways scrolling...) in every view, and its time bounds end a run and leave
# no browser behind. The test itself: tests/browser/selftest.sh (docs/testing-browser.md).
# Bounded to 240 s. Usage: tests/integ/browser_selftest.sh [PATH/TO/prep (unused)]
set -uo pipefail
ROOT=${PREP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
exec timeout -k 10 240 bash "$ROOT/tests/browser/selftest.sh"
