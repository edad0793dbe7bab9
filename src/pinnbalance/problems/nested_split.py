"""Boundary points shared out as DeepXDE's nested CSG differences share them (PINNacle's Poisson 2d-C).

PINNacle builds its holed square by nesting DeepXDE differences, ``((((S - D1) - D2) - D3) - D4)``,
and DeepXDE draws ``n`` boundary points of ``A - B`` by drawing ``n`` on A's boundary (keeping those
outside B), ``n`` on B's boundary (keeping those inside A), shuffling the union and keeping the first
``n``. When every drawn point is kept (holes inside the outer shape and apart from each other), each
level keeps half of each side on average (a hypergeometric count of mean ``n / 2``), so with ``K``
holes the outer shape gets ``2^-K`` of the points and hole ``k`` (in the order they are removed)

    share_k = 2^-(K - k + 1),      e.g. K = 4:  S 1/16,  D1 1/16,  D2 1/8,  D3 1/4,  D4 1/2,

far from proportional to length (the square's perimeter 4 against the circles' 0.8 pi here). Among the
holes alone the weights are ``1 : 2 : ... : 2^(K-1)`` (``nested_difference_weights``).

Here the counts are fixed, not drawn: ``split_counts`` gives each hole the expected count, rounded
cumulatively (the first ``c_1 + ... + c_k = floor(n W_k / W + 1/2)`` points, ``W_k`` the running sum
of the weights, ``W`` their total), so the counts sum to ``n``, each is within 1 of ``n w_k / W``
and exact when ``n w_k / W`` is an integer (``n = 480``: 32, 64, 128, 256). Shapes are then static
and ``circles_sampler`` jits.

Example:
    >>> import jax
    >>> split_counts(480, nested_difference_weights(4))
    (32, 64, 128, 256)
    >>> sample = circles_sampler(((0.3, 0.3), (-0.3, 0.3)), 0.1, (1, 2))
    >>> sample(jax.random.PRNGKey(0), 6).shape  # (x, y, n_x, n_y): 2 rows on the first circle, 4 on the second
    (6, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.problems.domain import Sampler

__all__ = ["circles_sampler", "nested_difference_shares", "nested_difference_weights", "split_counts"]


def nested_difference_weights(holes: int) -> tuple[int, ...]:
    """``(1, 2, 4, ..., 2^(holes-1))``: the holes' relative shares of the boundary points of
    ``(((S - D1) - D2) ...) - D_holes`` under DeepXDE's sampling, in the order they are removed."""
    if not isinstance(holes, int) or holes < 1:
        raise ValueError(f"holes must be a positive integer (the number of nested differences), got {holes!r}")
    return tuple(2**k for k in range(holes))


def nested_difference_shares(holes: int) -> tuple[Fraction, ...]:
    """``(outer, hole_1, ..., hole_K)``: each piece's share of all the boundary points,
    ``(2^-K, 2^-K, 2^-(K-1), ..., 1/2)``, exact fractions that sum to 1."""
    weights = nested_difference_weights(holes)
    return (Fraction(1, 2**holes),) + tuple(Fraction(w, 2**holes) for w in weights)


def split_counts(n: int, weights: Sequence[int]) -> tuple[int, ...]:
    """``n`` points shared out in proportion to the positive integer ``weights``, rounded cumulatively:
    ``c_1 + ... + c_k = floor(n W_k / W + 1/2)`` (integer arithmetic, no float ties)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer (a batch size), got {n!r}")
    if not weights or any(not isinstance(w, int) or w <= 0 for w in weights):
        raise ValueError(f"weights must be positive integers (relative shares), got {tuple(weights)!r}")
    total, running, cuts = sum(weights), 0, [0]
    for w in weights:
        running += w
        cuts.append((2 * n * running + total) // (2 * total))
    return tuple(b - a for a, b in zip(cuts, cuts[1:]))


def circles_sampler(centres: Sequence[Sequence[float]], radius: float, weights: Sequence[int]) -> Sampler:
    """``sample(key, n, dtype) -> (n, 4)``: rows ``(x, y, n_x, n_y)`` on the circles of ``radius``
    around ``centres``, ``split_counts(n, weights)`` of them on each circle (in that order), uniform in
    angle, with the unit normal ``-(z - c) / r`` pointing into the circle: the outward normal of a
    domain from which the disks are removed (as ``geometry.boundary_sampler`` gives on holes)."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) != len(weights):
        raise ValueError(
            f"centres must be one (x, y) pair per weight ({len(weights)} weights), got shape {centres.shape}; "
            "give as many centres as weights"
        )
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}")
    split_counts(0, weights)  # validate the weights now, not at the first draw

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        which = np.repeat(np.arange(len(centres)), split_counts(n, weights))  # static: n is a Python int
        theta = 2 * jnp.pi * jax.random.uniform(key, (n,), dtype)
        ray = jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=-1)
        points = jnp.asarray(centres[which], dtype) + radius * ray
        return jnp.concatenate([points, -ray], axis=-1).astype(dtype)

    return sample
