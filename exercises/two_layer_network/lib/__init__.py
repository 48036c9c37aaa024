"""The library of the two-layer network exercise: a 2-3-1 ReLU network, its gradient, and two optimisers."""
