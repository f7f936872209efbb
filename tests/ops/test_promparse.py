"""The strict Prometheus text parser the admin tests rely on: it must
accept a well-formed exposition and refuse each kind of mistake, or the
/metrics checks would prove nothing."""

import math
import unittest

from ops import PromError, main, parse_prometheus, sample

GOOD = """# HELP a_total Things, with a \\\\ backslash
# TYPE a_total counter
a_total{kind="x"} 3
a_total{kind="y\\"z\\\\"} 0
# TYPE g gauge
g -1.5
# HELP h_seconds Durations
# TYPE h_seconds histogram
h_seconds_bucket{le="1"} 1
h_seconds_bucket{le="10"} 2
h_seconds_bucket{le="+Inf"} 3
h_seconds_sum 42.5
h_seconds_count 3
untyped_thing NaN
"""


class PromParse(unittest.TestCase):
    def test_good(self):
        samples, types = parse_prometheus(GOOD)
        self.assertEqual(types, {"a_total": "counter", "g": "gauge",
                                 "h_seconds": "histogram"})
        self.assertEqual(sample(samples, "a_total", kind='y"z\\'), 0)
        self.assertEqual(sample(samples, "g"), -1.5)
        self.assertEqual(sample(samples, "h_seconds_bucket", le="+Inf"), 3)
        self.assertTrue(math.isnan(sample(samples, "untyped_thing")))

    def bad(self, text, why):
        with self.assertRaises(PromError, msg=why):
            parse_prometheus(text)

    def test_refused(self):
        self.bad(GOOD[:-1], "no final newline")
        self.bad("# TYPE a counter\n# TYPE a counter\na 1\n", "TYPE twice")
        self.bad("# HELP a x\n# HELP a y\na 1\n", "HELP twice")
        self.bad("# HELP a x\\q\na 1\n", "bad escape in HELP")
        self.bad("a 1\n# TYPE a counter\n", "TYPE after samples")
        self.bad("# TYPE a countr\na 1\n", "unknown type")
        self.bad("# TYPE a counter\na -1\n", "negative counter")
        self.bad("a 1\nb 1\na{x=\"1\"} 2\n", "not contiguous")
        self.bad("a 1\na 2\n", "duplicate series")
        self.bad("a{x=\"1\",x=\"2\"} 1\n", "label twice")
        self.bad("a{x=\"\\q\"} 1\n", "bad escape")
        self.bad("a{x=1} 1\n", "unquoted label value")
        self.bad("a{x=\"1\"\n", "unterminated")
        self.bad("1a 1\n", "bad name")
        self.bad("a one\n", "bad value")
        self.bad("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\n"
                 "h_count 1\n", "no +Inf bucket")
        self.bad("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                 "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
                 "not cumulative")
        self.bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
                 "h_count 1\n", "count differs")
        self.bad("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n"
                 "h_count 1\n", "no sum")


if __name__ == "__main__":
    main()
