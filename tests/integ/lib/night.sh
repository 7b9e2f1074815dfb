# Helpers of the integration tests that run a night on loopback (an institute, its pull
# link, broadcasters): named background processes and pull broadcasters in the registry.
# Source after setting T (the test's temp dir, with T/logs/) and PREP.

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
