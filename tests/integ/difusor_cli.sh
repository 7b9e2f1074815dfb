#!/usr/bin/env bash
# Integration test of `prep difusor` through the binary ($1): the call's real dates as
# settings, registration from a key = value file, deadlines with --now, transitions and
# their audit, the secrets file (0600, the password never printed nor in the database),
# a block seen at once by another process (sqlite3 CLI), the Anexo 2 letter, and the
# roster signed like a cut, checked with signify-openbsd and sha256sum only.
set -u
PREP=${1:?usage: difusor_cli.sh PATH-TO-prep}
PREP=$(cd "$(dirname "$PREP")" && pwd)/$(basename "$PREP")
T=$(mktemp -d "${TMPDIR:-/tmp}"/prep-integ-difusor-XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
# expect STATUS WHAT CMD...: the command exits with STATUS (output in out.txt, err.txt)
expect() { local want=$1 what=$2; shift 2; "$@" >out.txt 2>err.txt; local got=$?;
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, expected $want"; cat out.txt err.txt; fi; }
has() { if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $1"; cat "$1"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$3: '$2' found in $1"; else ok "$3"; fi; }

D=(--db reg.db)
PW='Contra$eña FTP-2021'

expect 0 "difusor --help" "$PREP" difusor --help
expect 0 "difusor add --help" "$PREP" difusor add --help
has out.txt "--legal-email" "add --help lists the Anexo 1 fields"
expect 2 "unknown subcommand" "$PREP" difusor borrar x

# --- the call's dates (convocatoria I.e, I.f, I.h)
expect 0 "settings" "$PREP" difusor settings "${D[@]}" --registration-deadline "2021-04-19 23:59" \
  --infrastructure-deadline "2021-04-30 23:59" --roster-date "2021-05-28 23:59" --process qro2021 \
  --by "Coordinación TI" --why "fechas de la convocatoria"
has out.txt "registration-deadline: 2021-04-19 23:59:00" "settings printed"
expect 2 "settings change needs --by/--why" "$PREP" difusor settings "${D[@]}" --zone America/Mexico_City
expect 2 "a bad zone is refused" "$PREP" difusor settings "${D[@]}" --zone Mars/Olympus --by a --why b

# --- registration
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\0IEND\xaeB`\x82' > logo.png
cat > uaq.txt <<EOF
# Anexo 1: Formato de Registro
id = uaq
name = Universidad Autónoma de Querétaro <UAQ>
kind = universidad
website = https://www.uaq.mx/
publication-url = https://prep.uaq.mx/
portal-origins = https://www.uaq.mx
legal-name = Dra. Teresa García
legal-phone = (442) 192 1200
legal-mobile = +52 442 123 4567
legal-email = rectoria@uaq.mx
tech-name = Ing. Juan Pérez
tech-phone = 442 192 1200 ext. 6000
tech-mobile = 4421234567
tech-email = soporte.prep@uaq.mx
ftp-host = 200.23.1.10
ftp-user = prep
ftp-password = $PW
software = CentOS 8.4\nApache 2.4
method = ftps
ftps-url = ftp://200.23.1.10/incoming/
logo = $T/logo.png
EOF
chmod 600 uaq.txt
expect 2 "add after the registration deadline" "$PREP" difusor add "${D[@]}" --from uaq.txt --by ana --now "2021-04-20 00:00"
has err.txt "registration closed on 2021-04-19 23:59 (America/Mexico_City)" "the deadline is named"
expect 2 "add with a bad e-mail" "$PREP" difusor add "${D[@]}" --from uaq.txt --by ana --now "2021-04-19 10:00" --legal-email "rectoria(at)uaq.mx"
has err.txt "--legal-email 'rectoria(at)uaq.mx'" "the field and value are named"
expect 2 "add with an http publication URL" "$PREP" difusor add "${D[@]}" --from uaq.txt --by ana --now "2021-04-19 10:00" --publication-url http://prep.uaq.mx/
has err.txt "must begin with https://" "https only"
expect 2 "add without --by" "$PREP" difusor add "${D[@]}" --from uaq.txt
expect 0 "add" "$PREP" difusor add "${D[@]}" --from uaq.txt --by ana --now "2021-04-19 10:00"
has out.txt "registered uaq" "registered"
TOKEN=$(sed -n 's/^pull token .*: \([0-9a-f]\{64\}\)$/\1/p' out.txt)
[ ${#TOKEN} = 64 ] && ok "the pull token is shown once" || bad "no token in: $(cat out.txt)"
hasnt out.txt "$PW" "add does not print the password"
hasnt err.txt "$PW" "add does not log the password"
expect 2 "the same id twice" "$PREP" difusor add "${D[@]}" --from uaq.txt --by ana --now "2021-04-19 10:00"
has err.txt "duplicate-id" "duplicate named"
[ "$(stat -c %a reg.db.secrets)" = 600 ] && ok "secrets file is 0600" || bad "secrets mode $(stat -c %a reg.db.secrets)"
grep -qF -- "$PW" reg.db.secrets && ok "the password is in the secrets file" || bad "password not in secrets"
if cat reg.db reg.db-wal 2>/dev/null | grep -qaF -- "$PW"; then bad "password in the database"; else ok "password not in the database"; fi
if cat reg.db reg.db-wal 2>/dev/null | grep -qaF -- "$TOKEN"; then bad "token in the database"; else ok "only the token's hash is stored"; fi
HASH=$(printf %s "$TOKEN" | sha256sum | cut -c1-64)
[ "$(sqlite3 reg.db "SELECT token_sha256 FROM difusores WHERE id='uaq'")" = "$HASH" ] && ok "token SHA-256 stored" || bad "token hash"

# --- a second broadcaster by options only (SFTP)
expect 0 "add sftp by options" "$PREP" difusor add "${D[@]}" --by ana --now "2021-04-18 09:00" --id diario \
  --name "Diario de Querétaro" --kind medio --website https://diario.mx/ --publication-url https://prep.diario.mx/ \
  --legal-name "Lic. Ana Ruiz" --legal-phone "442 111 2233" --legal-mobile "442 444 5566" --legal-email ana@diario.mx \
  --tech-name "Ing. Luis Mora" --tech-phone "442 111 2234" --tech-mobile "442 444 5567" --tech-email ti@diario.mx \
  --method sftp --sftp-url sftp://prep@10.1.2.3:2222/srv/prep/incoming/ \
  --ssh-host-key SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU --ssh-key /etc/prep/ieeq_ed25519
expect 0 "list with --db before the subcommand" "$PREP" difusor --db reg.db list
has out.txt "diario" "leading --db honoured"
expect 0 "list" "$PREP" difusor list "${D[@]}"
has out.txt "diario" "list shows diario"
has out.txt "uaq" "list shows uaq"

# --- transitions
expect 2 "skipping a step" "$PREP" difusor activate uaq "${D[@]}" --by ana --why x
has err.txt "allowed from registered: infrastructure-verified, blocked" "allowed transitions named"
expect 2 "verify-infra after the deadline" "$PREP" difusor verify-infra uaq "${D[@]}" --by ana --why evidencias --now "2021-05-01 08:00"
has err.txt "the infrastructure deadline passed on 2021-04-30 23:59 (America/Mexico_City)" "infrastructure deadline named"
expect 0 "verify-infra" "$PREP" difusor verify-infra uaq "${D[@]}" --by ana --why evidencias --now "2021-04-30 18:00"
expect 2 "approve without --why" "$PREP" difusor approve uaq "${D[@]}" --by ana
expect 0 "status --to approved" "$PREP" difusor status uaq "${D[@]}" --to approved --by "Comisión" --why "cumple" --now "2021-05-20 12:00"
expect 0 "activate" "$PREP" difusor activate uaq "${D[@]}" --by ana --why "pruebas de entrega"
has out.txt "uaq: active" "uaq is active"
expect 2 "unknown id" "$PREP" difusor approve nadie "${D[@]}" --by ana --why x

# --- show: fields, secrets as presence only, audit
expect 0 "show" "$PREP" difusor show uaq "${D[@]}"
has out.txt "legal-email: rectoria@uaq.mx" "show prints the fields"
has out.txt "ftp-password: set (secrets file)" "show says the password is set"
hasnt out.txt "$PW" "show does not print the password"
has out.txt "status by Comisión (infrastructure-verified -> approved): cumple" "audit row with who and why"
has out.txt "logo: image/png" "logo stored"

# --- edit and the audit log
expect 0 "edit" "$PREP" difusor edit uaq "${D[@]}" --tech-email noc@uaq.mx --ftp-password 'Nueva clave 2' --by ana --why "cambio de responsable"
expect 2 "edit with a bad phone" "$PREP" difusor edit uaq "${D[@]}" --tech-phone 12345 --by ana --why x
has err.txt "--tech-phone '12345'" "the phone field and value are named"
expect 0 "audit" "$PREP" difusor audit uaq "${D[@]}"
has out.txt "uaq edit by ana: cambio de responsable (changed: tech-email, ftp-password)" "edit audited by field name"
hasnt out.txt "Nueva clave" "the new password is not in the audit"
expect 0 "audit (all)" "$PREP" difusor audit "${D[@]}"
has out.txt "settings by Coordinación TI" "settings changes audited"
if cat reg.db reg.db-wal 2>/dev/null | grep -qaF "Nueva clave"; then bad "new password in the database"; else ok "new password not in the database"; fi
PW='Nueva clave 2'

# --- block: another process sees it the moment the command returns
expect 2 "block needs --why" "$PREP" difusor block uaq "${D[@]}" --by ana
expect 0 "block" "$PREP" difusor block uaq "${D[@]}" --by "Consejero Presidente" --why "modificó los resultados"
[ "$(sqlite3 reg.db "SELECT status FROM difusores WHERE id='uaq'")" = blocked ] && ok "sqlite3 sees the block at once" || bad "block not seen"
[ "$(sqlite3 reg.db "SELECT count(*) FROM audit WHERE difusor='uaq' AND action='block' AND who='Consejero Presidente'")" = 1 ] \
  && ok "block audited" || bad "block audit row"
if sqlite3 reg.db "DELETE FROM audit" 2>err.txt; then bad "audit rows deleted"; else has err.txt "append-only" "the audit log refuses DELETE"; fi
if sqlite3 reg.db "UPDATE audit SET why='nada'" 2>err.txt; then bad "audit rows changed"; else has err.txt "append-only" "the audit log refuses UPDATE"; fi

# --- the letter
expect 0 "letter" "$PREP" difusor letter uaq "${D[@]}" --out carta.html --date 2021-04-15
has carta.html "Santiago de Querétaro, Qro., 15 de abril de 2021." "letter dated"
has carta.html "Universidad Autónoma de Querétaro &lt;UAQ&gt;" "letter escapes the name"
has carta.html "@page{size:letter" "letter has print CSS"
hasnt carta.html "$PW" "letter has no password"

# --- the roster, signed like a cut
expect 0 "keygen" "$PREP" keygen --out ieeq
expect 0 "roster" "$PREP" difusor roster "${D[@]}" --out lista --key ieeq.key --pubkey ieeq.pub --now "2021-05-28 10:00"
has lista/index.html "Bloqueado" "the blocked broadcaster is marked"
hasnt lista/index.html 'href="https://prep.uaq.mx/"' "a blocked broadcaster has no link"
hasnt lista/index.html "$PW" "roster has no password"
signify-openbsd -V -q -p ieeq.pub -m lista/SHA256SUMS && ok "signify verifies the roster" || bad "signify"
(cd lista && sha256sum -c --strict --quiet SHA256SUMS) && ok "sha256sum -c checks the roster" || bad "sha256sum"
expect 0 "unblock" "$PREP" difusor unblock uaq "${D[@]}" --by "Consejero Presidente" --why "corrigió"
has out.txt "uaq: active" "unblock restores active"
expect 0 "roster again" "$PREP" difusor roster "${D[@]}" --out lista --key ieeq.key --now "2021-05-28 11:00"
has lista/index.html 'href="https://prep.uaq.mx/"' "the link is back"
signify-openbsd -V -q -p ieeq.pub -m lista/SHA256SUMS && ok "signify verifies roster 2" || bad "signify 2"
expect 0 "keygen other" "$PREP" keygen --out otra
expect 1 "roster --pubkey with another key fails" "$PREP" difusor roster "${D[@]}" --out lista --key ieeq.key --pubkey otra.pub --now "2021-05-28 12:00"

# --- token rotation
expect 2 "token without --rotate" "$PREP" difusor token uaq "${D[@]}" --by ana --why x
expect 0 "token --rotate" "$PREP" difusor token uaq "${D[@]}" --rotate --by ana --why "filtrado"
NEW=$(sed -n 's/^pull token .*: \([0-9a-f]\{64\}\)$/\1/p' out.txt)
[ ${#NEW} = 64 ] && [ "$NEW" != "$TOKEN" ] && ok "a new token" || bad "rotation: $(cat out.txt)"

# --- a secrets file others may read is refused
chmod 644 reg.db.secrets
expect 2 "show refuses a readable secrets file" "$PREP" difusor show uaq "${D[@]}"
has err.txt "chmod 600" "the fix is named"
hasnt err.txt "$PW" "the refusal does not print the password"
chmod 600 reg.db.secrets

# --- concurrent writers: 6 processes register at once; busy_timeout and the write
# transaction serialise them, and the secrets file keeps every password
pids=()
for i in 1 2 3 4 5 6; do
  sed -e "s/^id = uaq/id = par-$i/" -e "s/^ftp-password = .*/ftp-password = clave-$i/" uaq.txt > par-$i.txt
  "$PREP" difusor add "${D[@]}" --from par-$i.txt --by ana --now "2021-04-19 10:00" >par-$i.out 2>&1 &
  pids+=($!)
done
allok=1
for p in "${pids[@]}"; do wait "$p" || allok=0; done
[ $allok = 1 ] && ok "6 concurrent adds succeed" || { bad "a concurrent add failed"; cat par-*.out; }
[ "$(sqlite3 reg.db "SELECT count(*) FROM difusores WHERE id LIKE 'par-%'")" = 6 ] && ok "6 rows" || bad "rows missing"
[ "$(grep -c '^par-[1-6] ftp-password clave-[1-6]$' reg.db.secrets)" = 6 ] && ok "6 passwords kept" || bad "secrets lost: $(cat reg.db.secrets | cut -d' ' -f1,2)"
grep -q "^uaq ftp-password $PW\$" reg.db.secrets && ok "the earlier password survives" || bad "uaq password lost"

# --- the everything-in-one logs are free of secrets
for f in out.txt err.txt; do hasnt $f "$PW" "$f clean"; done

echo "difusor_cli: $fails failed"
[ "$fails" = 0 ]
