"""A small NumPy neural-network library for the backpropagation exercise.

Arrays are batch-first: an input of N samples with D features has shape (N, D).
"""
