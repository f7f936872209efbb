"""Test harness for jvb-lifecycled: real servers on loopback.

- net.py: a 127.0.N.0/24 per test process (allocate, free_port)
- awsemu.py: moto with SigV4 enforced plus the lifecycle-hook simulator
  (aws_lifecycle.py), notification bodies (aws_events.py) and protocol-shaped
  errors (aws_errors.py)

Tests put the tests/ directory on sys.path and import harness.<module>.
"""
