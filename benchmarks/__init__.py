"""Benchmarks of the library against PyTorch and a bare-NumPy floor (instructor tooling, not for students)."""
