"""Loopback address plan for tests.

Every test process that runs fake bridges needs addresses that no other test
running at the same time uses.  A process takes a whole 127.0.N.0/24 for
itself: it holds an exclusive flock(2) on /tmp/jvb-lifecycled-nets/N.lock for
as long as it lives (the kernel drops the lock when the process exits, even
after a crash, so there is nothing to clean up).

    from harness.net import allocate, free_port
    net = allocate()          # Net(n=137)
    net.n                     # 137
    net.cidr                  # "127.0.137.0/24"
    net.addr(5)               # "127.0.137.5"
    free_port("127.0.0.1")    # a TCP port that was free a moment ago

allocate() tries N in [10, 250] in random order; each call returns a net of
its own (two calls in one process get two different N).  allocate(n=42) asks
for that N and raises NetBusy if someone else holds it.  Net.release() gives
the net back early; it is also released when the process exits.
"""

import errno
import fcntl
import os
import random
import socket

LOCK_DIR = "/tmp/jvb-lifecycled-nets"
N_MIN = 10
N_MAX = 250

__all__ = ["Net", "NetBusy", "allocate", "free_port", "LOCK_DIR"]


class NetBusy(RuntimeError):
    """The requested 127.0.N.0/24 (or every one of them) is in use."""


class Net:
    """One 127.0.N.0/24 held by this process."""

    def __init__(self, n, fd):
        self.n = n
        self.cidr = "127.0.%d.0/24" % n
        self._fd = fd  # owner: this object; closing it drops the lock

    def addr(self, i):
        """The address 127.0.N.i (i in 1..254)."""
        if not 1 <= int(i) <= 254:
            raise ValueError("host part %r outside 1..254" % (i,))
        return "127.0.%d.%d" % (self.n, int(i))

    @property
    def prefix(self):
        """"127.0.N." (handy for startswith checks)."""
        return "127.0.%d." % self.n

    def contains(self, ip):
        return isinstance(ip, str) and ip.startswith(self.prefix) and \
            ip[len(self.prefix):].isdigit()

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __repr__(self):
        return "Net(n=%d)" % self.n


def _try_lock(n):
    os.makedirs(LOCK_DIR, mode=0o1777, exist_ok=True)
    path = os.path.join(LOCK_DIR, "%d.lock" % n)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except PermissionError:
        # Left behind by another user: not ours to take.
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    # Who holds it, for a human looking at a stuck run; the lock is the truth.
    os.ftruncate(fd, 0)
    os.write(fd, ("%d\n" % os.getpid()).encode())
    return fd


def allocate(n=None):
    """Take a free 127.0.N.0/24 for this process and return its Net."""
    if n is not None:
        n = int(n)
        if not N_MIN <= n <= N_MAX:
            raise ValueError("net %d outside [%d, %d]" % (n, N_MIN, N_MAX))
        fd = _try_lock(n)
        if fd is None:
            raise NetBusy("127.0.%d.0/24 is held by another process" % n)
        return Net(n, fd)
    candidates = list(range(N_MIN, N_MAX + 1))
    random.SystemRandom().shuffle(candidates)
    for cand in candidates:
        fd = _try_lock(cand)
        if fd is not None:
            return Net(cand, fd)
    raise NetBusy("every 127.0.N.0/24 in [%d, %d] is taken" % (N_MIN, N_MAX))


def free_port(host="127.0.0.1"):
    """A TCP port on host that nobody listened on when we asked.

    Another process may take it before the caller binds it; callers that
    can bind port 0 themselves should prefer that.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
