"""The damped Gauss-Newton step of Levenberg-Marquardt, in two equivalent forms.

With the residual vector r (N rows), its Jacobian J (N x P) and the damping mu > 0, the step
h minimises ``||r + J h||^2 + mu ||h||^2`` (Levenberg 1944; Marquardt 1963):

    dense  (P x P):  (J^T J + mu I) h = -J^T r
    kernel (N x N):  h = -J^T (J J^T + mu I)^{-1} r

They are the same vector, by the push-through identity
``(J^T J + mu I)^{-1} J^T = J^T (J J^T + mu I)^{-1}``; the kernel form is the cheaper one
when there are fewer rows than parameters (N < P). Both factor a symmetric positive
definite matrix by Cholesky. The damping is ``mu I`` (Levenberg's), not Marquardt's
``mu diag(J^T J)``: only the identity keeps the push-through identity, so the two solvers
agree exactly, and a parameter whose column of J vanishes (a dead tanh unit) still gets a
regular system.

The model's predicted decrease of ``||r||^2`` along h, used by the gain ratio, is

    ||r||^2 - ||r + J h||^2 = h^T (mu h - g),   g = J^T r,

positive for every h != 0 (Madsen, Nielsen & Tingleff 2004, eq. 3.14 with their F = ||r||^2 / 2).

Example:
    >>> import jax.numpy as jnp
    >>> J = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]); r = jnp.array([1.0, -1.0, 0.5])
    >>> dense, kernel = DenseSolver.prepare(J, r), KernelSolver.prepare(J, r)
    >>> bool(jnp.allclose(dense.step(0.1), kernel.step(0.1), atol=1e-6))
    True
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve


class DenseSolver(NamedTuple):
    """``J^T J`` (P x P) and ``g = J^T r``, formed once per Jacobian; ``step(mu)`` for any damping."""

    gram: jax.Array
    g: jax.Array

    @classmethod
    def prepare(cls, J: jax.Array, r: jax.Array) -> DenseSolver:
        return cls(J.T @ J, J.T @ r)

    def step(self, mu: jax.Array) -> jax.Array:
        """``h = -(J^T J + mu I)^{-1} g``."""
        system = self.gram + mu * jnp.eye(self.gram.shape[0], dtype=self.gram.dtype)
        return -cho_solve(cho_factor(system, lower=True), self.g)


class KernelSolver(NamedTuple):
    """``J J^T`` (N x N), J, r and ``g = J^T r``; ``step(mu)`` for any damping."""

    kernel: jax.Array
    J: jax.Array
    r: jax.Array
    g: jax.Array

    @classmethod
    def prepare(cls, J: jax.Array, r: jax.Array) -> KernelSolver:
        return cls(J @ J.T, J, r, J.T @ r)

    def step(self, mu: jax.Array) -> jax.Array:
        """``h = -J^T (J J^T + mu I)^{-1} r``."""
        system = self.kernel + mu * jnp.eye(self.kernel.shape[0], dtype=self.kernel.dtype)
        return -(self.J.T @ cho_solve(cho_factor(system, lower=True), self.r))


SOLVERS = {"dense": DenseSolver, "kernel": KernelSolver}


def choose_solver(name: str, n_rows: int, n_params: int) -> str:
    """``"dense"`` or ``"kernel"``; ``"auto"`` picks the smaller system (kernel when N < P)."""
    if name == "auto":
        return "kernel" if n_rows < n_params else "dense"
    if name not in SOLVERS:
        raise ValueError(f"solver must be 'dense', 'kernel' or 'auto', got {name!r}")
    return name


def predicted_decrease(h: jax.Array, g: jax.Array, mu: jax.Array) -> jax.Array:
    """``||r||^2 - ||r + J h||^2 = h^T (mu h - g)`` for the step h of damping mu."""
    return h @ (mu * h - g)
