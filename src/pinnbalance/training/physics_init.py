"""PirateNet's physics-informed initialisation in the trainer: the output layer fitted by least squares.

Wang, Li, Chen & Perdikaris (PirateNets, JMLR 2024, section 3.2): at initialisation every
gate is zero, so the network is linear in its embedding, ``u = Phi(X) W_out + b_out``; the
output weight is set to the least-squares fit of known data, ``W_out = argmin ||Phi(X) W - Y||``
(``nn.piratenet.least_squares_init``), so training starts from a network that already
matches the initial (or boundary) condition.

The data, stated once: ``points`` points drawn from each of ``terms`` by the term's own
sampler (default: every term except the problem's reference term, i.e. its initial and
boundary terms; a stacked term's pieces all count; of a row that holds more than a point,
a boundary point's normal or a data term's observed values, its first ``d`` entries), and as
values the problem's exact solution there, ``Y = exact(X)``. An inverse problem's unknowns
(``nn.with_unknowns``) keep their initial values: only u's output layer is fitted. A problem without an exact solution (e.g. the cavity,
which has reference data only) is refused: its terms' targets are not values of u
everywhere (a velocity term holds derivatives). The draw comes from the run's seed
(the initialisation key, folded), so vmapped seeds each get their own.

Example:
    >>> import jax
    >>> from pinnbalance.nn import piratenet_for
    >>> from pinnbalance.problems import klein_gordon
    >>> problem = klein_gordon()
    >>> net = piratenet_for(problem.domain, (16, 16), features=16)
    >>> init = LeastSquaresInit(terms=("ics",), points=64)
    >>> points, values = init.data(problem, jax.random.key(0))
    >>> points.shape, values.shape
    ((64, 2), (64,))
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.nn.hard import HardConstrained
from pinnbalance.nn.piratenet import PirateNet, least_squares_init
from pinnbalance.nn.with_unknowns import solution_network, solution_params, with_solution_params

STREAM = 19  # folded into the initialisation key for the data draw


@dataclass(frozen=True)
class LeastSquaresInit:
    """Fit PirateNet's output layer to the exact solution at ``points`` points of each of ``terms``
    (None: every term but the reference) after the random initialisation (module doc)."""

    terms: tuple[str, ...] | None = None
    points: int = 1024

    def __post_init__(self):
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
            raise ValueError(f"points (drawn per term for the least-squares fit) must be a positive integer, got {self.points!r}")
        if self.terms is not None and (not self.terms or not all(isinstance(t, str) for t in self.terms)):
            raise ValueError(f"terms must name at least one term of the problem, e.g. ('ics',), got {self.terms!r}")

    def term_names(self, problem) -> tuple[str, ...]:
        """The terms whose points are fitted (checked against the problem's, or its declaration's:
        ``problems.declared``); a ``ValueError`` if the problem has no exact solution to fit."""
        from pinnbalance.problems.base import check_names

        if not problem.exact:  # None (a Problem) or False (a declaration)
            raise ValueError(
                "least-squares initialisation fits the exact solution at the initial and boundary points, and this problem "
                'has none; use init = "random" (the default) for it'
            )
        names = tuple(n for n in problem.term_names if n != problem.reference) if self.terms is None else self.terms
        check_names(names, tuple(problem.term_names), what="least-squares initialisation term")
        return names

    def data(self, problem, key: jax.Array, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
        """``(X, Y)``: the points of the fitted terms, ``(n, d)``, and ``exact`` there, ``(n,)`` or ``(n, outputs)``."""
        names = self.term_names(problem)  # refuses a problem without an exact solution
        keys = jax.random.split(key, len(names))
        drawn = [problem.terms[n].sampler(k, self.points, dtype) for n, k in zip(names, keys)]
        dim = problem.domain.dim  # a row may carry more than its point: a normal, a data term's observed values
        points = jnp.concatenate([x.reshape(-1, x.shape[-1])[:, :dim] for x in drawn])  # stacked pieces: all of them
        return points, jax.vmap(problem.exact)(points).astype(dtype)

    def apply(self, problem, network, params, key: jax.Array, dtype=jnp.float32):
        """``params`` with the output layer fitted (``least_squares_init``); a network other than
        PirateNet is refused (its output layer does not read a fixed embedding). A network that
        carries unknowns (``nn.with_unknowns``) has its solution network's output layer fitted and
        the unknowns' parameters kept as they are: the fit is of u alone, to the exact solution."""
        solution = solution_network(network)
        if isinstance(solution, HardConstrained):
            raise ValueError(
                "least-squares initialisation fits a PirateNet's output layer to the exact solution; under the problem's "
                'hard constraint the output is g + d N instead. Use init = "random" with a hard-constrained problem'
            )
        if not isinstance(solution, PirateNet):
            raise ValueError(
                f'least-squares initialisation applies to a PirateNet (network type "piratenet"), whose output is linear '
                f'in its embedding at initialisation; got {type(solution).__name__}. Use init = "random" for it'
            )
        points, values = self.data(problem, jax.random.fold_in(key, STREAM), dtype)
        fitted = least_squares_init(solution, solution_params(network, params), points, values)
        return with_solution_params(network, params, fitted)
