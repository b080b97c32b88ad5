"""Benchmarks: timings live here, not in the test suite."""
