# A real SMTP server for the alert tests (Debian's python3-aiosmtpd; run with /usr/bin/python3):
# listens on 127.0.0.1:PORT, requires STARTTLS (CERT, KEY) before anything else, requires an
# AUTH login (USER, the password in PASSWORD_FILE) over TLS, and keeps each message it
# accepts as DIR/<n>.eml (numbered on after a restart): "X-Envelope-From:", one "X-Envelope-To:" per recipient,
# "X-Auth-Login:", then the message as received. Every AUTH attempt is logged in
# DIR/auth.log (the login and whether the password matched, never the password).
# With CERT "-" it offers no STARTTLS and takes AUTH in clear: a server a client must
# refuse to send to when it requires TLS. Stops on SIGTERM or SIGINT.
# Usage: smtp_sink.py PORT CERT KEY USER PASSWORD_FILE DIR
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, pwfile, outdir = sys.argv[1:7]
password = open(pwfile, "rb").read().split(b"\n")[0]
os.makedirs(outdir, exist_ok=True)
count = [len([f for f in os.listdir(outdir) if f.endswith(".eml")])]  # a restart goes on numbering
lock = threading.Lock()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password
    with open(os.path.join(outdir, "auth.log"), "a") as f:
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        f.write("%s %s %s\n" % (mechanism, login, "ok" if ok else "refused"))
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            count[0] += 1
            n = count[0]
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        head = "X-Envelope-From: %s\n" % envelope.mail_from
        head += "".join("X-Envelope-To: %s\n" % r for r in envelope.rcpt_tos)
        head += "X-Auth-Login: %s\n" % login
        tmp = os.path.join(outdir, ".%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(outdir, "%03d.eml" % n))
        return "250 OK kept"


ctx = None
if cert != "-":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
ctl = Controller(Keep(), hostname="127.0.0.1", port=int(port), tls_context=ctx, require_starttls=ctx is not None,
                 auth_required=True, auth_require_tls=ctx is not None, authenticator=authenticator)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
signal.signal(signal.SIGINT, lambda *a: stop.set())
ctl.start()
print("smtp_sink: listening on 127.0.0.1:%s" % port, flush=True)
stop.wait()
ctl.stop()
