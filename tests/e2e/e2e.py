"""Shared bits of the end-to-end scenarios."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.stack import Stack, wait_until  # noqa: E402,F401


def posts(bridge):
    """The POST requests a fake bridge received: [(path, body)]."""
    return [(r["path"], r.get("body")) for r in bridge.requests()
            if r["method"] == "POST"]
