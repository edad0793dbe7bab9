"""Causal weighting of a time-dependent residual: later times count once earlier times are fitted.

S. Wang, S. Sankaran and P. Perdikaris, "Respecting causality for training physics-informed
neural networks", CMAME 421 (2024) 116813, arXiv:2203.07404. The residual points are split
by their time coordinate into M slices of equal width over ``[t0, t1]``; with L_i the mean
of the squared residuals in slice i,

    w_1 = 1,   w_i = exp(-eps sum_{k<i} L_k)   (i = 2 .. M),   w = stop_gradient(w)
    L_causal = (1/M) sum_i w_i L_i

so a slice's residual is weighted down until the slices before it are small: the network
is not asked to fit time t before it has fitted what leads up to t. The weights are
constants for differentiation (stop_gradient), so ``d L_causal / d L_i = w_i / M``.

Causality parameter eps: too small and the weights are all ~1 (no causality), too large
and later slices are never trained. The paper's schedule: a list of increasing values
(e.g. ``1e-2, 1e-1, 1, 10, 100``), moving to the next one when every weight exceeds
``delta`` (``min_i w_i > delta``, delta = 0.99), i.e. once the residual is small at all
times for the current eps. Here the values are ``(eps, *eps_schedule)``, and the last one is
kept once reached (the paper stops training there; stopping is the trainer's business).

Slicing: slice i (from 0) holds ``t0 + i dt <= t < t0 + (i + 1) dt``, ``dt = (t1 - t0) / M``;
the last slice also holds ``t = t1``, so both ends of ``[t0, t1]`` are included. The index is
``floor((t - t0) M / (t1 - t0))`` clipped to ``0 .. M-1``, so a point exactly on an interior
edge goes to the later slice (up to rounding), and points outside ``[t0, t1]`` (which a
sampler of the domain never draws) go to the nearest end slice. An empty slice has loss 0.
With every weight 1, ``L_causal`` is the mean of the slice means: the plain mean of the
residuals only if every slice holds as many points.

In training: ``causal_problem(problem, Causal(...))`` gives the problem whose residual term's
loss is the causal loss (``Term.reduce``, a ``CausalReduce``); every term-weighting scheme
then weights it as any term. The trainer finds the ``CausalReduce``, keeps the schedule's
position in the training state and computes each step's loss with the current eps
(``training.causal_schedule``: the schedule is checked at the recorded steps, and
``steps_per_eps`` also moves on after that many steps, the paper's N_iter). An L-BFGS phase
minimises the loss without causal weighting, and says so with a warning
(``training.causal_schedule.lbfgs_problem``); a Levenberg-Marquardt phase scales the causal
term's residual rows by ``sqrt(w_i)`` and goes on with the schedule (``lm.causal``). By
hand the schedule is::

    axis, t0, t1 = causal.bounds(problem.domain)
    loss_r, w = causal.loss(state, residuals ** 2, points[:, axis], t0=t0, t1=t1)
    state = causal.update(state, w)          # once per step (or per logged step)

Slicing the batch by its time coordinate works with any sampler; with a uniform random
batch the slices hold random numbers of points (about n / M each), where a fixed grid of
time slices would give equal counts.

Example:
    >>> import jax.numpy as jnp
    >>> w = causal_weights(jnp.array([0.5, 0.2, 0.1]), 2.0)  # exp(-2 * [0, 0.5, 0.7])
    >>> [round(float(v), 4) for v in w]
    [1.0, 0.3679, 0.2466]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from pinnbalance.weighting.interface import per_point


def slice_index(times: jax.Array, *, t0: float, t1: float, slices: int) -> jax.Array:
    """The slice (0 .. slices-1) of each time: ``floor((t - t0) slices / (t1 - t0))``, clipped (module doc).

    Example:
        >>> import jax.numpy as jnp
        >>> slice_index(jnp.array([0.0, 0.25, 0.3, 0.75, 1.0]), t0=0.0, t1=1.0, slices=4).tolist()
        [0, 1, 1, 3, 3]
    """
    scaled = (times - t0) * (slices / (t1 - t0))
    return jnp.clip(jnp.floor(scaled).astype(jnp.int32), 0, slices - 1)


def slice_losses(point_losses: jax.Array, times: jax.Array, *, t0: float, t1: float, slices: int) -> jax.Array:
    """``L_i``: the mean of ``point_losses`` (shape ``(n,)``, e.g. squared residuals) over each time slice.

    ``times`` has shape ``(n,)``; the result has shape ``(slices,)``, 0 for an empty slice.

    Example:
        >>> import jax.numpy as jnp
        >>> slice_losses(jnp.array([1.0, 3.0, 5.0]), jnp.array([0.1, 0.2, 0.9]), t0=0.0, t1=1.0, slices=2).tolist()
        [2.0, 5.0]
    """
    point_losses, times = jnp.asarray(point_losses), jnp.asarray(times)
    if point_losses.ndim != 1 or point_losses.shape != times.shape:
        raise ValueError(
            f"point_losses and times must be vectors of one entry per point, shape (n,); got {point_losses.shape} and "
            f"{times.shape}"
        )
    index = slice_index(times, t0=t0, t1=t1, slices=slices)
    sums = jax.ops.segment_sum(point_losses, index, num_segments=slices)
    counts = jax.ops.segment_sum(jnp.ones_like(point_losses), index, num_segments=slices)
    return sums / jnp.maximum(counts, 1)


def causal_weights(slice_losses: jax.Array, eps) -> jax.Array:
    """``w_i = exp(-eps sum_{k<i} L_k)`` (so ``w_1 = 1``), under ``stop_gradient``.

    ``eps`` may be a traced array (vmap over causality parameters).
    """
    # sum_{k<i} L_k as a shifted cumsum: cumsum(L) - L would lose the small sums to a large L_i
    earlier = jnp.concatenate([jnp.zeros_like(slice_losses[:1]), jnp.cumsum(slice_losses[:-1])])
    return jax.lax.stop_gradient(jnp.exp(-eps * earlier))


def causal_loss(
    point_losses: jax.Array, times: jax.Array, *, t0: float, t1: float, slices: int, eps
) -> tuple[jax.Array, jax.Array]:
    """``(L_causal, w)``: ``(1/M) sum_i w_i L_i`` over the time slices, and the weights (for the schedule, logs).

    Example:
        >>> import jax.numpy as jnp
        >>> loss, w = causal_loss(jnp.array([0.5, 0.2]), jnp.array([0.0, 1.0]), t0=0.0, t1=1.0, slices=2, eps=1.0)
        >>> round(float(loss), 6) == round((0.5 + float(jnp.exp(-0.5)) * 0.2) / 2, 6)
        True
    """
    losses = slice_losses(point_losses, times, t0=t0, t1=t1, slices=slices)
    weights = causal_weights(losses, eps)
    return jnp.mean(weights * losses), weights


def next_eps_index(index: jax.Array, weights: jax.Array, *, delta: float, count: int) -> jax.Array:
    """``index + 1`` if ``min_i w_i > delta`` and a later eps exists, else ``index`` (NaN weights: stay)."""
    move = (jnp.min(weights) > delta) & (index < count - 1)
    return jnp.where(move, index + 1, index).astype(index.dtype)


class CausalState(NamedTuple):
    """The position in the eps schedule: ``index`` into ``Causal.eps_values`` (an int32 array)."""

    index: jax.Array


@dataclass(frozen=True)
class Causal:
    """Causal weighting of the residual term over ``slices`` time slices, eps following a schedule.

    Fields: ``slices`` (M), ``eps`` (the first, or only, causality parameter),
    ``eps_schedule`` (the later values, increasing; empty: eps is constant), ``delta``
    (move on when every weight exceeds it), ``time`` (the name of the time coordinate in
    the problem's domain), ``steps_per_eps`` (the trainer also moves on after this many steps
    at one eps, the paper's N_iter; None: only when the weights allow), ``term`` (the term
    ``causal_problem`` makes causal; None: the problem's reference term). Defaults: M = 32 and
    eps = 1 (the published code's), delta = 0.99 (the paper's). ``eps`` may also be the whole
    list (``eps=(0.01, 0.1, 1.0)``, as a run configuration's ``[causal]`` gives it): its first
    value is then ``eps`` and the rest ``eps_schedule``.

    Example:
        >>> import jax.numpy as jnp
        >>> causal = Causal(slices=2, eps=0.1, eps_schedule=(1.0, 10.0))
        >>> state = causal.init()
        >>> state = causal.update(state, jnp.array([1.0, 0.995]))  # every w > 0.99: next eps
        >>> float(causal.current_eps(state))
        1.0
        >>> Causal(eps=[0.01, 0.1, 1.0]) == Causal(eps=0.01, eps_schedule=(0.1, 1.0))  # the whole list, as [causal] gives it
        True
    """

    slices: int = 32
    eps: float | tuple[float, ...] = 1.0  # a tuple: the whole list (eps, *eps_schedule), split on construction
    eps_schedule: tuple[float, ...] = ()
    delta: float = 0.99
    time: str = "t"
    steps_per_eps: int | None = None
    term: str | None = None

    def __post_init__(self):
        if isinstance(self.eps, (tuple, list)):  # the whole list: its first value, then the schedule
            if not self.eps or self.eps_schedule:
                raise ValueError(
                    "eps must list at least one causality parameter, e.g. [0.01, 0.1, 1.0, 10.0, 100.0], and then "
                    f"eps_schedule must be empty (the list holds the schedule); got eps={self.eps!r}, "
                    f"eps_schedule={self.eps_schedule!r}"
                )
            object.__setattr__(self, "eps_schedule", tuple(self.eps[1:]))
            object.__setattr__(self, "eps", self.eps[0])
        if isinstance(self.slices, bool) or not isinstance(self.slices, int) or self.slices < 1:
            raise ValueError(f"slices (M, the number of time slices) must be a positive integer, e.g. 32; got {self.slices!r}")
        values = self.eps_values
        if not all(v >= 0 for v in values):
            raise ValueError(f"eps and eps_schedule must be >= 0 (eps = 0 switches causality off); got {values}")
        if any(b <= a for a, b in zip(values[:-1], values[1:])):
            raise ValueError(
                f"eps then eps_schedule must increase strictly, e.g. eps=0.01, eps_schedule=(0.1, 1, 10, 100); got {values}"
            )
        if not 0.0 < self.delta < 1.0:
            raise ValueError(f"delta (move to the next eps when min w > delta) must be in (0, 1), e.g. 0.99; got {self.delta}")
        n = self.steps_per_eps
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ValueError(f"steps_per_eps (most steps at one eps) must be a positive integer or None, e.g. 10000; got {n!r}")

    @property
    def eps_values(self) -> tuple[float, ...]:
        """``(eps, *eps_schedule)``: every causality parameter, in the order used."""
        return (float(self.eps), *(float(v) for v in self.eps_schedule))

    def init(self) -> CausalState:
        """At the first eps."""
        return CausalState(index=jnp.zeros((), jnp.int32))

    def current_eps(self, state: CausalState, dtype=jnp.float32) -> jax.Array:
        """The eps in use: ``eps_values[state.index]``."""
        return jnp.asarray(self.eps_values, dtype)[state.index]

    def loss(self, state: CausalState, point_losses: jax.Array, times: jax.Array, *, t0: float, t1: float):
        """``(L_causal, w)`` with the current eps (``causal_loss``)."""
        eps = self.current_eps(state, jnp.result_type(point_losses))
        return causal_loss(point_losses, times, t0=t0, t1=t1, slices=self.slices, eps=eps)

    def update(self, state: CausalState, weights: jax.Array) -> CausalState:
        """Move to the next eps if ``min_i w_i > delta`` (the last eps is kept once reached)."""
        return CausalState(next_eps_index(state.index, weights, delta=self.delta, count=len(self.eps_values)))

    def check(self, term_names, coordinates, scheme=None) -> None:
        """Raise a ``KeyError`` if ``term`` is not one of ``term_names`` or ``time`` not one of
        ``coordinates`` (a problem's, or its declaration's: ``problems.declared``, nothing built),
        a ``ValueError`` if ``scheme`` weights each point: its loss replaces the term loss that
        causal weighting shapes, so the two do not combine."""
        if scheme is not None and per_point(scheme):
            raise ValueError(
                f"causal weighting does not combine with {type(scheme).__name__} (a weight per point, which replaces the "
                "term loss causal weighting shapes): use a term scheme, e.g. grad-norm-2026, or no causal weighting ([causal] in a run config)"
            )
        if self.term is not None and self.term not in term_names:
            raise KeyError(f"term {self.term!r} is not a term of the problem; valid term names are {list(term_names)}")
        if self.time not in coordinates:
            raise KeyError(
                f"time {self.time!r} is not a coordinate of the problem's domain; its coordinates are {list(coordinates)}"
            )

    def bounds(self, box) -> tuple[int, float, float]:
        """``(axis, t0, t1)`` of the coordinate ``time`` in ``box`` (any geometry: its bounding box)."""
        axis = box.axis(self.time)  # a KeyError naming the valid coordinates if absent
        lower, upper = box.bounds()
        return axis, float(lower[axis]), float(upper[axis])


@dataclass(frozen=True, eq=False)  # eq=False: hashed by identity (eps may be a traced array)
class CausalReduce:
    """A term's ``reduce``: ``(per_point, points) -> L_causal`` over the time coordinate ``axis``
    in ``[t0, t1]`` with causality parameter ``eps``. The trainer recognises it (the schedule's
    settings are in ``causal``) and swaps ``eps`` for the current one (``at``)."""

    causal: Causal
    axis: int
    t0: float
    t1: float
    eps: object

    def __call__(self, per_point: jax.Array, points: jax.Array) -> jax.Array:
        return self.weighted(per_point, points)[0]

    def weighted(self, per_point: jax.Array, points: jax.Array) -> tuple[jax.Array, jax.Array]:
        """``(L_causal, w)`` (``causal_loss``) at the points' times."""
        return causal_loss(per_point, points[:, self.axis], t0=self.t0, t1=self.t1, slices=self.causal.slices, eps=self.eps)

    def at(self, eps) -> CausalReduce:
        """The same reduce with causality parameter ``eps`` (a number or an array)."""
        return CausalReduce(self.causal, self.axis, self.t0, self.t1, eps)


def causal_problem(problem, causal: Causal, term: str | None = None):
    """``problem`` with the loss of ``term`` (default: ``causal.term``, else its reference term, the PDE residual)
    replaced by the causal loss over ``causal.slices`` time slices at the first eps value
    (a ``CausalReduce``: the trainer follows the eps schedule from there).

    Example:
        >>> from pinnbalance.problems import klein_gordon
        >>> p = causal_problem(klein_gordon(), Causal(slices=8, eps=1.0))
        >>> p.terms["res"].reduce is not None, p.terms["ics"].reduce is None
        (True, True)
    """
    import dataclasses

    from pinnbalance.problems.base import check_names

    name = term or causal.term or problem.reference
    check_names(name, problem.terms, what="causal term")
    axis, t0, t1 = causal.bounds(problem.domain)
    reduce = CausalReduce(causal, axis, t0, t1, causal.eps_values[0])
    terms = {**problem.terms, name: dataclasses.replace(problem.terms[name], reduce=reduce)}
    return dataclasses.replace(problem, terms=terms)
