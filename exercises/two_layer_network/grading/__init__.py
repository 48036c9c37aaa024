"""The grading data of the two-layer network exercise: its task registry and its value checks."""
