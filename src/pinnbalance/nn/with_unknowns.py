"""A network that also carries a problem's unknown parameters, and their optimizer.

``with_unknowns(problem, network)`` wraps the solution network so that its parameters are

    {"network": the solution network's params, "unknowns": {name: raw leaf | field params}}

and ``field(params)`` is the solution field ``u`` that also carries the unknowns' values
(``u.unknowns``: a 0-d array per scalar, a callable ``a(z)`` per field), which
``problems.base.term_residuals`` passes to the residuals that ask for them by name. Since
the unknowns are ordinary leaves of the trained pytree, everything that trains, vmaps,
checkpoints or refines parameters (Adam, L-BFGS, Levenberg-Marquardt, vmapped seeds) trains
them too, unchanged. A problem without unknowns keeps its network as it is (bit for bit).

``unknowns_optimizer`` gives each unknown its own learning rate: ``optax.multi_transform``
over the two parts, the network's optimizer for the network and, for each unknown with a
``learning_rate``, the same optimizer and decay at that rate (its rate held in the
optimizer state, as the network's is, ``training.config.with_rate_in_state``).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance.nn import MLP
    >>> from pinnbalance.problems import Box, Problem, Term, uniform
    >>> from pinnbalance.problems.unknowns import Scalar
    >>> box = Box((0.0,), (1.0,), ("x",))
    >>> problem = Problem("p", box, {"res": Term(lambda u, z, *, k: k * u(z), uniform(box))}, unknowns={"k": Scalar(2.0)})
    >>> net = with_unknowns(problem, MLP((1, 4, 1)))
    >>> params = net.init(jax.random.PRNGKey(0), jnp.float32)
    >>> float(net.field(params).unknowns["k"]), sorted(params)
    (2.0, ['network', 'unknowns'])
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from pinnbalance.problems.unknowns import UNKNOWN_STREAM, FieldUnknown, Unknown


@dataclass(frozen=True)
class WithUnknowns:
    """``network`` plus the ``unknowns`` (``(name, spec)`` pairs) it carries; ``indices``: each
    field unknown's coordinates in the point (None for a scalar)."""

    network: object
    unknowns: tuple[tuple[str, Unknown], ...]
    indices: tuple[tuple[int, ...] | None, ...]

    @property
    def layers(self):
        return self.network.layers

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.unknowns)

    def init(self, key: jax.Array, dtype=jnp.float32) -> dict:
        """The network's params from ``key`` (the same draw as without unknowns), each unknown's after."""
        own = {
            name: spec.init_params(jax.random.fold_in(key, UNKNOWN_STREAM + i), dtype)
            for i, (name, spec) in enumerate(self.unknowns)
        }
        return {"network": self.network.init(key, dtype), "unknowns": own}

    def apply(self, params: dict, z: jax.Array) -> jax.Array:
        return self.network.apply(params["network"], z)

    def field(self, params: dict) -> FieldWithUnknowns:
        return FieldWithUnknowns(self.network.field(params["network"]), self.values(params))

    def values(self, params: dict) -> dict:
        """``{name: value}``: a 0-d array per scalar unknown, a callable ``a(z)`` per field."""
        out = {}
        for (name, spec), idx in zip(self.unknowns, self.indices):
            raw = params["unknowns"][name]
            out[name] = spec.value(raw, idx) if isinstance(spec, FieldUnknown) else spec.value(raw)
        return out


class FieldWithUnknowns:
    """The solution field ``u`` (callable, with its fast derivative paths) and ``unknowns``."""

    def __init__(self, u, unknowns: dict):
        self._u, self.unknowns = u, unknowns

    def __call__(self, z):
        return self._u(z)

    def __getattr__(self, name):  # taylor1/taylor2 when the network's field has them, else AttributeError
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._u, name)


def with_unknowns(problem, network):
    """``network`` wrapped to carry ``problem``'s unknowns (``WithUnknowns``); the network itself
    when the problem has none or it is wrapped already."""
    if not problem.unknowns or isinstance(network, WithUnknowns):
        return network
    names = tuple(problem.domain.names)
    indices = tuple(s.indices(names, n) if isinstance(s, FieldUnknown) else None for n, s in problem.unknowns.items())
    return WithUnknowns(network, tuple(problem.unknowns.items()), indices)


def solution_network(network):
    """The solution network inside ``network`` (itself when it carries no unknowns)."""
    return network.network if isinstance(network, WithUnknowns) else network


def solution_params(network, params):
    """The solution network's part of ``params`` (all of them when ``network`` carries no unknowns)."""
    return params["network"] if isinstance(network, WithUnknowns) else params


def with_solution_params(network, params, solution):
    """``params`` with the solution network's part replaced by ``solution`` (the inverse of
    ``solution_params``: the unknowns' parameters kept)."""
    return {**params, "network": solution} if isinstance(network, WithUnknowns) else solution


def unknowns_optimizer(network, optimizer: optax.GradientTransformation, config) -> optax.GradientTransformation:
    """``optimizer`` for a network without unknowns; else ``optax.multi_transform``: ``optimizer``
    for the network and for each unknown without its own rate (their own states), and for each
    unknown with a ``learning_rate`` the ``config``'s optimizer and decay at that rate.

    ``config``: the run's ``TrainConfig`` (optimizer name, options, decay, dtype).
    """
    if not isinstance(network, WithUnknowns):
        return optimizer
    from pinnbalance.training.config import optimizer_constructor, with_rate_in_state  # training imports nn

    constructor = functools.partial(optimizer_constructor(config.optimizer_name), **config.optimizer_options)
    transforms = {"network": optimizer}
    for name, spec in network.unknowns:
        own = spec.learning_rate is None
        transforms[f"unknown/{name}"] = (
            optimizer if own else with_rate_in_state(constructor, _at_rate(config, spec.learning_rate))
        )
    return optax.multi_transform(transforms, functools.partial(_labels, network))


def _at_rate(config, rate: float):
    return dataclasses.replace(config, learning_rate=float(rate))


def _labels(network: WithUnknowns, params: dict) -> dict:
    """The ``multi_transform`` label of every leaf: ``"network"`` or ``"unknown/<name>"``."""
    label = lambda tree, text: jax.tree_util.tree_map(lambda _: text, tree)  # noqa: E731
    return {
        "network": label(params["network"], "network"),
        "unknowns": {n: label(p, f"unknown/{n}") for n, p in params["unknowns"].items()},
    }
