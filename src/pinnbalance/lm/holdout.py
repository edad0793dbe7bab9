"""Hold out part of one term's rows to pick the iteration a Levenberg-Marquardt phase ends with.

With noisy observations, LM fits the noise once the signal is fitted: the error first falls,
then rises again while the training loss keeps falling (an inverse problem's unknown drifts
with it). Holding out a fraction of the observations and watching their misfit is the usual
remedy (early stopping, e.g. Prechelt 1998): the phase trains on the other rows and ends with
the parameters at the record where the held-out loss

    L_held(theta) = (1 / m) sum_{j in held} |r_j(theta)|^2      (the term's own, unweighted)

was lowest; ``patience`` records without a new lowest value stop the run early. Nothing but
the term's own rows enters the choice (no reference solution). The split is a fixed random
choice of ``round(fraction n)`` of the term's n rows (numpy's generator on ``seed``), the same
for every draw: it is meant for a term whose point set never changes (a data term given
whole), and a redraw that changes that term's rows is refused.

For a residual term, whose collocation points are drawn (and redrawn), the same role is
played by a fixed FRESH draw (``fresh_points``): points of every term from a key of their
own, never trained on, on which the phase's weighted loss ``||r(theta)||^2`` is watched. Fitting
one draw of points too closely (the network bending between them) raises the residual
between them, which the fresh draw sees; only the PDE and its conditions decide.

The selection lives on the host, between compiled chunks: a resumed phase starts it afresh
from the resumed parameters.

Example:
    >>> train, held = split_rows(10, 0.2, seed=0)
    >>> len(train), len(held), sorted(set(train) | set(held)) == list(range(10))
    (8, 2, True)
    >>> s = Selection.start(patience=1)
    >>> s = s.update(2.0, "p0", 10).update(1.0, "p1", 20).update(1.5, "p2", 30)
    >>> s.best, s.params, s.at, s.since, s.exhausted
    (1.0, 'p1', 20, 1, True)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.losses import term_loss


def split_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, held)``: sorted row indices, ``held`` a random ``round(fraction n)`` of ``range(n)``."""
    m = round(fraction * n)
    if not 1 <= m < n:
        raise ValueError(
            f"holding out {fraction!r} of {n} rows leaves {m} held out and {n - m} to train on; "
            "choose a holdout_fraction that keeps at least one row on each side"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[m:]), np.sort(order[:m])


def split_points(points: dict, term: str, fraction: float, seed: int) -> tuple[dict, jax.Array]:
    """``(training points, held rows)``: ``points`` with ``term``'s rows split by ``split_rows``."""
    rows = points[term]
    train, held = split_rows(rows.shape[0], fraction, seed)
    return {**points, term: rows[train]}, rows[held]


def same_rows(previous: jax.Array, fresh: jax.Array, term: str) -> None:
    """Refuse a redraw that changed ``term``'s rows: its held-out rows would then be trained on."""
    if previous.shape != fresh.shape or not bool(jnp.all(previous == fresh)):
        raise ValueError(
            f"LevenbergMarquardt.holdout_term={term!r}: a redraw changed that term's rows, so held-out rows would be "
            "trained on; hold out rows of a term whose points never change (a data term given whole), or resample less"
        )


def held_loss(problem, network, term: str):
    """A compiled ``loss(params, rows)``: ``term``'s unweighted mean squared residual on ``rows``."""
    return jax.jit(lambda params, rows: term_loss(problem, network, params, rows, term))


FRESH_STREAM = 29  # the fresh held-out draw: folded from the run's key (the training draws use other streams)


def fresh_points(problem, key: jax.Array, dtype, points: int | None = None) -> dict:
    """A draw of every term's points from ``fold_in(key, FRESH_STREAM)`` (``points`` per term, None:
    each term's batch size): independent of the training draws, which fold other numbers in."""
    from pinnbalance.problems.base import sample_batch  # problems import losses; keep this module light

    source = problem if points is None else problem.with_batch_sizes(points)
    return sample_batch(source, jax.random.fold_in(key, FRESH_STREAM), dtype)


class Selection(NamedTuple):
    """The held-out loss's lowest value so far, the parameters and iteration there, and records since."""

    best: float
    params: object
    at: int
    since: int
    patience: int | None

    @classmethod
    def start(cls, patience: int | None = None) -> Selection:
        return cls(math.inf, None, -1, 0, patience)

    def update(self, loss: float, params, at: int) -> Selection:
        """After the record of iteration ``at``: keep ``params`` if ``loss`` is a new lowest (non-finite is not)."""
        if math.isfinite(loss) and loss < self.best:
            return self._replace(best=loss, params=params, at=at, since=0)
        return self._replace(since=self.since + 1)

    @property
    def exhausted(self) -> bool:
        """``patience`` records without a new lowest held-out loss."""
        return self.patience is not None and self.since >= self.patience
