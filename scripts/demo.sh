#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the live
# election-night drill (prep demo): an institute making a signed drill cut every few
# seconds from the simulated Querétaro 2021 night, two broadcasters serving every cut over
# HTTPS on loopback (prep serve, and Apache httpd from an exported docroot), and the
# monitor board. Prints the URLs to open; Ctrl-C stops it and cleans up.
# Usage: scripts/demo.sh [prep demo options]   (see: build/prep demo --help)
#        scripts/demo.sh --scale national         the federal night (INE: three elections, 32 entities)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
GEO=../shared/data/geo/queretaro-municipios-2021.geojson
geo=()
# the map is Querétaro's: only for the default scale (a national night has none yet)
case " $* " in *" national"*|*"=national"*|*" tiny"*|*"=tiny"*) ;; *) if [ -f "$GEO" ]; then geo=(--geojson "$GEO"); fi ;; esac
exec "$PWD/build/prep" demo "${geo[@]}" "$@"
