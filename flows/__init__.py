"""flowdesk analytics and data sources.

Everything directly in ``flows`` is pure: DataFrames and arrays in, DataFrames out, with no
network, Redis, clock, config or screen.  Only :mod:`flows.sources` performs I/O.
"""
