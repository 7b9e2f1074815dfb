# Shell helpers shared by tests/integ/browser_*.sh and tests/browser/selftest.sh.
# Source it; it defines functions only. Needs BROWSER_DIR (this directory) and WORK (a
# private temporary directory whose cleanup the caller traps: browser_cleanup).

# Checks that node, the npm packages and the browser are there; prints what to run if not.
browser_prereqs() {
  local ok=0
  command -v node >/dev/null || { echo "node is missing: run scripts/setup.sh"; ok=1; }
  [ -d "$BROWSER_DIR/node_modules/playwright-core" ] && [ -d "$BROWSER_DIR/node_modules/axe-core" ] ||
    { echo "tests/browser/node_modules is missing: run scripts/setup.sh (npm ci --prefix tests/browser)"; ok=1; }
  [ -x "${PREP_CHROMIUM:-/usr/lib/chromium/chromium-headless-shell}" ] || { echo "no browser at ${PREP_CHROMIUM:-/usr/lib/chromium/chromium-headless-shell}: run scripts/setup.sh"; ok=1; }
  command -v tidy >/dev/null || { echo "tidy is missing: run scripts/setup.sh"; ok=1; }
  return $ok
}

# start_server ROOT NAME [OPTION...]: serves ROOT on 127.0.0.1 on a free port (serve.js with
# the options, e.g. --gzip); sets PORT and BASE_URL. The server's pid is appended to
# $WORK/pids for browser_cleanup.
start_server() {
  local root=$1 name=$2 i
  shift 2
  rm -f "$WORK/$name.port"
  node "$BROWSER_DIR/serve.js" --root "$root" --port-file "$WORK/$name.port" \
    --log "$WORK/$name.server.log" "$@" >"$WORK/$name.server.out" 2>&1 &
  local pid=$!
  echo "$pid" >>"$WORK/pids"
  for i in $(seq 100); do
    [ -s "$WORK/$name.port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.server.out"; return 1; }
    sleep 0.1
  done
  [ -s "$WORK/$name.port" ] || { echo "server did not start in 10 s"; return 1; }
  PORT=$(cat "$WORK/$name.port")
  BASE_URL="http://127.0.0.1:$PORT/"
}

# render_national_site PREP DIR: the national profile's pages (issue 15) of a simulated
# federal night at 02:00 (national-small, seed 3: the 32 entities with their map from
# ../shared/data/geo, 300 districts, few sections each) rendered into DIR; the render's
# output goes to $WORK/render.log. Checks the entity map and seccion/09/0001/ are there.
render_national_site() {
  local prep=$1 dir=$2
  local geo=${PREP_SHARED_DATA:-$BROWSER_DIR/../../../shared/data}/geo/mexico-entidades.geojson
  { "$prep" sim catalog --scale national-small --seed 3 --geojson "$geo" --out "$WORK/nat.cat" >/dev/null &&
    "$prep" sim actas --catalog "$WORK/nat.cat" --out "$WORK/nat-actas" --seed 3 >/dev/null 2>&1 &&
    timeout 120 "$prep" render --catalog "$WORK/nat.cat" --actas "$WORK/nat-actas" --at "2021-06-07 02:00" \
      --out "$dir" >>"$WORK/render.log" 2>&1; } || { tail -20 "$WORK/render.log"; echo "FAIL making the national site"; return 1; }
  grep -q 'Entidades según la candidatura que encabeza' "$dir/presidencia-de-la-republica/index.html" ||
    { echo "FAIL: the national election page has no entity map"; return 1; }
  [ -f "$dir/seccion/09/0001/index.html" ] || { echo "FAIL: the national site has no seccion/09/0001/"; return 1; }
}

# run_browser TOTAL_SECONDS ARGS...: the runner, bounded by timeout(1) (TERM, then KILL 10 s
# later); the browser's pids go to $WORK/chromium.pids, and its profile under $WORK.
run_browser() {
  local total=$1; shift
  TMPDIR="$WORK" timeout -k 10 "$total" node "$BROWSER_DIR/run.js" \
    --total-timeout $(((total - 5) * 1000)) --pid-file "$WORK/chromium.pids" "$@"
}

# Kills what this run started, by pid: the servers, and the browser's process groups (only
# needed if the runner itself was killed before it could close the browser).
browser_cleanup() {
  local p
  if [ -f "$WORK/pids" ]; then
    while read -r p; do [ -n "$p" ] && kill "$p" 2>/dev/null; done <"$WORK/pids"
  fi
  if [ -f "$WORK/chromium.pids" ]; then
    while read -r p; do [ -n "$p" ] && { kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; }; done <"$WORK/chromium.pids"
  fi
  wait 2>/dev/null
  rm -rf "$WORK"
}
