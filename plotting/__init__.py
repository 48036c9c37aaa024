"""Figures for the root scripts, drawn with matplotlib (kept out of lib/, which is NumPy and SciPy only)."""
