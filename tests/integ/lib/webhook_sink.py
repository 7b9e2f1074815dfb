# A webhook receiver for the alert tests (/usr/bin/python3, standard library only): listens
# on 127.0.0.1:PORT (plain HTTP), keeps each POST body as DIR/<n>.json (and its path and
# content type in DIR/<n>.meta), answers 204. Stops on SIGTERM or SIGINT.
# Usage: webhook_sink.py PORT DIR
import http.server
import os
import signal
import sys
import threading

port, outdir = int(sys.argv[1]), sys.argv[2]
os.makedirs(outdir, exist_ok=True)
count = [0]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            count[0] += 1
            k = count[0]
        with open(os.path.join(outdir, "%03d.meta" % k), "w") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Content-Type", "")))
        tmp = os.path.join(outdir, ".%d.tmp" % k)
        with open(tmp, "wb") as f:
            f.write(body)
        os.rename(tmp, os.path.join(outdir, "%03d.json" % k))
        self.send_response(204)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
signal.signal(signal.SIGINT, lambda *a: threading.Thread(target=srv.shutdown).start())
print("webhook_sink: listening on 127.0.0.1:%d" % port, flush=True)
srv.serve_forever()
