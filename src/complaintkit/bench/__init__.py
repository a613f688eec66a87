"""Benchmarks behind ``complaintkit bench NAME``.

Every benchmark measures its baseline in the same run, prints a readable table, and ends with
one line of JSON holding its figures and ratios (see :func:`complaintkit.bench.report.emit`).
"""
