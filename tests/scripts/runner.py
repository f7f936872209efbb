"""unittest's main, with meson's exit codes: 0 all passed, 1 a failure,
77 (skipped) when every test that ran passed but some could not run because
a tool or input was missing on this machine (a skip whose reason starts
with "missing:"), so that a partial run is never counted as a pass.  Other
skips (placeholders such as "needs the scale-in path") are reported by
unittest as skipped and leave the exit code alone."""

import sys
import unittest

MISSING = "missing: "


def main():
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    if not r.wasSuccessful():
        sys.exit(1)
    missing = [reason for _, reason in r.skipped
               if reason.startswith(MISSING)]
    if missing:
        print("skipped for lack of: %s"
              % ", ".join(sorted(set(m[len(MISSING):] for m in missing))),
              file=sys.stderr)
        sys.exit(77)
    sys.exit(0)
