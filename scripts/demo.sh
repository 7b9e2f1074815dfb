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
bash scripts/setup.sh --no-npm # the drill uses no npm package (the browser tests do)
GEO=../shared/data/geo/queretaro-municipios-2021.geojson
# the map: Querétaro's municipalities, or the 32 entities for a national night; none for tiny
case " $* " in *" national"*|*"=national"*) GEO=../shared/data/geo/mexico-entidades.geojson ;; esac
geo=()
case " $* " in *" tiny"*|*"=tiny"*) ;; *) if [ -f "$GEO" ]; then geo=(--geojson "$GEO"); fi ;; esac
exec "$PWD/build/prep" demo "${geo[@]}" "$@"
