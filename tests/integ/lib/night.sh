# Helpers of the integration tests that run a night on loopback (an institute, its pull
# link, broadcasters): named background processes, the institute, and pull broadcasters in
# the registry. Source after setting T (the test's temp dir, with T/logs/) and PREP, and
# after peers.sh (peer_wait_port).

declare -gA PID=()

# start NAME CMD...: CMD in the background, its output appended to $T/logs/NAME.log.
start() {
  local n=$1; shift
  "$@" >>"$T/logs/$n.log" 2>&1 &
  PID[$n]=$!
}

# stop NAME...: SIGTERM, then wait (SIGKILL after 5 s).
stop() {
  local n p
  for n in "$@"; do p=${PID[$n]:-}; [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for n in "$@"; do
    p=${PID[$n]:-}; [ -n "$p" ] || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; unset "PID[$n]"
  done
}

# pull_difusor DB X: registers broadcaster difusor-X (method pull) in registry DB, verified,
# approved and active; prints its pull token (64 hex). On failure says why on stderr and
# returns 1.
pull_difusor() {
  local db=$1 x=$2 s tok
  cat >"$T/difusor-$x.txt" <<EOF
id = difusor-$x
name = Difusor $x (simulacro)
kind = medio
website = https://$x.example.mx/
publication-url = https://prep.$x.example.mx/
legal-name = Ana Pérez
legal-phone = 442 123 4567
legal-mobile = 442 765 4321
legal-email = ana@$x.example.mx
tech-name = Luis Gómez
tech-phone = 442 123 4568
tech-mobile = 442 765 4322
tech-email = luis@$x.example.mx
method = pull
EOF
  "$PREP" difusor add --db "$db" --from "$T/difusor-$x.txt" --by integ >"$T/add-$x.out" 2>&1 ||
    { echo "difusor add $x: $(cat "$T/add-$x.out")" >&2; return 1; }
  for s in verify-infra approve activate; do
    "$PREP" difusor "$s" "difusor-$x" --db "$db" --by integ --why prueba >/dev/null 2>>"$T/reg-$x.err" ||
      { echo "difusor $s $x: $(cat "$T/reg-$x.err")" >&2; return 1; }
  done
  tok=$(sed -n 's/^pull token .*: \([0-9a-f]\{64\}\)$/\1/p' "$T/add-$x.out")
  [ ${#tok} = 64 ] || { echo "no pull token for $x in: $(cat "$T/add-$x.out")" >&2; return 1; }
  echo "$tok"
}

# start_institute KEY SECONDS_PER_CUT PULL_PORT [PULL_MEMBERS [MEMBERS]]: writes
# $T/instituto.json (the catalogue $T/cat.cat, the captures $T/actas, the key $T/KEY.key and
# $T/KEY.pub, the store $T/inst, the registry $T/difusores.db, a drill whose clock starts at
# 2021-06-06 20:50 and makes a cut every SECONDS_PER_CUT), its pull link on
# 127.0.0.1:PULL_PORT with PULL_MEMBERS besides (the TLS files), and MEMBERS at the top
# (e.g. '"max_cuts": 4'); starts it as "institute" and returns once the link listens (1 if
# it does not).
start_institute() {
  local key=$1 spc=$2 port=$3 pullx=${4:-} more=${5:-}
  cat >"$T/instituto.json" <<EOF
{
  "catalog": "$T/cat.cat", "actas": "$T/actas", "key": "$T/$key.key", "pubkey": "$T/$key.pub",
  "store": "$T/inst", "drill": true, "registry": "$T/difusores.db",
  "clock": {"start": "2021-06-06 20:50", "seconds_per_cut": $spc},
  "pull": {"listen": "127.0.0.1:$port"${pullx:+, $pullx}}${more:+,
  $more}
}
EOF
  start institute "$PREP" institute --config "$T/instituto.json"
  peer_wait_port "$port"
}
