"""Benchmarks for ofsted-watch; run with `make bench`."""
