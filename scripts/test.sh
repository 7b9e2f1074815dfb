#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test of prep:
#   1. unit + integration tests on the release build;
#   2. unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. a bounded libFuzzer smoke run of every fuzz target over its corpus.
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
# Usage: scripts/test.sh [--quick]   (--quick: skip the sanitizer and fuzz stages)
set -uo pipefail
cd "$(dirname "$0")/.."
# The POSIX locale, as in a fresh Debian 12 container, a systemd service or cron (no LANG):
# a test that only passes in a UTF-8 locale (grep's "." matching one "é") fails here too,
# not only there. Python switches itself to UTF-8 in this locale (PEP 540).
export LC_ALL=C
unset LANG LANGUAGE
ROOT=$PWD
QUICK=0; [ "${1:-}" = "--quick" ] && QUICK=1
FUZZ_SECONDS=${PREP_FUZZ_SECONDS:-4}

bash scripts/setup.sh --no-build || { echo "0 passed, 1 failed"; exit 1; }

PASS=0; FAIL=0
FAILED=(); WHY=()
stage() { printf '\n==== %s (at %d s) ====\n' "$*" "$SECONDS"; }

# Runs ctest in a build dir with a label filter (and more ctest arguments, if given); adds
# its counts to the totals.
run_ctest() {
  local dir=$1 label=$2 tag=$3 log
  shift 3
  log=$(mktemp)
  ctest --test-dir "$dir" -L "$label" "$@" --output-on-failure -j2 2>&1 | tee "$log"
  count_ctest "$log" "$tag"
}

# Adds the counts of a finished ctest run's output (LOG, removed after) to the totals.
count_ctest() {
  local log=$1 tag=$2
  local line total failed
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    if grep -q 'No tests were found' "$log"; then rm -f "$log"; return; fi
    FAIL=$((FAIL + 1)); FAILED+=("$tag: ctest did not finish"); rm -f "$log"; return
  fi
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
  PASS=$((PASS + total - failed)); FAIL=$((FAIL + failed))
  while read -r t; do [ -n "$t" ] && FAILED+=("$tag: $t"); done < <(grep -E '^\s+[0-9]+ - ' "$log" | sed -E 's/^\s+[0-9]+ - //')
  # each failed test's own failure lines (at most 8), repeated in the summary: a CI log is
  # often read from its end
  while read -r t; do [ -n "$t" ] && WHY+=("$t"); done < <(awk '
    /Test +#[0-9]+: / { cur = ""; if ($0 ~ /\*\*\*/) { cur = $0; sub(/.*Test +#[0-9]+: /, "", cur); sub(/ .*/, "", cur); k = 0 } next }
    /^ +Start +[0-9]+: / { next }
    /% tests passed, / { cur = "" }
    cur != "" && k < 8 && /(^|[^a-z])(FAIL|FAILED|not ok|Timeout|Error)([^a-z]|$)/ { k++; print "  " cur ": " substr($0, 1, 200) }' "$log")
  rm -f "$log"
}

build() { # dir, extra cmake args... (BUILD_TARGET: one ninja target instead of all)
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null && ninja -C "$dir" -j2 ${BUILD_TARGET:-} >"$dir.log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then tail -40 "$dir.log"; FAIL=$((FAIL + 1)); FAILED+=("build $dir"); fi
  return $rc
}

stage "build (release)"
if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  stage "unit tests"
  run_ctest build unit unit
  stage "integration tests"
  # Their scratch directories (stores, exports, docroots, browser profiles) on tmpfs when
  # the machine has one: on this kind of machine's disk (ext4 with online discard) three
  # Querétaro-scale cuts took 19 s, 7.5 s on tmpfs, the difference system time and waits.
  # The code paths are the same (syncfs, fsync and rename are called all the same); the
  # disk's speed is bench/'s business. An operator's TMPDIR is kept.
  integ_tmp=${TMPDIR:-/tmp}
  if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    integ_tmp=/dev/shm
  fi
  # night_288 beside the two slots, in a ctest of its own: it lasts ~290 s whatever the
  # machine (one real second per cut) and uses ~0.4 of a core, so in a slot it left most
  # of a core idle for five minutes (docs/build.md, "How the integration tests share the
  # machine").
  night_log=$(mktemp)
  TMPDIR=$integ_tmp ctest --test-dir build -L integ -R '^integ/night_288$' --output-on-failure \
    >"$night_log" 2>&1 &
  night_pid=$!
  TMPDIR=$integ_tmp run_ctest build integ integ -E '^integ/night_288$'
  wait "$night_pid"
  echo "---- integ/night_288 (run beside the others)"
  cat "$night_log"
  count_ctest "$night_log" integ
fi

if [ $QUICK -eq 0 ]; then
  stage "build (ASan + UBSan)"
  if BUILD_TARGET=unit build build-asan -DCMAKE_BUILD_TYPE=Debug -DPREP_SANITIZE=ON; then
    stage "unit tests under ASan + UBSan"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_ctest build-asan unit asan
  fi

  stage "fuzz smoke (${FUZZ_SECONDS}s per target)"
  if CC=clang-14 BUILD_TARGET=fuzz build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPREP_FUZZ=ON -DPREP_SANITIZE=ON; then
    # two targets at a time (this machine has two cores and nothing else runs now); each
    # writes its verdict to a file, read back in the targets' order
    fuzz_one() { # BINARY RESULT-DIR
      local f=$1 res=$2 name work
      name=$(basename "$f"); name=${name#fuzz_}
      work=$(mktemp -d)
      [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name"/. "$work"/
      if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
            -artifact_prefix="$ROOT/out/fuzz-artifacts/$name-" "$work" >"$work/log" 2>&1; then
        echo "fuzz $name: ok ($(grep -Eo '#[0-9]+' "$work/log" | tail -1 | tr -d '#') runs)" >"$res/$name.ok"
      else
        # the sanitizer's report (error line and stack), then where the input was kept
        grep -E -A25 '^==[0-9]+==ERROR|^SUMMARY|deadly signal|Test unit written' "$work/log" | sed -n 1,60p >"$res/$name.fail"
      fi
      rm -rf "$work"
    }
    mkdir -p out/fuzz-artifacts
    res=$(mktemp -d)
    targets=()
    for f in build-fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$f"); done
    for f in "${targets[@]}"; do
      while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
      fuzz_one "$f" "$res" &
    done
    wait
    for f in "${targets[@]}"; do
      name=$(basename "$f"); name=${name#fuzz_}
      if [ -f "$res/$name.ok" ]; then
        cat "$res/$name.ok"
        PASS=$((PASS + 1))
      else
        [ -f "$res/$name.fail" ] && cat "$res/$name.fail"
        echo "fuzz $name: FAILED"
        FAIL=$((FAIL + 1)); FAILED+=("fuzz $name (input kept in out/fuzz-artifacts/)")
      fi
    done
    rm -rf "$res"
  fi
fi

stage "summary"
echo "the suite took $SECONDS s"
for f in "${FAILED[@]}"; do echo "FAILED: $f"; done
[ ${#WHY[@]} -gt 0 ] && { echo "why (each failed test's failure lines):"; printf '%s\n' "${WHY[@]}"; }
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
