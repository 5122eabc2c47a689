"""Test support shipped with the package: the store conformance suite, real
S3-compatible servers on loopback, and worker entry points for races."""
