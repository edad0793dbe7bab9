"""Run settings for ``fit``: a frozen, validated description (no hidden defaults), and the one
optimizer factory of the library and the ``[optimizer]`` section of a run configuration."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import optax

from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.optim.soap import soap
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.training.physics_init import LeastSquaresInit
from pinnbalance.training.sampling import Sampling
from pinnbalance.training.weight_policy import settings_hash

DTYPES = {"float32": jnp.float32, "float64": jnp.float64}
UPDATE_SCHEDULES = ("auto", "static", "masked")
PRECISIONS = ("default", "high", "highest")
COMMON = ("adam", "adamw", "sgd", "lion", "rmsprop", "soap")  # suggested first for a misspelt optimizer name


def _takes_learning_rate(fn) -> bool:
    try:
        return callable(fn) and next(iter(inspect.signature(fn).parameters), None) == "learning_rate"
    except (TypeError, ValueError):  # no signature (a module, a builtin)
        return False


def optimizer_constructor(name: str) -> Callable[..., optax.GradientTransformation]:
    """The optimizer called ``name``: ``"soap"`` (``pinnbalance.optim.soap``) or any optax
    optimizer whose first parameter is the learning rate (``"adam"``, ``"adamw"``, ``"sgd"``, ...).

    Example:
        >>> optimizer_constructor("adam") is optax.adam, optimizer_constructor("soap") is soap
        (True, True)
    """
    named = isinstance(name, str) and not name.startswith("_")
    found = soap if name == "soap" else getattr(optax, name, None) if named else None
    if not _takes_learning_rate(found):
        known = ["soap", *(n for n in dir(optax) if not n.startswith("_") and _takes_learning_rate(getattr(optax, n)))]
        close = difflib.get_close_matches(str(name), COMMON, n=1) or difflib.get_close_matches(str(name), known, n=1)
        raise ValueError(
            f"optimizer {name!r} is unknown{f' (did you mean {close[0]!r}?)' if close else ''}; give 'soap' or an optax "
            "optimizer taking a learning rate first, e.g. 'adam', 'adamw', 'sgd', 'lion'"
        )
    return found


def positive_int(value) -> bool:
    """Whether ``value`` is an integer >= 1 (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class TrainConfig:
    """How to train: steps, seed, optimizer schedule, logging cadence, numerics.

    Defaults are the published Klein-Gordon set-up: 40,001 Adam steps at learning rate
    1e-3 * 0.9^(step / 1000), history every 100 steps, seed 1234, float32. ``steps = 0``
    with ``lm`` set trains by Levenberg-Marquardt alone, from the initial parameters. The
    optimizer is ``optimizer_name`` (see ``optimizer_constructor``) with keyword arguments
    ``optimizer_options`` (e.g. ``{"b1": 0.9}``, or SOAP's ``{"precondition_frequency": 10}``).
    """

    steps: int = 40_001
    seed: int = 1234
    learning_rate: float = 1e-3
    decay_rate: float = 0.9
    decay_steps: int = 1000
    log_every: int = 100
    chunk_logs: int = 10  # history records per compiled chunk: the host syncs once per chunk
    dtype: str = "float32"
    matmul_precision: str = "default"
    eval_grid: int = 100
    eval_points: int = 10_000
    sampling: str = "random"  # or "fixed": one point set drawn before step 0 (see training.sampling)
    resample_every: int | None = None  # fixed sampling: redraw the set every N steps
    lbfgs: LBFGS | None = None  # a second phase after the ``steps`` first-order steps (training.lbfgs)
    update_schedule: str = "auto"  # weight-update steps: "auto", "static" or "masked" (training.program.choose_schedule)
    lm: LevenbergMarquardt | None = None  # a Levenberg-Marquardt phase after the others (training.lm_phase)
    optimizer_name: str = "adam"  # "soap" or an optax optimizer taking a learning rate first
    optimizer_options: Mapping[str, Any] = field(default_factory=dict)  # its other keyword arguments
    least_squares: LeastSquaresInit | None = None  # PirateNet's output layer fitted after init (training.physics_init)

    __hash__ = settings_hash  # optimizer_options is a dict: hashed by its items, so a TrainConfig can be a key

    def __post_init__(self):
        if not positive_int(self.steps) and not (self.steps == 0 and self.lm is not None):
            raise ValueError(
                f"TrainConfig.steps must be a positive integer, got {self.steps!r} (0 only with lm=LevenbergMarquardt(...): "
                "Levenberg-Marquardt alone)"
            )
        for name in ("log_every", "chunk_logs", "decay_steps", "eval_grid", "eval_points"):
            if not positive_int(getattr(self, name)):
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"TrainConfig.learning_rate must be > 0, got {self.learning_rate}")
        if not 0 < self.decay_rate <= 1:
            raise ValueError(f"TrainConfig.decay_rate must be in (0, 1] (1 = no decay), got {self.decay_rate}")
        if self.dtype not in DTYPES:
            raise ValueError(f"TrainConfig.dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if self.matmul_precision not in PRECISIONS:
            raise ValueError(
                f"TrainConfig.matmul_precision must be 'default', 'high' or 'highest', got {self.matmul_precision!r}"
            )
        self.sampling_spec()  # raises a clear ValueError on a bad mode / period
        if self.update_schedule not in UPDATE_SCHEDULES:
            raise ValueError(f"TrainConfig.update_schedule must be one of {UPDATE_SCHEDULES}, got {self.update_schedule!r}")
        optimizer_constructor(self.optimizer_name)(
            self.learning_rate, **self.optimizer_options
        )  # raises on a bad name or option (builds closures only)

    @property
    def jnp_dtype(self):
        return DTYPES[self.dtype]

    def sampling_spec(self) -> Sampling:
        """Where each step's points come from (``training.sampling.Sampling``)."""
        return Sampling(self.sampling, self.resample_every)

    def key(self, seed: int) -> jax.Array:
        """A typed PRNG key (threefry: the same random streams on every backend)."""
        return jax.random.key(seed)

    def optimizer(self) -> optax.GradientTransformation:
        """The optimizer ``optimizer_name`` (Adam by default) with ``optimizer_options`` and the
        exponential learning-rate decay ``learning_rate * decay_rate ** (step / decay_steps)``
        (continuous, as published), its initial rate a leaf of the optimizer state
        (``hyperparams["learning_rate"]``): runs that differ only in it share one compiled
        program (``training.runs``)."""
        constructor = functools.partial(optimizer_constructor(self.optimizer_name), **self.optimizer_options)
        return with_rate_in_state(constructor, self)


def with_rate_in_state(constructor, settings) -> optax.GradientTransformation:
    """``constructor(schedule)`` with ``schedule = rate * decay_rate ** (step / decay_steps)`` and
    the initial ``rate`` held in the optimizer state (``optax.inject_hyperparams``, in the run's
    dtype). The schedule computes with the rate rounded to float32: a Python-float rate against
    optax's int32 step count computes in float32 too, so this rounds exactly as
    ``constructor(exponential_decay(settings.learning_rate, ...))`` would (checked over 300 Adam
    steps, x64 on and off). ``settings``: a ``TrainConfig`` (rate, decay and dtype)."""

    def build(learning_rate):
        rate = jnp.asarray(learning_rate, jnp.float32)
        return constructor(optax.exponential_decay(rate, settings.decay_steps, settings.decay_rate))

    return optax.inject_hyperparams(build, hyperparam_dtype=settings.jnp_dtype)(learning_rate=settings.learning_rate)
