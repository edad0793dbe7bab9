"""Ensembles of trainings: K members of one run, their mean prediction and their spread.

A deep ensemble (Lakshminarayanan et al. 2017, "Simple and scalable predictive uncertainty
estimation using deep ensembles"; for PINNs e.g. Zou et al. 2024) trains the same model K
times from different random initialisations (and here also different point draws and, with
``[lm] holdout_folds = "per-run"``, different held-out observations) and predicts with

    mean(z) = (1/K) sum_k q_k(z),      std(z) = sqrt( (1/K) sum_k (q_k(z) - mean(z))^2 ),

``q_k`` member k's compared quantity (``metrics.predict``: the problem's ``quantity`` when it has
one, with the unknowns carried, else the network output). ``std`` is the population standard
deviation (divisor K, the paper's mixture variance with members taken as point predictions).
The mean is usually more accurate than a typical member (the members' independent errors partly
cancel), and ``std`` says where the members disagree. It does NOT see an error they share: all
members fit the same observations with the same model, so a bias common to them (the noise
in the data, an unidentifiable feature, a too-small network) is in the mean and not in the spread.

The members train as lanes of one program, as several seeds do: a run's ``[ensemble] members =
K`` replaces its one seed S by ``member_seeds(S, K)`` (``config``), so checkpoints, resume and the
per-seed folders are those of a multi-seed run. The rule:

    member_seeds(S, K) = numpy.random.SeedSequence(S).generate_state(K, dtype=uint32) mod 2^31

(non-negative int32 values; well-mixed seeds, fixed across numpy versions). The first k of
``member_seeds(S, K)`` are ``member_seeds(S, k)``: a larger ensemble keeps the smaller one's
members. The run seed S itself is not among them.

Example:
    >>> member_seeds(1234, 3)
    (759113382, 1602421836, 216676975)
    >>> Ensemble(members=3, seed=1234).seeds == member_seeds(1234, 3)
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from pinnbalance.metrics import predict
from pinnbalance.nn.hard import for_problem

SEED_BITS = 31  # member seeds are reduced to [0, 2^31): non-negative int32


def member_seeds(seed: int, members: int) -> tuple[int, ...]:
    """The ``members`` training seeds of an ensemble whose run seed is ``seed`` (see the module docstring)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(
            f"Ensemble.seed must be an integer >= 0 (numpy.random.SeedSequence derives the members' seeds from it), "
            f"got {seed!r}; choose a non-negative train.seeds"
        )
    state = np.random.SeedSequence(seed).generate_state(members, dtype=np.uint32)
    return tuple(int(s) % 2**SEED_BITS for s in state)


@dataclass(frozen=True)
class Ensemble:
    """``members`` trainings of one configuration, their seeds derived from the run's ``seed``
    (``member_seeds``). In TOML: ``[ensemble] members = K`` with ``train.seeds = [S]``."""

    members: int
    seed: int = 1234

    def __post_init__(self):
        if not isinstance(self.members, int) or isinstance(self.members, bool) or self.members < 2:
            raise ValueError(
                f"Ensemble.members must be an integer >= 2 (the trainings whose predictions are averaged), got "
                f"{self.members!r}; for one training leave [ensemble] out"
            )
        seeds = member_seeds(self.seed, self.members)
        if len(set(seeds)) != len(seeds):  # two draws of 31 bits alike: about K^2 / 2^32, so never in practice
            raise ValueError(f"Ensemble: two member seeds of seed {self.seed} coincide ({list(seeds)}); choose another seed")

    @classmethod
    def of_run(cls, seeds, members: int | None = None) -> Ensemble:
        """The ``[ensemble]`` table's ensemble of a run whose ``train.seeds`` are ``seeds`` (exactly one).

        Example:
            >>> Ensemble.of_run([7], members=3)
            Ensemble(members=3, seed=7)
        """
        if members is None:
            raise ValueError("members: [ensemble] needs members = K, the number of trainings (K >= 2), e.g. members = 6")
        if len(seeds) != 1:
            raise ValueError(
                f"train.seeds = {list(seeds)}, but [ensemble] derives its members' seeds from ONE seed: set train.seeds = "
                f"[{seeds[0] if seeds else 1234}] (or leave [ensemble] out to train these seeds as separate runs)"
            )
        return cls(members, seeds[0])

    @property
    def seeds(self) -> tuple[int, ...]:
        """The members' training seeds, in lane order."""
        return member_seeds(self.seed, self.members)


def stack_params(params: list):
    """The members' parameter pytrees stacked on a leading axis (what ``ensemble_prediction`` takes)."""
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *params)


def member_values(one, stacked_params) -> np.ndarray:
    """``one(params)`` (a jitted function of one member's parameters) of each member, stacked on a
    leading axis, float64: the members of ``stacked_params`` one at a time, one compiled program."""
    members = jax.tree_util.tree_leaves(stacked_params)[0].shape[0]
    return np.stack([np.asarray(one(jax.tree_util.tree_map(lambda x: x[k], stacked_params)), np.float64) for k in range(members)])


def member_predictions(problem, network, stacked_params, points) -> np.ndarray:
    """``(K, n)`` or ``(K, n, c)``: each member's compared quantity at ``points`` (float64)."""
    full = for_problem(problem, network)  # a quantity may read the unknowns (heat-inverse's a)
    points = np.asarray(points, jax.tree_util.tree_leaves(stacked_params)[0].dtype)
    return member_values(jax.jit(lambda p: predict(full, p, points, problem)), stacked_params)


def ensemble_prediction(problem, network, stacked_params, points) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` over the members (axis 0 of ``stacked_params``' leaves) of the compared quantity at ``points``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from pinnbalance import klein_gordon, mlp_for
        >>> problem = klein_gordon()
        >>> net = mlp_for(problem.domain, (8,))
        >>> stacked = stack_params([net.init(jax.random.PRNGKey(k), jnp.float32) for k in range(3)])
        >>> mean, std = ensemble_prediction(problem, net, stacked, problem.domain.evaluation_points(4))
        >>> mean.shape == std.shape == (16,), bool((std >= 0).all())
        (True, True)
    """
    predictions = member_predictions(problem, network, stacked_params, points)
    return predictions.mean(axis=0), predictions.std(axis=0)


def _errors(pred: np.ndarray, reference: np.ndarray, names: tuple) -> tuple[float, dict]:
    """``(joint l2re, {component: l2})``; without named components only the joint one.

    ``component_metrics``' formulas in NumPy float64 (its JAX ones would run in float32 where
    64-bit JAX is off, as in a float32 run): the joint L2RE ``||P - R|| / ||R||`` over every
    entry (equal to PINNacle's root-mean-square ratio) and each column's ``||P_c - R_c|| / ||R_c||``.
    """
    pred, reference = np.asarray(pred, np.float64), np.asarray(reference, np.float64)
    joint = float(np.linalg.norm(pred - reference) / np.linalg.norm(reference))
    if not names:
        return joint, {}
    pred, reference = pred.reshape(len(pred), -1), reference.reshape(len(reference), -1)
    if pred.shape != reference.shape or pred.shape[1] != len(names):
        raise ValueError(
            f"the prediction {pred.shape} and reference {reference.shape} need one column per component {list(names)}"
        )
    columns = np.linalg.norm(pred - reference, axis=0) / np.linalg.norm(reference, axis=0)
    return joint, {name: float(c) for name, c in zip(names, columns)}


def _names(problem) -> tuple[str, ...]:
    """The problem's named output components (``()`` without names)."""
    return tuple(getattr(problem, "components", ()) or ())


def ensemble_errors(problem, network, stacked_params, points, reference) -> dict:
    """The mean prediction's errors against ``reference`` at ``points`` and each member's
    (``prediction_errors`` of ``member_predictions``)."""
    predictions = member_predictions(problem, network, stacked_params, points)
    return prediction_errors(predictions, reference, _names(problem))


def ensemble_evaluation(problem, network, stacked_params, points, reference) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(mean, std, errors)`` from one prediction of each member at ``points``: the members' mean
    and standard deviation, and ``prediction_errors`` against ``reference`` with their ``spread``
    (what a run's ensemble entry records)."""
    predictions = member_predictions(problem, network, stacked_params, points)
    mean, std = predictions.mean(axis=0), predictions.std(axis=0)
    return mean, std, prediction_errors(predictions, reference, _names(problem)) | spread(std, reference)


def prediction_errors(predictions: np.ndarray, reference, names: tuple) -> dict:
    """The errors of the members' mean and of each member (``predictions``: ``member_predictions``).

    ``{"l2re": ..., "components": {name: l2}, "member_l2re": [...], "member_components": {name: [...]}}``:
    the joint L2RE over every component (as ``component_metrics.joint_l2re``; for one component
    it is the relative L2 error) and each named component's own (``names``, the problem's
    components; ``{}`` without names), in float64.
    """
    reference = np.asarray(reference, np.float64)
    l2re, components = _errors(predictions.mean(axis=0), reference, names)
    members = [_errors(p, reference, names) for p in predictions]
    return {
        "l2re": l2re,
        "components": components,
        "member_l2re": [m[0] for m in members],
        "member_components": {name: [m[1][name] for m in members] for name in components},
    }


def spread(std: np.ndarray, reference: np.ndarray) -> dict:
    """``{"spread": mean_j ||std_j||_2, "relative_spread": ||std||_2 / ||reference||_2}``.

    ``std_j`` is the members' standard deviation at evaluation point j (a vector over the
    components; for a stacked quantity such as heat-inverse's ``(u, 0)`` / ``(0, a)`` rows it is
    the std of the one component the row compares). ``relative_spread`` is on the scale of the
    L2RE, and exactly (the bias-variance identity ``(1/K) sum_k ||q_k - r||^2 = ||mean - r||^2 +
    (1/K) sum_k ||q_k - mean||^2``, the last sum being ``||std||^2``)

        mean_k l2re_k^2 = l2re(mean)^2 + relative_spread^2,

    so the spread is the part of the members' typical error that averaging removes.

    Example:
        >>> spread(np.array([[3.0, 4.0], [0.0, 0.0]]), np.array([[0.0, 10.0], [0.0, 0.0]]))
        {'spread': 2.5, 'relative_spread': 0.5}
    """
    std, reference = np.asarray(std, np.float64), np.asarray(reference, np.float64)
    rows = std.reshape(std.shape[0], -1)
    return {
        "spread": float(np.mean(np.linalg.norm(rows, axis=1))),
        "relative_spread": float(np.linalg.norm(std) / np.linalg.norm(reference)),
    }
