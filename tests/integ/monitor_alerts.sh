#!/usr/bin/env bash
# prep monitor's alerts against real peers on loopback (docs/monitor.md "Alerts"):
#   nginx over TLS serving two exports of a signed drill cut: a (always intact) and b
#   (index.html changed, then restored, then changed again);
#   a real SMTP server, Debian's python3-aiosmtpd (tests/integ/lib/smtp_sink.py): STARTTLS
#   required, AUTH required over TLS, a throwaway self-signed certificate;
#   a webhook receiver (tests/integ/lib/webhook_sink.py, plain HTTP on loopback).
# Rounds of `prep monitor --once`, the alerts' memory kept in OUT/state.json between them:
#   1 b red            -> exactly one mail and one webhook POST, naming b, its URL, the reason
#   2 b still red      -> nothing (deduplicated; the reminder is an hour away)
#   3 b restored       -> one recovery mail and POST
#   4 b red, SMTP down -> the failure is named (mail, server, curl's error), the round
#                         completes (board written), the webhook still gets its POST
#   5 SMTP back        -> the mail of round 4 is sent now, the webhook is not repeated
#   6 a second board with max_messages_per_round 1 and two red broadcasters -> one digest
#   7-9 a third board with cut_late_seconds 1: the institute's cut late after 2 s -> one
#       "cut is LATE" alert; a new cut -> "on time again"
#   10 an SMTP server that offers no STARTTLS (and would take the login in clear) -> the
#       monitor refuses to send (curl's error named), no login attempted, nothing sent
# No message, output or board file holds the SMTP password or anything like a pull token
# (64 hex digits); a password file that others can read is refused at start with its
# file:line:column.
set -euo pipefail
PREP=$1
LIB=$(cd "$(dirname "$0")/lib" && pwd)
. "$LIB/peers.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
  echo "monitor_alerts.sh: SKIP: Debian's python3-aiosmtpd is not installed (scripts/setup.sh installs it)"
  exit 77
fi
command -v nginx >/dev/null || { echo "monitor_alerts.sh: SKIP: no nginx (scripts/setup.sh installs it)"; exit 77; }
T=$(mktemp -d)
peer_cleanup_on_exit "$T"
cd "$T"
chmod 755 "$T"
mkdir -p logs

fail() { echo "monitor_alerts.sh: FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

read -r PA PB PD PS PW PC < <(peer_free_ports 6)

"$PREP" sim catalog --scale tiny --seed 5 --out tiny.cat >/dev/null
"$PREP" sim actas --catalog tiny.cat --out actas --seed 5 2>/dev/null
"$PREP" keygen --out drill --drill >/dev/null
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-06 21:00" --key drill.key --store store --drill >/dev/null 2>&1
"$PREP" export --store store --out siteA >/dev/null 2>&1
"$PREP" export --store store --out siteB --copy >/dev/null 2>&1
cp siteB/index.html index.orig
break_b() { sed 's/<\/body>/<p>publicidad<\/p><\/body>/' index.orig > siteB/index.new && mv siteB/index.new siteB/index.html; }
fix_b() { cp index.orig siteB/index.new && mv siteB/index.new siteB/index.html; }

peer_cert cert.pem cert.key 30
USER_LINE=""
[ "$(id -u)" = 0 ] && USER_LINE="user root;"
srv() { # port root
  echo "  server { listen 127.0.0.1:$1 ssl; ssl_certificate $T/cert.pem; ssl_certificate_key $T/cert.key; root $T/$2; }"
}
{
  echo "$USER_LINE"
  echo "worker_processes 1; error_log $T/logs/error.log; pid $T/logs/nginx.pid;"
  echo "events { worker_connections 64; }"
  echo "http { include /etc/nginx/mime.types; access_log off;"
  echo "  client_body_temp_path $T/logs/b; proxy_temp_path $T/logs/p; fastcgi_temp_path $T/logs/f;"
  echo "  uwsgi_temp_path $T/logs/u; scgi_temp_path $T/logs/s;"
  srv "$PA" siteA
  srv "$PB" siteB
  echo "}"
} > nginx.conf
nginx -p "$T" -c "$T/nginx.conf" -g 'daemon off;' 2>logs/nginx.err &
peer_track $!

# the SMTP login: the password only in an owner-only file
PASSWORD="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-secret"
(umask 077 && printf '%s\n' "$PASSWORD" > smtp.pass)
start_smtp() {
  "$PY" "$LIB/smtp_sink.py" "$PS" cert.pem cert.key monitor@ieeq.test smtp.pass mail >>logs/smtp.log 2>&1 &
  SMTP_PID=$!
  peer_track "$SMTP_PID"
  peer_wait_port "$PS" 15 || { cat logs/smtp.log; fail "the SMTP server did not start"; }
}
start_smtp
"$PY" "$LIB/webhook_sink.py" "$PW" hook >>logs/hook.log 2>&1 &
peer_track $!
peer_wait_port "$PW" 15 || { cat logs/hook.log; fail "the webhook receiver did not start"; }
{ peer_wait_port "$PA" 10 && peer_wait_port "$PB" 10; } || { cat logs/nginx.err; fail "nginx did not start"; }

config() { # out-dir max-per-round broadcaster-json... (SMTP_PORT, LATE override)
  local out=$1 cap=$2 list="" sep="" b
  shift 2
  for b in "$@"; do list+="$sep$b"; sep=", "; done
  printf '%s\n' \
    "{\"store\": \"store\", \"out\": \"$out\", \"interval_seconds\": 30, \"sample\": 4, \"timeout_seconds\": 5," \
    " \"broadcasters\": [$list]," \
    " \"alerts\": {" \
    "   \"smtp\": {\"url\": \"smtp://127.0.0.1:${SMTP_PORT:-$PS}\", \"from\": \"monitor@ieeq.test\"," \
    "            \"to\": [\"guardia@ieeq.test\", \"prep@ieeq.test\"]," \
    "            \"password_file\": \"smtp.pass\", \"ca_file\": \"cert.pem\"}," \
    "   \"webhook\": {\"url\": \"http://127.0.0.1:$PW/hooks/prep\"}," \
    "   \"reminder_seconds\": 3600, \"cut_late_seconds\": ${LATE:-600}, \"max_messages_per_round\": $cap}}"
}
A="{\"id\": \"a\", \"url\": \"https://127.0.0.1:$PA/\", \"ca_file\": \"cert.pem\"}"
B="{\"id\": \"b\", \"url\": \"https://127.0.0.1:$PB/\", \"ca_file\": \"cert.pem\"}"
D="{\"id\": \"d\", \"url\": \"https://127.0.0.1:$PD/\", \"ca_file\": \"cert.pem\"}"
config out 5 "$A" "$B" > c.json

nmail() { find mail -name '*.eml' 2>/dev/null | wc -l; }
nhook() { find hook -name '*.json' 2>/dev/null | wc -l; }
round() { # N: one round, stdout/stderr kept in roundN.out/.err, its status in RC
  set +e
  timeout 60 "$PREP" monitor --config c.json --once > "round$1.out" 2> "round$1.err"
  RC=$?
  set -e
  [ $RC -le 1 ] || { cat "round$1.out" "round$1.err"; fail "round $1: exit status $RC"; }
}
settle() { sleep 0.3; } # the sinks answer before they rename the message into place

# --- round 1: b turns red
break_b
round 1
[ $RC = 1 ] || fail "round 1: exit $RC, expected 1 (b is red)"
grep -q "^  b  *red  *modified page index.html" round1.out || { cat round1.out; fail "round 1: b is not red"; }
settle
[ "$(nmail)" = 1 ] || { cat round1.out round1.err logs/smtp.log; fail "round 1: $(nmail) mails, expected 1"; }
[ "$(nhook)" = 1 ] || { cat round1.out round1.err; fail "round 1: $(nhook) webhook POSTs, expected 1"; }
ok "one red alert by mail and one by webhook"
M=mail/001.eml
grep -q "^Subject: prep monitor: difusor b is RED: modified page index.html" $M || { cat $M; fail "mail subject"; }
{ grep -q "^X-Envelope-From: monitor@ieeq.test" $M && grep -q "^X-Envelope-To: guardia@ieeq.test" $M &&
  grep -q "^X-Envelope-To: prep@ieeq.test" $M; } || { cat $M; fail "mail envelope"; }
grep -q "^X-Auth-Login: monitor@ieeq.test" $M || { cat $M; fail "the monitor did not log in (over TLS)"; }
{ grep -q "site: *https://127.0.0.1:$PB/" $M && grep -q "difusor: *b" $M && grep -q "evidence/b.jsonl" $M; } ||
  { cat $M; fail "mail body: id, URL or evidence missing"; }
if grep -q "difusor a" $M; then fail "the mail names the green broadcaster a"; fi
"$PY" - "$PB" <<'PY' || fail "webhook body"
import json, sys
b = json.load(open("hook/001.json"))
assert b["source"] == "prep monitor", b
ev = b["events"]
assert len(ev) == 1 and ev[0]["kind"] == "red" and ev[0]["id"] == "b", ev
assert ev[0]["url"] == "https://127.0.0.1:%s/" % sys.argv[1] and ev[0]["reason"] == "modified page index.html", ev
assert b["subject"].startswith("prep monitor: difusor b is RED"), b["subject"]
meta = open("hook/001.meta").read().split()
assert meta == ["/hooks/prep", "application/json"], meta
PY
{ grep -q "^alert: mail red b (serving cut 1, active 1): sent to smtp://127.0.0.1:$PS" round1.out &&
  grep -q "^alert: webhook red b (serving cut 1, active 1): sent to http://127.0.0.1:$PW" round1.out; } ||
  { cat round1.out; fail "round 1: no log line per alert"; }
grep -q '"alerts":\[\[0,"b",' out/state.json || fail "the alerts' memory is not in state.json"
ok "the messages name b by id and URL, with the evidence; one log line each"

# --- round 2: still red, nothing new (a new process: the memory comes from state.json)
round 2
settle
[ "$(nmail)" = 1 ] && [ "$(nhook)" = 1 ] || fail "round 2: $(nmail) mails, $(nhook) POSTs: not deduplicated"
if grep -q "^alert:" round2.out; then fail "round 2: alert lines: $(grep ^alert: round2.out)"; fi
ok "no second alert while b stays red"

# --- round 3: b fixed -> recovery
fix_b
round 3
[ $RC = 0 ] || { cat round3.out; fail "round 3: exit $RC, expected 0"; }
settle
[ "$(nmail)" = 2 ] && [ "$(nhook)" = 2 ] || fail "round 3: $(nmail) mails, $(nhook) POSTs, expected 2 and 2"
grep -q "^Subject: prep monitor: difusor b recovered (green): serving cut 1" mail/002.eml ||
  { cat mail/002.eml; fail "recovery subject"; }
"$PY" -c 'import json; e=json.load(open("hook/002.json"))["events"]; assert [x["kind"] for x in e]==["recovered"] and e[0]["id"]=="b", e' ||
  fail "recovery webhook"
grep -q '"alerts":\[\]' out/state.json || fail "the recovery was not remembered"
ok "a recovery alert by mail and by webhook when b is fixed"

# --- round 4: b red again while the SMTP server is down
break_b
peer_stop "$SMTP_PID" || true
round 4
[ $RC = 1 ] || fail "round 4: exit $RC"
grep -q "^round: active cut 1; 1 green, 0 amber, 1 red" round4.out || { cat round4.out; fail "round 4 did not complete"; }
grep -q "alert-send: mail to smtp://127.0.0.1:$PS failed: Couldn't connect to server" round4.err ||
  { cat round4.err; fail "round 4: the failed send is not named"; }
grep -q "^alert: mail red b (serving cut 1, active 1): FAILED (mail to smtp://127.0.0.1:$PS failed: " round4.out ||
  { cat round4.out; fail "round 4: no FAILED line"; }
grep -q '"red": 1' out/board.json || fail "round 4: the board was not written"
settle
[ "$(nhook)" = 3 ] || fail "round 4: $(nhook) POSTs, expected 3"
[ "$(nmail)" = 2 ] || fail "round 4: $(nmail) mails with the server down"
ok "a failed send is named (channel, server, curl's error); the round completes; the webhook still goes"

# --- round 5: the SMTP server is back: the mail is retried, the webhook is not repeated
start_smtp
round 5
settle
[ "$(nmail)" = 3 ] || { cat round5.out round5.err; fail "round 5: $(nmail) mails, expected 3 (the retry)"; }
[ "$(nhook)" = 3 ] || fail "round 5: $(nhook) POSTs, expected 3 (no repeat)"
grep -q "^Subject: prep monitor: difusor b is RED" mail/003.eml || fail "round 5: the retried mail"
ok "the failed mail is sent the next round, the webhook is not repeated"

# --- round 6: more events in a round than max_messages_per_round: one digest per channel
config out2 1 "$A" "$B" "$D" > c.json
round 6
settle
[ "$(nmail)" = 4 ] && [ "$(nhook)" = 4 ] || fail "round 6: $(nmail) mails, $(nhook) POSTs, expected 4 and 4 (one digest each)"
grep -q "^Subject: prep monitor: 2 alerts: 2 RED" mail/004.eml || { cat mail/004.eml; fail "digest subject"; }
{ grep -q "difusor b is RED" mail/004.eml && grep -q "difusor d is RED: unreachable" mail/004.eml; } || fail "digest body"
"$PY" -c 'import json; e=json.load(open("hook/004.json"))["events"]; assert sorted(x["id"] for x in e)==["b","d"], e' ||
  fail "digest webhook"
ok "two broadcasters red at once with a cap of 1: one digest per channel"

# --- rounds 7-9: the institute's own cut late, then on time again
LATE=1 config out3 5 "$A" > c.json
round 7
settle
[ "$(nmail)" = 4 ] && [ "$(nhook)" = 4 ] || fail "round 7: $(nmail) mails, $(nhook) POSTs: a fresh cut is not late"
sleep 2.2
round 8
settle
[ "$(nmail)" = 5 ] && [ "$(nhook)" = 5 ] || fail "round 8: $(nmail) mails, $(nhook) POSTs, expected 5 and 5"
grep -q "^Subject: prep monitor: the institute's cut is LATE: active cut 1 made .*(late after 1s)" mail/005.eml ||
  { cat mail/005.eml; fail "cut-late subject"; }
"$PY" -c 'import json; e=json.load(open("hook/005.json"))["events"]; assert [x["kind"] for x in e]==["cut-late"] and e[0]["id"]=="@institute", e' ||
  fail "cut-late webhook"
"$PREP" cut --catalog tiny.cat --actas actas --at "2021-06-06 23:00" --key drill.key --store store --drill >/dev/null 2>&1
round 9
settle
[ "$(nmail)" = 6 ] && [ "$(nhook)" = 6 ] || { cat round9.out; fail "round 9: $(nmail) mails, $(nhook) POSTs, expected 6 and 6"; }
grep -q "^Subject: prep monitor: the institute's cut is on time again: active cut 2 made" mail/006.eml ||
  { cat mail/006.eml; fail "cut-on-time subject"; }
ok "the institute's cut late after cut_late_seconds: one alert; a new cut: on time again"

# --- round 10: a server without STARTTLS gets neither the login nor the message
"$PY" "$LIB/smtp_sink.py" "$PC" - - monitor@ieeq.test smtp.pass clearmail >>logs/smtp-clear.log 2>&1 &
peer_track $!
peer_wait_port "$PC" 15 || { cat logs/smtp-clear.log; fail "the plain SMTP server did not start"; }
SMTP_PORT=$PC config out4 5 "$B" > c.json
round 10
grep -q "alert-send: mail to smtp://127.0.0.1:$PC failed: " round10.err || { cat round10.err; fail "round 10: no failure named"; }
[ ! -e clearmail/auth.log ] || { cat clearmail/auth.log; fail "round 10: the login was tried without TLS"; }
[ -z "$(find clearmail -name '*.eml')" ] || fail "round 10: a message went in clear"
ok "no STARTTLS offered: nothing sent in clear, the failure named ($(grep -o 'failed: [^;]*' round10.err | sed -n 1p))"

# --- secrecy: the password and anything like a pull token appear nowhere
for f in mail/*.eml hook/*.json round*.out round*.err out*/state.json out/board.json out/index.html logs/smtp*.log; do
  if grep -qF -- "$PASSWORD" "$f"; then fail "the SMTP password is in $f"; fi
  case "$f" in
    */state.json) ;; # the cut index holds manifest hashes
    *) if grep -Eq '[0-9a-f]{64}' "$f"; then fail "a 64-hex string (token-like) in $f"; fi ;;
  esac
done
ok "no password and nothing token-like in any message or output"

# --- a password file others can read is refused at start, located
chmod 640 smtp.pass
set +e
"$PREP" monitor --config c.json --once > bad.out 2> bad.err
rc=$?
set -e
[ $rc = 2 ] || fail "group-readable password file: exit $rc, expected 2"
grep -Eq "^c.json:[0-9]+:[0-9]+: config-secret: alerts.smtp.password_file .*smtp.pass has mode 0640" bad.err ||
  { cat bad.err; fail "group-readable password file: not named"; }
if grep -qF -- "$PASSWORD" bad.err; then fail "the password is in the refusal"; fi
ok "a group-readable password file is refused with file:line:column"
echo "monitor_alerts.sh: all passed"
