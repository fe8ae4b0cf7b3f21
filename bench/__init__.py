"""The benchmarks: ``audit.py`` (latency at scale) and ``registration`` (throughput against raw SQL).

A package so that both share one copy of what every benchmark needs (``bench.common``): see
bench/README.md for the commands.
"""
