"""PINNacle's Poisson 2d-C: Laplace's equation on a square with four round holes.

Domain: ``[-0.5, 0.5]^2`` minus the disks of radius 0.1 centred at ``(+-0.3, +-0.3)``
(``pinnbalance.geometry``: a box minus four disks). Hao et al. 2024 (arXiv 2306.08827):

    u_xx + u_yy = 0,     u = 1 on the outer square,     u = 0 on the four circles.

Terms, one per equation and condition as PINNacle (DeepXDE) splits the loss:

- ``res``: ``u_xx + u_yy`` at interior points (uniform in the holed square, by rejection);
- ``outer``: ``u - 1`` on the square's four sides (uniform in length);
- ``holes``: ``u`` on the four circles (uniform in length).

``boundary_split`` sets how the ``holes`` points are shared among the circles: ``"length"``
(default) uniform over the four circles' total length; ``"pinnacle"`` as PINNacle's nested DeepXDE
differences share them, 1 : 2 : 4 : 8 over the circles in ``CENTRES``' order (fixed counts,
``problems.nested_split``; the batch sizes, e.g. outer 32 and holes 480 of 512, are the config's).

Boundary rows carry the point and its OUTWARD unit normal (``geometry.split_normal``): on the
sides the axis normals, on the circles the normal pointing out of the domain, into the hole.
Reference: PINNacle's finite-element solution at its 1,246 nodes (``poisson1_cg_data.dat``).
Published L2RE (mean of 3 runs, 5 x 100 tanh, Adam 1e-3, 20,000 steps): ``PUBLISHED``.
"""

from __future__ import annotations

import functools

import numpy as np

from pinnbalance.data import pinnacle_file
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.geometry import Box, Disk, boundary_sampler, interior_sampler, split_normal
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.nested_split import circles_sampler, nested_difference_weights
from pinnbalance.problems.observations import load_observations

FILE = "poisson1_cg_data.dat"
CENTRES = ((0.3, 0.3), (-0.3, 0.3), (0.3, -0.3), (-0.3, -0.3))
RADIUS = 0.1
BOUNDARY_SPLITS = ("length", "pinnacle")

# PINNacle's main table (arXiv v2), L2RE, mean of 3 runs; "NTK": PINNacle's NTK surrogate.
PUBLISHED = {"PINN": 6.94e-1, "PINN-w": 3.49e-2, "LRA": 1.17e-1, "NTK": 1.23e-2, "best": {"method": "NTK", "l2re": 1.23e-2}}


def holed_square():
    """The square ``[-0.5, 0.5]^2`` (boundary piece ``outer``) minus the four disks (piece ``holes``)."""
    domain = Box((-0.5, -0.5), (0.5, 0.5), ("x", "y")).named("outer")
    for centre in CENTRES:
        domain = domain - Disk(centre, RADIUS, ("x", "y")).named("holes")
    return domain


@functools.lru_cache(maxsize=1)
def file_reference() -> tuple[np.ndarray, np.ndarray]:
    """PINNacle's reference ``(points (1246, 2), values (1246,))``."""
    obs = load_observations(pinnacle_file(FILE), coords=(0, 1), values=2)
    return obs.points, obs.values[:, 0]


def res(u, z):
    _, _, second = axis_derivatives(u, z)
    return second[0] + second[1]


def outer(u, row):
    z, _ = split_normal(row)
    return u(z) - 1.0


def holes(u, row):
    z, _ = split_normal(row)
    return u(z)


def poisson_2d_holes(batch_size: int = 128, boundary_split: str = "length") -> Problem:
    """Poisson 2d-C with PINNacle's terms (``res``, ``outer``, ``holes``) and reference nodes;
    ``boundary_split`` (``BOUNDARY_SPLITS``): the ``holes`` points uniform in length or as PINNacle's.

    Example:
        >>> problem = poisson_2d_holes()
        >>> problem.term_names, problem.domain.pieces(), problem.reference_data[0].shape
        (('res', 'outer', 'holes'), ('outer', 'holes'), (1246, 2))
    """
    domain = holed_square()
    terms = {
        "res": Term(res, interior_sampler(domain), batch_size, "u_xx + u_yy at interior points"),
        "outer": Term(outer, boundary_sampler(domain, "outer"), batch_size, "u - 1 on the outer square"),
        "holes": Term(holes, _holes_sampler(domain, boundary_split), batch_size, "u on the four circles"),
    }
    return Problem(
        name="poisson-2d-holes",
        domain=domain,
        terms=terms,
        components=("u",),
        description=__doc__.splitlines()[0],
        reference_data=file_reference(),
    )


def _holes_sampler(domain, boundary_split: str):
    """The ``holes`` term's sampler for ``boundary_split`` (``BOUNDARY_SPLITS``)."""
    if boundary_split == "length":
        return boundary_sampler(domain, "holes")
    if boundary_split == "pinnacle":  # DeepXDE's nested differences: circle k of 4 gets 2^(k-1) / 15 of the points
        return circles_sampler(CENTRES, RADIUS, nested_difference_weights(len(CENTRES)))
    raise ValueError(
        f'boundary_split must be one of {BOUNDARY_SPLITS}, got {boundary_split!r}: "length" (uniform over the circles\' '
        'length) or "pinnacle" (PINNacle\'s nested-difference shares 1 : 2 : 4 : 8)'
    )
