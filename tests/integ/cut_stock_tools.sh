#!/usr/bin/env bash
# Integration test of signed cuts through the prep binary ($1), checked with stock tools
# only (signify-openbsd, sha256sum, openssl, gzip): exactly what docs/formats/cut.md tells
# a citizen to run. Also: a broadcaster receiving cuts, refusals and exit statuses.
set -u
PREP=${1:?usage: cut_stock_tools.sh PATH-TO-prep}
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-cut-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
# expect STATUS WHAT CMD...: the command exits with STATUS
expect() { local want=$1 what=$2; shift 2; "$@" >out.txt 2>err.txt; local got=$?;
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, expected $want"; cat err.txt; fi; }

if ! "$PREP" keygen --help >/dev/null 2>&1; then
  echo "FAIL - 'prep keygen' is not registered in src/cli/main.c (cmd_keygen, cmd_cut, cmd_verify, cmd_export, cmd_receive)"
  exit 1
fi

# --- the institute
expect 0 "keygen live" "$PREP" keygen --out ieeq
expect 0 "keygen drill" "$PREP" keygen --out simulacro --drill
expect 2 "keygen refuses to overwrite" "$PREP" keygen --out ieeq
mkdir -p sitio/datos
printf '<!doctype html><title>PREP</title><p>Corte 1</p>%0300d\n' 0 > sitio/index.html
printf 'Base de datos del PREP.\n' > sitio/LEEME.txt
printf 'CLAVE_CASILLA|TOTAL\n22-0001-B|312\n' > sitio/datos/QRO_GUB_2021.csv
CUT=(--process qro2021 --elections gubernatura --tz America/Mexico_City --valid-for 315360000)
expect 0 "cut 1" "$PREP" cut --from sitio "${CUT[@]}" --at "2021-06-06 23:00" --key ieeq.key --store almacen
printf '<!doctype html><title>PREP</title><p>Corte 2</p>%0300d\n' 0 > sitio/index.html
printf '22-0002-B|287\n' >> sitio/datos/QRO_GUB_2021.csv
expect 0 "cut 2" "$PREP" cut --from sitio "${CUT[@]}" --at "2021-06-06 23:05" --key ieeq.key --store almacen
expect 2 "a drill key cannot sign a live cut" "$PREP" cut --from sitio "${CUT[@]}" --at "2021-06-06 23:10" --key simulacro.key --store almacen
grep -q key-mode err.txt && ok "key-mode named" || bad "key-mode not named"
expect 2 "an instant before the active cut" "$PREP" cut --from sitio "${CUT[@]}" --at "2021-06-06 22:00" --key ieeq.key --store almacen
expect 0 "verify the chain" "$PREP" verify --store almacen --pubkey ieeq.pub
grep -q "cuts 1..2 verified" out.txt && ok "verify names the range" || bad "verify output: $(cat out.txt)"
expect 0 "verify one cut" "$PREP" verify --store almacen --cut 1 --pubkey ieeq.pub
expect 1 "verify with another key fails" "$PREP" verify --store almacen --pubkey simulacro.pub
grep -q unknown-key err.txt && ok "unknown-key named" || bad "unknown-key not named"
expect 2 "verify without --pubkey is bad usage" "$PREP" verify --store almacen
expect 2 "unknown option is bad usage" "$PREP" verify --store almacen --pubkey ieeq.pub --colour
expect 0 "--help" "$PREP" export --help

# --- export and the citizen's stock-tool checks (docs/formats/cut.md)
expect 0 "export" "$PREP" export --store almacen --out www
check "signify verifies the manifest" signify-openbsd -V -p ieeq.pub -m www/SHA256SUMS
check "sha256sum -c --strict checks every file" sh -c 'cd www && sha256sum -c --strict SHA256SUMS'
check "openssl verifies the signature" sh -c '
  (printf "\060\052\060\005\006\003\053\145\160\003\041\000"; tail -n 1 ieeq.pub | base64 -d | tail -c 32) > ieeq.der &&
  tail -n 1 www/SHA256SUMS.sig | base64 -d | tail -c 64 > firma.bin &&
  openssl pkeyutl -verify -pubin -inkey ieeq.der -keyform DER -rawin -in www/SHA256SUMS -sigfile firma.bin'
check "the .gz twin is the page" sh -c 'gzip -dc www/index.html.gz | cmp -s - www/index.html'
check "cut 1 stays browsable in cortes/1" sh -c 'cd www/cortes/1 && grep -q "Corte 1" index.html && sha256sum -c --strict SHA256SUMS'
check "the previous manifest's hash is in the new one" sh -c \
  'grep -q "^# previous: $(sha256sum < www/cortes/1/SHA256SUMS | cut -c1-64)$" www/SHA256SUMS'
echo tampered >> www/LEEME.txt 2>/dev/null || { chmod u+w www/LEEME.txt; echo x >> www/LEEME.txt; }
if (cd www && sha256sum -c --strict --quiet SHA256SUMS >/dev/null 2>&1); then bad "sha256sum missed a changed file"; else ok "sha256sum catches a changed file"; fi

# --- a composed file's "#p" line (docs/formats/cut.md, "Composed files"): the hash line is
# the assembled file's, and stock sha256sum --strict skips the "#p" comment line
mkdir -p compuesto && cd compuesto
printf '<!DOCTYPE html><title>Inicio</title>' > pre; printf '<p>Corte 7</p>' > sello
printf '<main>1,234 votos</main>' > cuerpo; printf '</html>\n' > post
cat pre sello cuerpo post > index.html
{ printf '#f %s text/html; charset=utf-8\n#p' "$(stat -c %s index.html)"
  for f in pre sello cuerpo post; do printf ' %s %s' "$(stat -c %s $f)" "$(sha256sum < $f | cut -c1-64)"; done
  printf '\n'; sha256sum index.html; } > SHA256SUMS
check "sha256sum --strict ignores a '#p' line" sha256sum -c --strict SHA256SUMS
grep -q '^#p [0-9]* [0-9a-f]\{64\} ' SHA256SUMS && ok "the '#p' line is there" || bad "no '#p' line written"
printf X >> index.html
if sha256sum -c --strict --quiet SHA256SUMS >/dev/null 2>&1; then bad "sha256sum missed a changed composed file"; else ok "sha256sum catches a changed composed file"; fi
cd ..

# --- a broadcaster receives cuts from a directory
deliver() { # deliver SEQ DIR: the cut's manifest, signature and all its objects
  rm -rf "$2"; mkdir -p "$2/cuts/$1"
  cp almacen/cuts/$1/manifest almacen/cuts/$1/manifest.sig "$2/cuts/$1/"
  grep -E '^[0-9a-f]{64}  ' almacen/cuts/$1/manifest | cut -c1-64 | while read -r h; do
    mkdir -p "$2/objects/${h:0:2}"; cp "almacen/objects/${h:0:2}/${h:2}" "$2/objects/${h:0:2}/${h:2}"; done
}
NOW=(--now 2021-06-06T23:06:00-05:00)
deliver 1 entrada
expect 0 "receive cut 1" "$PREP" receive --store difusor --from entrada --pubkey ieeq.pub "${NOW[@]}"
deliver 2 entrada
h=$(ls entrada/objects/*/* | head -n 1); chmod u+w "$h"; printf X >> "$h"
expect 1 "a changed object is refused" "$PREP" receive --store difusor --from entrada --pubkey ieeq.pub "${NOW[@]}"
grep -q oversize err.txt && ok "reason named (oversize)" || bad "reason not named: $(cat err.txt)"
grep -q "refused: oversize" difusor/log && ok "reason logged in the store" || bad "log lacks the reason"
grep -q "^sequence 1$" difusor/active && ok "cut 1 still active" || bad "active changed"
deliver 2 entrada
expect 1 "a live broadcaster refuses the drill key" "$PREP" receive --store difusor --from entrada --pubkey simulacro.pub "${NOW[@]}"
expect 1 "a cut from the future is refused" "$PREP" receive --store difusor --from entrada --pubkey ieeq.pub --now 2021-06-06T22:00:00-05:00
grep -q future-instant err.txt && ok "future-instant named" || bad "future-instant not named"
expect 0 "the honest cut 2 is accepted" "$PREP" receive --store difusor --from entrada --pubkey ieeq.pub "${NOW[@]}"
grep -q "^sequence 2$" difusor/active && ok "cut 2 active" || bad "cut 2 not active"
deliver 1 entrada
expect 1 "rollback to cut 1 is refused" "$PREP" receive --store difusor --from entrada --pubkey ieeq.pub "${NOW[@]}"
grep -q rollback err.txt && ok "rollback named" || bad "rollback not named"
expect 0 "the broadcaster's store verifies" "$PREP" verify --store difusor --pubkey ieeq.pub
check "the stores hold the same manifest bytes" cmp almacen/cuts/2/manifest difusor/cuts/2/manifest

echo "$fails failed"
[ "$fails" = 0 ]
