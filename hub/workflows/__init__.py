"""Deterministic workflow code: no I/O, no clocks, no randomness, no plugins."""
