"""A fake EC2 instance metadata service (IMDSv2 only) on 127.0.0.1.

Shaped after the real one: PUT /latest/api/token with the TTL header gives a
session token; every GET needs that token in X-aws-ec2-metadata-token, else
401.  public-ipv4 answers 404 when the instance has no public address.
"""

import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeImds:
    def __init__(self, instance_id="i-0123456789abcdef0",
                 local_ipv4="10.0.1.23", public_ipv4="3.120.7.42"):
        self.data = {
            "instance-id": instance_id,
            "local-ipv4": local_ipv4,
            "public-ipv4": public_ipv4,
        }
        # Token PUTs to fail with 503 before one succeeds (a slow boot).
        self.fail_token_puts = 0
        self.tokens = set()
        # While a GET is served, look for its token in every process's
        # command line (the client must not pass it as an argument).
        self.scan_argv = False
        self.argv_leaks = []
        self.log = []   # (method, path, status)
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def endpoint(self):
        host, port = self.server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def unauthorized(self):
        with self.lock:
            return [e for e in self.log if e[2] == 401]

    def scan_for(self, token):
        needle = token.encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if needle in f.read():
                        with self.lock:
                            self.argv_leaks.append(int(pid))
            except OSError:
                pass

    def start(self):
        imds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=b""):
                with imds.lock:
                    imds.log.append((self.command, self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                if self.path != "/latest/api/token":
                    return self.reply(404)
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                if ttl is None or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self.reply(400)
                with imds.lock:
                    if imds.fail_token_puts > 0:
                        imds.fail_token_puts -= 1
                        fail = True
                    else:
                        fail = False
                if fail:
                    return self.reply(503)
                token = secrets.token_urlsafe(40)
                with imds.lock:
                    imds.tokens.add(token)
                self.reply(200, token.encode())

            def do_GET(self):
                token = self.headers.get("X-aws-ec2-metadata-token")
                with imds.lock:
                    ok = token in imds.tokens
                if not ok:
                    return self.reply(401)
                if imds.scan_argv:
                    imds.scan_for(token)
                prefix = "/latest/meta-data/"
                if not self.path.startswith(prefix):
                    return self.reply(404)
                value = imds.data.get(self.path[len(prefix):])
                if value is None:
                    return self.reply(404)
                if isinstance(value, str):
                    value = value.encode()
                self.reply(200, value)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None
