"""/healthz means something: it stays 200 through quiet long polls longer
than the threshold, turns 503 with the reason once ReceiveMessage has been
failing (the AWS endpoint answering 500) for longer than
[daemon] health_threshold, and 200 again once receiving works; and it is
503 when no AWS credentials can be found."""

import json
import time
import unittest

from ops import (Daemon, Stack, free_port, http_request, main,
                 parse_prometheus, sample, wait_until)


class Healthz(unittest.TestCase):
    def health(self, port):
        code, headers, body = http_request(port, "/healthz")
        self.assertEqual(headers["content-type"],
                         "text/plain; charset=utf-8")
        return code, body

    def test_receive_failing_then_back(self):
        s = Stack(self, bridges=1)
        port = free_port()
        s.start_daemon(config={
            "aws": {"max_attempts": "1", "call_budget": "5s"},
            "daemon": {"admin": "127.0.0.1:%d" % port,
                       "health_threshold": "2s",
                       # a long poll longer than the threshold
                       "receive_wait": "3s"}})

        def received_once():
            _, _, body = http_request(port, "/status")
            return json.loads(body)["receive"]["last_ok_s"] is not None
        wait_until(received_once, 15, what="a first successful receive")
        # quiet long polls of 3 s: never unhealthy, over two of them
        end = time.monotonic() + 7
        while time.monotonic() < end:
            self.assertEqual(self.health(port), (200, "ok\n"))
            time.sleep(0.25)

        # the queue's endpoint fails every ReceiveMessage from now on
        s.emu.inject_fault("ReceiveMessage", 100000, kind="500")
        t0 = time.monotonic()

        def unhealthy():
            code, body = self.health(port)
            return body if code == 503 else None
        body = wait_until(unhealthy, 40, interval=0.2, what="503")
        # not before the threshold: the first failure comes after the
        # long poll in flight, and then 2 s more
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)
        lines = body.splitlines()
        self.assertEqual(lines[0], "unhealthy")
        self.assertRegex(lines[1], r"^receiving from the queue \(SQS "
                         r"ReceiveMessage\) has failed for \d+s, more than "
                         r"health_threshold \(2s\); last success \d+s ago$")
        st = json.loads(http_request(port, "/status")[2])
        self.assertFalse(st["health"]["healthy"])
        self.assertFalse(st["receive"]["ok"])
        self.assertEqual(st["health"]["reasons"], lines[1:])
        m = parse_prometheus(http_request(port, "/metrics")[2])[0]
        self.assertGreaterEqual(sample(
            m, "jvb_lifecycled_aws_errors_total",
            operation="ReceiveMessage", code="InternalFailure"), 1)
        self.assertGreater(sample(
            m, "jvb_lifecycled_receive_failing_seconds"), 2)

        # the endpoint recovers: healthy again at the next retry (the
        # receive loop's backoff is capped at 30 s)
        s.emu.clear_faults("ReceiveMessage")
        wait_until(lambda: self.health(port) == (200, "ok\n"), 45,
                   interval=0.2, what="200 again")
        st = json.loads(http_request(port, "/status")[2])
        self.assertTrue(st["receive"]["ok"])
        self.assertIsNone(st["receive"]["failing_s"])

    def test_no_credentials(self):
        s = Stack(self, bridges=1)
        port = free_port()
        d = Daemon(s.emu, s.dir, name="nocreds", bridge_port=s.port,
                   config={"aws": {"max_attempts": "1",
                                   "call_budget": "2s"},
                           "daemon": {"admin": "127.0.0.1:%d" % port,
                                      "health_threshold": "1s"}})
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            d.env.pop(k, None)
        d.start()
        self.addCleanup(self._stop, d)

        def unhealthy():
            code, body = self.health(port)
            return body if code == 503 else None
        body = wait_until(unhealthy, 20, interval=0.2, what="503")
        self.assertIn("AWS credentials have failed for", body)
        self.assertIn("no usable credentials", body)
        m = parse_prometheus(http_request(port, "/metrics")[2])[0]
        self.assertEqual(sample(m, "jvb_lifecycled_aws_credentials_ok"), 0)

    def _stop(self, d):
        self.assertEqual(d.stop(), 0, d.log_text()[-3000:])


if __name__ == "__main__":
    main()
