"""Shared bits of the end-to-end scenarios."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.stack import Stack  # noqa: E402,F401


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("%s not reached in %.1fs" % (what, timeout))
        time.sleep(interval)


def posts(bridge):
    """The POST requests a fake bridge received: [(path, body)]."""
    return [(r["path"], r.get("body")) for r in bridge.requests()
            if r["method"] == "POST"]
