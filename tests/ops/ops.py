"""Shared bits of the operations tests: HTTP to the admin endpoint, a
strict parser of the Prometheus text format (0.0.4), running the CLI, and
unittest's main with meson's skip code."""

import http.client
import math
import os
import re
import subprocess
import sys
import unittest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)

from harness.daemon import Daemon, daemon_binary  # noqa: E402,F401
from harness.fakebridge import FakeBridges  # noqa: E402,F401
from harness.net import allocate, free_port  # noqa: E402,F401
from harness.stack import Stack, wait_until  # noqa: E402,F401

MISSING = "missing: "

# Fill in with (state dir, audit file's dir).
MINIMAL_CONFIG = """[aws]
region = us-east-1
queue_url = http://127.0.0.1:9/123456789012/q
[daemon]
state_dir = %s/state
audit_log = %s/audit.jsonl
"""


def main():
    """unittest's main; exit 77 when some test lacked an external input
    (a skip whose reason starts with "missing: ") and none failed."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        sys.exit(1)
    if any(reason.startswith(MISSING) for _, reason in r.skipped):
        sys.exit(77)
    sys.exit(0)


def http_request(port, path, method="GET", host="127.0.0.1", body=None,
                 timeout=10):
    """(status, headers dict with lower-case names, body text)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read().decode("utf-8")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def run_cli(args, timeout=60, env=None):
    """The jvb-lifecycled binary with args; a CompletedProcess (text)."""
    return subprocess.run([daemon_binary()] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


# -- Prometheus text format, version 0.0.4 --------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_NAME_RE = re.compile(_NAME + r"$")
_SAMPLE_RE = re.compile(r"(" + _NAME + r")(\{(.*)\})? (\S+)( -?\d+)?$")
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(AssertionError):
    pass


def _labels(text, lineno):
    """'a="x",b="y\\"z"' -> {"a": "x", "b": 'y"z'}, strictly."""
    out = {}
    i = 0
    while i < len(text):
        m = re.compile(_LABEL).match(text, i)
        if m is None:
            raise PromError("line %d: bad label name at %r" % (lineno,
                                                              text[i:]))
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            raise PromError("line %d: expected =\" after %s" % (lineno,
                                                               name))
        i += 2
        val = []
        while True:
            if i >= len(text):
                raise PromError("line %d: unterminated label value"
                                % lineno)
            c = text[i]
            if c == "\\":
                nxt = text[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise PromError("line %d: bad escape \\%s" % (lineno,
                                                                  nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise PromError("line %d: newline in label value" % lineno)
            else:
                val.append(c)
                i += 1
        if name in out:
            raise PromError("line %d: label %s twice" % (lineno, name))
        out[name] = "".join(val)
        if i < len(text):
            if text[i] != ",":
                raise PromError("line %d: expected , between labels"
                                % lineno)
            i += 1
    return out


def _value(text, lineno):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise PromError("line %d: bad value %r" % (lineno, text))


def _family(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name


def parse_prometheus(text):
    """Parse and check an exposition; returns (samples, types) where
    samples maps (name, frozenset(labels.items())) -> float.

    Checked: the text ends with a newline; HELP/TYPE syntax, at most one
    of each per family and TYPE before its samples; known types; names and
    labels; a family's samples contiguous; no duplicate series; counters
    and histogram parts non-negative; histograms with increasing le,
    cumulative buckets, a +Inf bucket equal to _count, and a _sum."""
    if not text.endswith("\n"):
        raise PromError("the exposition does not end with a newline")
    samples, types, helps = {}, {}, {}
    seen_families, current = [], None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not _NAME_RE.match(parts[2]):
                    raise PromError("line %d: bad %s line" % (lineno,
                                                             parts[1]))
                name = parts[2]
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    if name in helps:
                        raise PromError("line %d: second HELP for %s"
                                        % (lineno, name))
                    if re.fullmatch(r"(?:[^\\]|\\[\\n])*", rest) is None:
                        raise PromError("line %d: bad escape in HELP"
                                        % lineno)
                    helps[name] = rest
                else:
                    if name in types:
                        raise PromError("line %d: second TYPE for %s"
                                        % (lineno, name))
                    if rest not in _TYPES:
                        raise PromError("line %d: unknown type %r"
                                        % (lineno, rest))
                    if any(k[0] == name or _family(k[0], {name: rest})
                           == name for k in samples):
                        raise PromError("line %d: TYPE for %s after its "
                                        "samples" % (lineno, name))
                    types[name] = rest
            continue
        m = _SAMPLE_RE.match(line)
        if m is None:
            raise PromError("line %d: not a sample: %r" % (lineno, line))
        name, labels = m.group(1), _labels(m.group(3) or "", lineno)
        value = _value(m.group(4), lineno)
        fam = _family(name, types)
        if fam != current:
            if fam in seen_families:
                raise PromError("line %d: samples of %s not contiguous"
                                % (lineno, fam))
            seen_families.append(fam)
            current = fam
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise PromError("line %d: duplicate series %s%s" % (
                lineno, name, labels))
        t = types.get(fam, "untyped")
        if t == "counter" and not value >= 0:
            raise PromError("line %d: counter %s is %r" % (lineno, name,
                                                           value))
        if t == "histogram":
            if name == fam + "_bucket" and "le" not in labels:
                raise PromError("line %d: bucket without le" % lineno)
            if name == fam:
                raise PromError("line %d: histogram sample without "
                                "suffix" % lineno)
        samples[key] = value
    _check_histograms(samples, types)
    return samples, types


def _check_histograms(samples, types):
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for (name, labels), v in samples.items():
            if name != fam + "_bucket":
                continue
            d = dict(labels)
            le = d.pop("le")
            groups.setdefault(frozenset(d.items()), []).append(
                (_value(le, 0), v))
        if not groups:
            raise PromError("histogram %s has no bucket" % fam)
        for other, buckets in groups.items():
            buckets.sort()
            if buckets[-1][0] != math.inf:
                raise PromError("histogram %s has no +Inf bucket" % fam)
            counts = [c for _, c in buckets]
            if counts != sorted(counts):
                raise PromError("histogram %s buckets not cumulative: %s"
                                % (fam, buckets))
            count = samples.get((fam + "_count", other))
            if count is None or (fam + "_sum", other) not in samples:
                raise PromError("histogram %s lacks _count or _sum" % fam)
            if count != counts[-1]:
                raise PromError("histogram %s: _count %s != +Inf bucket %s"
                                % (fam, count, counts[-1]))


def sample(samples, name, **labels):
    """The value of one series (KeyError naming it if absent)."""
    key = (name, frozenset(labels.items()))
    if key not in samples:
        raise KeyError("no series %s%s; have: %s" % (
            name, labels, sorted(n for n, _ in samples if
                                 n.startswith(name[:20]))))
    return samples[key]


def series(samples, name):
    """Every series of a name: [(labels dict, value)]."""
    return [(dict(l), v) for (n, l), v in samples.items() if n == name]
