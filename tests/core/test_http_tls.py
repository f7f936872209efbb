"""The HTTP client against real TLS and keep-alive servers on loopback
(tests/core/http_fetch drives handler/http.c).  Peers are verified by
default: a certificate from a CA the client was not given, or one not
valid for the host asked for, fails with -EPROTO and says why; the
operator's CA file ([aws] ca_file) makes the same server good.  A
connection is reused for the next request to the same origin, and a
pooled connection the server has closed meanwhile costs a retry, not
an error."""
import errno
import http.server
import os
import socketserver
import ssl
import subprocess
import tempfile
import threading
import unittest

FETCH = os.environ.get("JL_HTTP_FETCH", "build/tests/core/http_fetch")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


def make_pki(d):
    """A CA, and a server certificate it signs for 127.0.0.1 and
    good.test (not for localhost)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=jl test CA", "-keyout", "ca.key", "-out",
            "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/CN=good.test", "-keyout", "srv.key", "-out", "srv.csr", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:good.test\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile",
            "ext.cnf", "-out", "srv.pem", cwd=d)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_reply:
            # no "Connection: close": the client learns it by reading
            self.close_connection = True

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context=None, close_after_reply=False):
        super().__init__(("127.0.0.1", 0), Handler)
        self.context = context
        self.close_after_reply = close_after_reply
        self.connections = 0

    def get_request(self):
        sock, addr = super().get_request()
        self.connections += 1
        if self.context is not None:
            sock = self.context.wrap_socket(sock, server_side=True)
        return sock, addr


def fetch(url, *args):
    out = subprocess.run([FETCH] + list(args) + [url], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("http_fetch failed: %r" % out.stderr)
    rows = []
    for line in out.stdout.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split(" ", 3))
        rows.append(fields)
    return rows


class HttpTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="jl-tls-")
        cls.dir = cls.tmp.name
        make_pki(cls.dir)
        cls.ca = os.path.join(cls.dir, "ca.pem")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.dir, "srv.pem"),
                            os.path.join(cls.dir, "srv.key"))
        cls.tls = Server(ctx)
        cls.plain_closing = Server(None, close_after_reply=True)
        cls.threads = []
        for srv in (cls.tls, cls.plain_closing):
            t = threading.Thread(target=srv.serve_forever,
                                 kwargs={"poll_interval": 0.1})
            t.start()
            cls.threads.append(t)

    @classmethod
    def tearDownClass(cls):
        for srv in (cls.tls, cls.plain_closing):
            srv.shutdown()
            srv.server_close()
        for t in cls.threads:
            t.join(10)
        cls.tmp.cleanup()

    def url(self, host="127.0.0.1"):
        return "https://%s:%d/x" % (host, self.tls.server_address[1])

    def test_trusted_ca_file(self):
        [r] = fetch(self.url(), "-c", self.ca)
        self.assertEqual(r["error"], "0", r)
        self.assertEqual(r["status"], "200")
        self.assertEqual(r["body"], "hello")

    def test_unknown_ca_is_refused(self):
        [r] = fetch(self.url())
        self.assertEqual(int(r["error"]), -errno.EPROTO, r)
        self.assertEqual(r["status"], "0")
        self.assertIn("certificate", r["text"])

    def test_name_not_in_certificate_is_refused(self):
        # localhost is 127.0.0.1, but the certificate does not name it
        [r] = fetch(self.url("localhost"), "-c", self.ca)
        self.assertEqual(int(r["error"]), -errno.EPROTO, r)
        self.assertIn("localhost", r["text"])

    def test_tls_connection_reused(self):
        before = self.tls.connections
        rows = fetch(self.url(), "-c", self.ca, "-n", "3")
        self.assertEqual([r["error"] for r in rows], ["0"] * 3, rows)
        self.assertEqual(self.tls.connections - before, 1)

    def test_closed_pooled_connection_is_retried(self):
        before = self.plain_closing.connections
        url = "http://127.0.0.1:%d/x" % self.plain_closing.server_address[1]
        rows = fetch(url, "-n", "3", "-w", "200")
        self.assertEqual([(r["error"], r["body"]) for r in rows],
                         [("0", "hello")] * 3, rows)
        # each request found the pooled connection closed: a new one
        self.assertEqual(self.plain_closing.connections - before, 3)


if __name__ == "__main__":
    unittest.main()
