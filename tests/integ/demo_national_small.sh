#!/usr/bin/env bash
# The drill at --scale national-small (INE's federal night: three elections over the 32
# entities and 300 districts, few sections each) with both broadcasters (prep serve, and
# Apache when apache2 is installed) and the monitor: the same checks as demo.sh (both serve
# newer cuts over HTTPS, every page shows its cut's number and instant, SHA256SUMS is the
# institute's signed manifest, the board turns green, a killed part is started again,
# SIGINT stops everything). The full national scale is bench/bench_demo_national.sh.
# Each site must move two cuts past its first (demo.sh asks three at tiny scale): at 30 s
# a cut, the third was 30 s more of the drill's CPU with nothing new checked.
PREP_DEMO_SCALE=national-small PREP_DEMO_SPC=${PREP_DEMO_SPC:-30} PREP_DEMO_WAIT=${PREP_DEMO_WAIT:-240} \
  PREP_DEMO_ADVANCE=${PREP_DEMO_ADVANCE:-2} \
  exec bash "$(dirname "$0")/demo.sh" "$@"
