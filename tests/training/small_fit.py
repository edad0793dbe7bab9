"""A one-dimensional fit by a small network, shared by the phase tests (no derivatives in its
terms, so it compiles in seconds): u(x) ~ sin 3x + x/2 on [0, 1], and u = target + 0.05 near
x = 0, so the two terms disagree a little and the weights matter."""

import jax.numpy as jnp

from pinnbalance.problems import Box, Problem, Term, uniform


def target(z):
    return jnp.sin(3 * z[0]) + 0.5 * z[0]


def fit_problem():
    """u(x) ~ sin 3x + x/2 on [0, 1], and u = target + 0.05 near x = 0 (the terms disagree a little)."""
    box, near = Box((0.0,), (1.0,), ("x",)), Box((0.0,), (0.1,), ("x",))
    terms = {
        "res": Term(lambda u, z: u(z) - target(z), uniform(box), 16),
        "bcs": Term(lambda u, z: u(z) - target(z) - 0.05, uniform(near), 4),
    }
    return Problem("fit", box, terms, exact=target)
