"""drain/xconn.c against a real Prosody: plain and TLS logins, TLS that
must fail (wrong CA, server without TLS, a server that stalls inside the
TLS handshake), a wrong password, Prosody killed and restarted, and the
keepalive noticing a hung server (SIGSTOP)."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_xconn_common import ProsodyTestCase, skip_unless_ready  # noqa
from harness.prosody import make_ca, free_port  # noqa: E402


def up(e):
    return e["ev"] == "up"


def down(e):
    return e["ev"] == "down"


@skip_unless_ready
class PlainTest(ProsodyTestCase):

    def test_connect_and_stop(self):
        p = self.start_prosody(tls=False)
        p.register("observer", "s3cret-plain")
        pr = self.probe(p, "observer")
        pr.cmd("start")
        pr.wait(up, 15, "session up")
        st = pr.status()
        self.assertTrue(st["up"])
        self.assertEqual(st["sessions"], 1)
        self.assertEqual(st["down_since"], 0)
        pr.cmd("stop")
        pr.wait_status(lambda s: not s["up"], 10, "stopped")
        # Stopping is not a loss: no down event, no reconnection.
        time.sleep(1.5)
        st = pr.status()
        self.assertEqual(st["attempts"], 1)
        self.assertFalse(any(down(e) for e in pr.events))
        self.assertNotIn("s3cret-plain", pr.stderr_text())
        self.assertIn("Client disconnected", p.log_text())

    def test_wrong_password(self):
        p = self.start_prosody(tls=False)
        p.register("observer", "right")
        p.accounts["observer"] = "wrong"
        pr = self.probe(p, "observer", extra=["--reconnect-min", "200",
                                             "--reconnect-max", "400"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 20,
                            "two failed attempts")
        self.assertFalse(st["up"])
        self.assertEqual(st["sessions"], 0)
        self.assertIn("authenticat", st["last_error"].lower())
        self.assertNotIn("wrong", pr.stderr_text().replace(
            "wrong password", ""))

    def test_tls_handshake_failure(self):
        # Prosody offers STARTTLS but has no certificate for the domain.
        p = self.start_prosody(tls=False)
        p.register("observer", "pw")
        pr = self.probe(p, "observer", tls=True, extra=[
            "--reconnect-min", "200", "--reconnect-max", "400"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 20,
                            "two failed attempts")
        self.assertEqual(st["sessions"], 0)
        self.assertIn("TLS", st["last_error"])

    def test_tls_required_but_not_offered(self):
        p = self.start_prosody(tls=False, extra_config=(
            'modules_enabled = { "saslauth", "disco", "ping", "roster", '
            '"posix" }'))
        p.register("observer", "pw")
        pr = self.probe(p, "observer", tls=True, extra=[
            "--reconnect-min", "200", "--reconnect-max", "400"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 20,
                            "two failed attempts")
        self.assertEqual(st["sessions"], 0)
        self.assertIn("TLS", st["last_error"])

    def test_refused_then_server_appears(self):
        port = free_port("127.0.0.1")
        p = self.start_prosody(tls=False, port=port)
        p.register("observer", "pw")
        p.kill()
        pr = self.probe(p, "observer", extra=["--reconnect-min", "200",
                                             "--reconnect-max", "1000"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 15,
                            "refused attempts")
        self.assertFalse(st["up"])
        self.assertGreater(st["down_since"], 0)
        p.restart()
        pr.wait(up, 15, "session up once the server listens")

    def test_kill_and_restart(self):
        p = self.start_prosody(tls=False)
        p.register("observer", "pw")
        pr = self.probe(p, "observer", extra=["--reconnect-min", "200",
                                             "--reconnect-max", "2000"])
        pr.cmd("start")
        pr.wait(up, 15, "session up")
        p.kill()
        ev = pr.wait(down, 10, "down after SIGKILL")
        self.assertLess(ev["error"], 0)
        p.restart()
        pr.wait(up, 20, "session up again after restart")
        st = pr.status()
        self.assertEqual(st["sessions"], 2)
        self.assertTrue(st["up"])

    def test_keepalive_notices_a_hung_server(self):
        p = self.start_prosody(tls=False)
        p.register("observer", "pw")
        pr = self.probe(p, "observer", extra=[
            "--ping-interval", "2", "--ping-timeout", "2",
            "--connect-timeout", "4", "--reconnect-min", "200",
            "--reconnect-max", "1000"])
        pr.cmd("start")
        pr.wait(up, 15, "session up")
        # Pings are answered while the server is alive.
        pr.wait_status(lambda s: s["pongs"] >= 1, 10, "a pong")
        t0 = time.monotonic()
        p.pause()
        try:
            ev = pr.wait(down, 12, "down after the ping timeout")
            took = time.monotonic() - t0
            self.assertIn("ping", ev["why"])
            self.assertEqual(ev["error"], -110)  # -ETIMEDOUT
            # interval (2 s) + timeout (2 s), and some margin
            self.assertLess(took, 9.0)
            # Attempts against the hung server end at the deadline.
            st = pr.wait_status(lambda s: "no session" in s["last_error"],
                                15, "an attempt timing out")
            self.assertFalse(st["up"])
        finally:
            p.resume()
        pr.wait(up, 30, "session up after SIGCONT")


@skip_unless_ready
class TlsTest(ProsodyTestCase):
    tls = True

    def test_tls_connect(self):
        p = self.start_prosody()
        p.register("observer", "pw-tls")
        pr = self.probe(p, "observer")
        pr.cmd("start")
        pr.wait(up, 20, "TLS session up")
        self.assertIn("(TLS)", pr.stderr_text())
        self.assertIn("Stream encrypted", p.log_text())
        p.kill()
        pr.wait(down, 10, "down after SIGKILL")
        p.restart()
        pr.wait(up, 30, "TLS session up after restart")

    def test_wrong_ca_is_refused(self):
        p = self.start_prosody()
        p.register("observer", "pw")
        other, _ = make_ca(os.path.join(p.dir, "other"), "other")
        pr = self.probe(p, "observer", ca_file=other, extra=[
            "--reconnect-min", "200", "--reconnect-max", "400"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 20,
                            "two failed attempts")
        self.assertEqual(st["sessions"], 0)
        self.assertIn("certificate", st["last_error"].lower())
        self.assertFalse(any(up(e) for e in pr.events))

    def test_system_cas_do_not_trust_a_private_ca(self):
        p = self.start_prosody()
        p.register("observer", "pw")
        # --tls without --ca-file: only the system CAs.
        pr = self.probe(p, "observer", ca_file="", extra=[
            "--reconnect-min", "200", "--reconnect-max", "400"])
        pr.cmd("start")
        st = pr.wait_status(lambda s: s["attempts"] >= 2, 20,
                            "two failed attempts")
        self.assertEqual(st["sessions"], 0)
        self.assertIn("certificate", st["last_error"].lower())


class _StallingServer:
    """Speaks XMPP up to <proceed/>, then never answers the TLS
    ClientHello: libstrophe's blocking handshake would wait forever."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.proceeds = []   # monotonic times <proceed/> was sent
        self.conns = []
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        buf = b""
        c.settimeout(30)
        try:
            while b"<stream:stream" not in buf:
                buf += c.recv(4096)
            c.sendall(b"<?xml version='1.0'?><stream:stream xmlns="
                      b"'jabber:client' xmlns:stream='http://etherx.jabber"
                      b".org/streams' id='s1' from='auth.jitsi.test' "
                      b"version='1.0'><stream:features><starttls xmlns="
                      b"'urn:ietf:params:xml:ns:xmpp-tls'><required/>"
                      b"</starttls></stream:features>")
            while b"<starttls" not in buf:
                buf += c.recv(4096)
            c.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            self.proceeds.append(time.monotonic())
            while not self.stop:
                if not c.recv(4096):
                    break
        except OSError:
            pass

    def close(self):
        self.stop = True
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
        self.t.join(5)


@skip_unless_ready
class TlsStallTest(ProsodyTestCase):

    def test_stalled_handshake_is_bounded(self):
        # A Prosody only for the account and password file plumbing.
        p = self.start_prosody(tls=False)
        p.register("observer", "pw")
        srv = _StallingServer()
        self.addCleanup(srv.close)
        pr = self.probe(p, "observer", tls=True, ca_file=None,
                        port=srv.port, extra=[
                            "--connect-timeout", "60",
                            "--reconnect-min", "200",
                            "--reconnect-max", "400"])
        pr.cmd("start")
        deadline = time.monotonic() + 15
        while not srv.proceeds and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(srv.proceeds, "the probe never asked for TLS")
        # The loop is stuck inside libstrophe's handshake now; the guard
        # frees it within XCONN_TLS_GUARD_MS (5 s).
        time.sleep(0.5)
        t0 = time.monotonic()
        st = pr.status(timeout=15)
        waited = time.monotonic() - t0
        self.assertLess(waited, 8.0)
        self.assertGreater(waited, 2.0)  # it really was blocked
        st = pr.wait_status(lambda s: "stalled" in s["last_error"], 10,
                            "the stalled handshake reported")
        self.assertFalse(st["up"])
        # And it tries again (and is bounded again).
        deadline = time.monotonic() + 20
        while len(srv.proceeds) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertGreaterEqual(len(srv.proceeds), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
