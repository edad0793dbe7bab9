"""Declarative PDE problems: a domain, NAMED loss terms and an optional exact solution.

A term is a pointwise residual plus where its points come from. Its loss is the mean over
the batch of the squared residual summed over components,

    L_term = (1/n) sum_j sum_c r_c(p_j)^2,

so a term that groups pieces (u and u_t at t = 0; the sides x = 0 and x = 1) gets one
weight and its loss is the sum of the pieces' mean squares. The term names are the keys
of the loss weights everywhere downstream.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from pinnbalance.derivatives import Field
from pinnbalance.problems.domain import Box, Sampler

# residual(u, point) -> residual vector (or scalar) at one point; u is the network field.
Residual = Callable[[Field, jax.Array], jax.Array]


@dataclass(frozen=True)
class Term:
    """One named loss term: a pointwise ``residual`` evaluated on points drawn by ``sampler``."""

    residual: Residual
    sampler: Sampler
    batch_size: int = 128
    description: str = ""


@dataclass(frozen=True)
class Problem:
    """A PDE problem: domain, named terms, optional exact solution and its reference term.

    ``reference`` names the term whose weight stays 1 and against which adaptive schemes
    balance the others (the PDE residual).

    Accuracy is measured on a quantity ``q(u, z)`` of the network field (``quantity``;
    default: the network output itself, ``u(z)``) against either ``exact(z)`` on a grid
    of the domain, or ``reference_data = (points, values)`` (e.g. a numerical reference
    solution loaded with ``problems.reference.load_reference``): one of the two is needed
    for an error to be reported. For the lid-driven cavity the network outputs the
    stream function and pressure, and ``quantity`` is the velocity magnitude.
    """

    name: str
    domain: Box
    terms: Mapping[str, Term]
    exact: Callable[[jax.Array], jax.Array] | None = None
    reference: str = "res"
    parameters: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    quantity: Callable[[Field, jax.Array], jax.Array] | None = None
    outputs: int = 1  # network outputs the residuals expect (e.g. 2: stream function and pressure)
    reference_data: tuple[jax.Array, jax.Array] | None = None

    def __post_init__(self):
        if not self.terms:
            raise ValueError(f"problem {self.name!r} has no loss terms")
        check_names(self.reference, self.terms, what="reference term")
        if self.reference_data is not None:
            points, values = self.reference_data
            if points.ndim != 2 or points.shape[1] != self.domain.dim:
                raise ValueError(
                    f"problem {self.name!r}: reference_data points must have shape (n, {self.domain.dim}) "
                    f"(one column per coordinate {list(self.domain.names)}), got {tuple(points.shape)}"
                )
            if values.shape[0] != points.shape[0]:
                raise ValueError(
                    f"problem {self.name!r}: reference_data has {points.shape[0]} points but {values.shape[0]} values; "
                    "give one value (row) per point"
                )

    @property
    def term_names(self) -> tuple[str, ...]:
        return tuple(self.terms)

    def with_batch_sizes(self, sizes: int | Mapping[str, int]) -> Problem:
        """A copy whose terms draw ``sizes`` points a step (one int for all, or per name)."""
        if isinstance(sizes, int):
            sizes = {name: sizes for name in self.terms}
        check_names(sizes, self.terms, what="batch size")
        for name, n in sizes.items():
            if int(n) < 1:
                raise ValueError(f"batch size for term {name!r} must be a positive integer, got {n}")
        terms = {
            name: Term(t.residual, t.sampler, int(sizes.get(name, t.batch_size)), t.description) for name, t in self.terms.items()
        }
        return dataclasses.replace(self, terms=terms)


def check_names(names, terms: Mapping[str, object] | tuple[str, ...], what: str = "weight") -> None:
    """Raise a ``KeyError`` naming the valid terms if any of ``names`` is not one of them."""
    valid = list(terms)
    names = [names] if isinstance(names, str) else list(names)
    bad = [n for n in names if n not in valid]
    if bad:
        raise KeyError(f"unknown {what} name(s) {bad}; valid term names are {valid}")


def sample_batch(problem: Problem, key: jax.Array, dtype=jnp.float32) -> dict[str, jax.Array]:
    """Fresh points for every term, each term from its own sub-key."""
    keys = jax.random.split(key, len(problem.terms))
    return {name: term.sampler(k, term.batch_size, dtype) for (name, term), k in zip(problem.terms.items(), keys)}


def term_residuals(term: Term, u: Field, points: jax.Array) -> jax.Array:
    """One term's residuals at its points, as ``(n, components)``."""
    r = jax.vmap(lambda p: term.residual(u, p))(points)
    return r.reshape(r.shape[0], -1)


def residuals(problem: Problem, u: Field, batch: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """Each term's residuals at its points: ``{name: (n, components)}``."""
    return {name: term_residuals(term, u, batch[name]) for name, term in problem.terms.items()}
