"""Figures: moved to ``pinnbalance.report.figures``; this name stays for code that imports
``pinnbalance.plot`` (as docs/own-pde.md shows)."""

from pinnbalance.report.figures import fields, l2_error, losses, seed_spread, weights

__all__ = ["fields", "l2_error", "losses", "seed_spread", "weights"]
