#!/usr/bin/env bash
# Issue 13, the global connection cap: parts 2-5 of serve_slowloris.sh (shedding order and
# refusal, IPv6 per /64, out of descriptors, across workers). Functional checks that mostly
# wait (2.7 CPU s in 24 s alone), so they run beside other tests; part 1, whose bound is a
# latency, runs alone as integ/serve_slowloris (CMakeLists.txt sets SLOWLORIS_PHASES=1).
# Usage: tests/integ/serve_conn_shedding.sh PATH/TO/prep
SLOWLORIS_PHASES=${SLOWLORIS_PHASES:-2 3 4 5} exec bash "$(dirname "$0")/serve_slowloris.sh" "$@"
