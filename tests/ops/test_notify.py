"""systemd's side of Type=notify, played by the test: NOTIFY_SOCKET is a
datagram socket the test listens on.  The daemon sends READY=1 with a
STATUS= line once it works, WATCHDOG=1 at half of WATCHDOG_USEC from its
loop, STATUS= lines that follow the open actions, and STOPPING=1 on
SIGTERM; without WATCHDOG_USEC it sends no ping."""

import os
import select
import socket
import tempfile
import threading
import time
import unittest

from ops import Stack, main, wait_until


class NotifyListener:
    """Collects (monotonic time, message) from a datagram socket."""

    def __init__(self, test, abstract=False):
        self.dir = tempfile.TemporaryDirectory(prefix="jl-notify-")
        test.addCleanup(self.dir.cleanup)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            # NOTIFY_SOCKET's "@name" form: Linux's abstract namespace
            name = "jl-notify-%d-%s" % (os.getpid(),
                                        os.path.basename(self.dir.name))
            self.sock.bind("\0" + name)
            self.path = "@" + name
        else:
            self.path = os.path.join(self.dir.name, "notify.sock")
            self.sock.bind(self.path)
        self.messages = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        test.addCleanup(self.close)

    def _run(self):
        while not self.stop_flag.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if r:
                data = self.sock.recv(4096).decode("utf-8", "replace")
                with self.lock:
                    self.messages.append((time.monotonic(), data))

    def close(self):
        self.stop_flag.set()
        self.thread.join(5)
        self.sock.close()

    def lines(self, prefix):
        """(time, value) of every "PREFIX=value" line received."""
        out = []
        with self.lock:
            for t, msg in self.messages:
                for line in msg.split("\n"):
                    if line.startswith(prefix + "="):
                        out.append((t, line[len(prefix) + 1:]))
        return out


class Notify(unittest.TestCase):
    def test_ready_watchdog_status_stopping(self):
        s = Stack(self, bridges=1, participants=[2])
        n = NotifyListener(self)
        d = s.start_daemon(env={"NOTIFY_SOCKET": n.path,
                                "WATCHDOG_USEC": "1000000"})
        ready = wait_until(lambda: n.lines("READY"), 10, what="READY=1")
        self.assertEqual(ready[0][1], "1")
        status = n.lines("STATUS")
        self.assertEqual(status[0][1], "0 open actions (0 terminating, 0 "
                         "launching); receiving ok")
        # pings every 0.5 s; over 4 s at least 4, however loaded the host
        t0 = time.monotonic()
        time.sleep(4)
        pings = [t for t, v in n.lines("WATCHDOG") if t >= t0 and
                 t < t0 + 4]
        self.assertGreaterEqual(len(pings), 4)
        self.assertTrue(all(v == "1" for _, v in n.lines("WATCHDOG")))

        # STATUS follows the open actions
        action = s.emu.scale_in(s.group, s.instances[0])
        wait_until(lambda: any(v.startswith("1 open action (1 terminating")
                               for _, v in n.lines("STATUS")), 15,
                   what="STATUS with the open action")
        s.bridge(0).leave()
        s.emu.wait_action(action.token, timeout=20)
        wait_until(lambda: n.lines("STATUS")[-1][1].startswith(
            "0 open actions"), 15, what="STATUS back to 0")

        self.assertEqual(n.lines("STOPPING"), [])
        self.assertEqual(d.stop(), 0)
        # sent before the exit; the listener thread may not have read it
        stopping = wait_until(lambda: n.lines("STOPPING"), 5,
                              what="STOPPING=1")
        self.assertEqual([v for _, v in stopping], ["1"])
        self.assertTrue(n.lines("STATUS")[-1][1].startswith("stopping: "))
        self.assertEqual(len(n.lines("READY")), 1)

    def test_no_watchdog_asked(self):
        s = Stack(self, bridges=1)
        n = NotifyListener(self)
        d = s.start_daemon(env={"NOTIFY_SOCKET": n.path})
        wait_until(lambda: n.lines("READY"), 10, what="READY=1")
        time.sleep(2)
        self.assertEqual(n.lines("WATCHDOG"), [])
        self.assertEqual(d.stop(), 0)
        wait_until(lambda: n.lines("STOPPING"), 5, what="STOPPING=1")
        self.assertEqual(len(n.lines("STOPPING")), 1)

    def test_abstract_socket_and_watchdog_of_another_pid(self):
        # WATCHDOG_PID names who the watchdog is for: not us, so no pings
        s = Stack(self, bridges=1)
        n = NotifyListener(self, abstract=True)
        d = s.start_daemon(env={"NOTIFY_SOCKET": n.path,
                                "WATCHDOG_USEC": "200000",
                                "WATCHDOG_PID": "1"})
        wait_until(lambda: n.lines("READY"), 10, what="READY=1 on @socket")
        time.sleep(1.5)
        self.assertEqual(n.lines("WATCHDOG"), [])
        self.assertEqual(d.stop(), 0)
        wait_until(lambda: n.lines("STOPPING"), 5, what="STOPPING=1")


if __name__ == "__main__":
    main()
