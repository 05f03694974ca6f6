"""Benchmarks of the hub (speed and memory are measured here, never asserted in tests)."""
