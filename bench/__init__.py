"""Reproducible benchmarks behind BENCHMARKS.md. `make bench` runs them all."""
