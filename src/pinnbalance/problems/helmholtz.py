"""Two-dimensional Helmholtz equation on [-1, 1]^2 (Wang, Teng & Perdikaris 2021, section 2.1).

    u_xx + u_yy + lam u = q(x, y),   (x, y) in [-1, 1]^2,   u = u_exact on the boundary,

with the exact solution ``u = sin(a1 pi x) sin(a2 pi y)`` (or another one given as ``exact=``);
the forcing q is derived from it by automatic differentiation (closed form: ``q = (lam - (a1 pi)^2 - (a2 pi)^2) u``), so
changing a1, a2 or lam keeps the problem consistent. Terms (each one weight):

- ``res``: the PDE residual ``u_xx + u_yy + lam u - q`` at interior points;
- ``bcs``: ``u - u_exact`` on the four sides y = -1, x = 1, y = 1, x = -1 (in that order, the
  published code's bc1..bc4), each side with its own batch; the loss is the sum of the four
  sides' mean squares, as the published ``loss_bc1 + ... + loss_bc4``.

Published set-up (paper and its code, github.com/PredictiveIntelligenceLab/
GradientPathologiesPINNs, ``Helmholtz/Helmholtz2D*.py``): a1 = 1, a2 = 4, lam = 1; 40,001
Adam steps, learning rate 1e-3 decayed as ``1e-3 * 0.9 ** (step / 1000)`` (TensorFlow
``exponential_decay(1e-3, step, 1000, 0.9, staircase=False)``); every step a fresh batch of
128 uniform points for the residual and 128 for EACH of the four sides; inputs standardised
with the mean and std of 100,000 uniform draws; Glorot-normal weights, zero biases. M2/M4
update the boundary weight every 10 steps, ``w_b <- 0.9 w_b + 0.1 max|grad L_r| /
mean|grad(w_b L_b)|`` (statistics over the MLP's weight matrices; not biases, not the
modified MLP's two encoder matrices). The script's default network is
[2, 50, 50, 50, 1]; the figures below are the paper's for [2, 50, 50, 50, 50, 50, 1] tanh
networks (mean relative L2 error of 10 independent runs, as tabulated):

    M1 (standard PINN)                      1.40e-1
    M2 (learning-rate annealing)            7.43e-3
    M3 (modified MLP)                       1.97e-2
    M4 (modified MLP + annealing)           2.54e-3

Reference: S. Wang, Y. Teng, P. Perdikaris, "Understanding and mitigating gradient flow
pathologies in physics-informed neural networks", SIAM J. Sci. Comput. 43(5) (2021) A3055-A3081.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.derivatives import axis_derivatives
from pinnbalance.problems import manufactured
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, stacked, uniform
from pinnbalance.problems.manufactured import Solution

X, Y = 0, 1


def exact_solution(z: jax.Array, a1: float = 1.0, a2: float = 4.0) -> jax.Array:
    """``u(x, y) = sin(a1 pi x) sin(a2 pi y)`` at one point ``z = (x, y)``."""
    return jnp.sin(a1 * jnp.pi * z[X]) * jnp.sin(a2 * jnp.pi * z[Y])


def helmholtz(
    a1: float = 1.0, a2: float = 4.0, lam: float = 1.0, batch_size: int = 128, *, exact: Solution | None = None
) -> Problem:
    """The Helmholtz problem of the gradient-pathologies paper (defaults as published).

    ``batch_size`` points a step for the residual and for each of the four sides.
    ``exact``: another manufactured solution ``u(z)`` at one point ``z = (x, y)`` in place of
    ``sin(a1 pi x) sin(a2 pi y)`` (then a1 and a2 are unused and must stay at their
    defaults); the forcing q and the boundary values are derived from it.

    Example:
        >>> problem = helmholtz()
        >>> problem.term_names
        ('res', 'bcs')
        >>> other = helmholtz(exact=lambda z: z[0] ** 2 * z[1])  # q = 2 y + lam x^2 y
    """
    domain = Box(lower=(-1.0, -1.0), upper=(1.0, 1.0), names=("x", "y"))
    exact, parameters = manufactured.choose_solution(
        "helmholtz",
        exact,
        lambda z: exact_solution(z, a1, a2),
        {"a1": a1, "a2": a2, "lam": lam},
        shaping={"a1": 1.0, "a2": 4.0},
        role="shape the default solution sin(a1 pi x) sin(a2 pi y)",
    )

    def operator(u, z):
        """``u_xx + u_yy + lam u`` at z."""
        value, _, second = axis_derivatives(u, z)  # one sweep: u, grad u, (u_xx, u_yy)
        return second[X] + second[Y] + lam * value

    sides = [
        uniform(domain, {"y": -1.0}),
        uniform(domain, {"x": 1.0}),
        uniform(domain, {"y": 1.0}),
        uniform(domain, {"x": -1.0}),
    ]
    terms = {
        "res": Term(
            manufactured.forced_residual(operator, exact), uniform(domain), batch_size, "PDE residual at interior points"
        ),
        "bcs": Term(
            manufactured.dirichlet_residual(exact),
            stacked(sides),
            batch_size,
            "u - u_exact on y = -1, x = 1, y = 1, x = -1 (one batch each)",
        ),
    }
    return manufactured.packaged_problem("helmholtz", __doc__, domain, terms, exact=exact, parameters=parameters)


def forcing_closed_form(z: jax.Array, a1: float = 1.0, a2: float = 4.0, lam: float = 1.0) -> jax.Array:
    """The forcing written out by hand, for tests: u_xx = -(a1 pi)^2 u, u_yy = -(a2 pi)^2 u."""
    return (lam - (a1 * jnp.pi) ** 2 - (a2 * jnp.pi) ** 2) * exact_solution(z, a1, a2)


# Published mean relative L2 errors (Wang, Teng & Perdikaris 2021, Helmholtz, a1 = 1, a2 = 4,
# [2, 50, 50, 50, 50, 50, 1] tanh, mean of 10 runs, as tabulated).
PUBLISHED = {"M1": 1.40e-1, "M2": 7.43e-3, "M3": 1.97e-2, "M4": 2.54e-3}
