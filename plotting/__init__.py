"""Figures for the root scripts, drawn with matplotlib (kept out of lib/, which is NumPy and SciPy only)."""


def use_backend(show: bool) -> None:
    """Draw off-screen unless a window was asked for, so a script never blocks and runs without a display."""
    import matplotlib
    if not show:
        matplotlib.use("Agg")
