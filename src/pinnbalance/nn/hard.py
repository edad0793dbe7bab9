"""Hard constraints by an output transform: ``u(z) = g(z) + d(z) N(z)``.

A penalty term only pulls the network towards a boundary condition; the transform meets it
exactly. With ``d`` vanishing on the constrained part of the boundary (and nowhere inside)
and ``g`` equal to the prescribed values there,

    u(z) = g(z) + d(z) * N(z)      =>      u = g wherever d = 0, for ANY network N,

so the boundary term can be dropped from the loss (Lagaris, Likas & Fotiadis 1998; Lu et
al. 2021, "Physics-informed neural networks with hard constraints for inverse design",
SIAM J. Sci. Comput. 43). ``g`` and ``d`` may return one value per output (a vector of
the network's output size) to constrain components differently, e.g. ``d = (x (1 - x),
x (1 - x), 1)`` clamps u and v on the walls x = 0, 1 and leaves p free.

Initial data the same way: ``u(x, t) = u0(x) + t N(x, t)`` meets ``u(x, 0) = u0(x)``; an
initial velocity as well with ``t^2``: ``u = u0(x) + t v0(x) + t^2 N``.

``HardConstrained`` wraps any architecture with ``init``/``apply``: ``init`` is the inner
network's (same parameters, same count), ``apply`` the transform, and ``field`` a plain
function (derivatives by generic forward mode through ``g``, ``d`` and the network).

A problem may declare its constraint (``Problem(hard=HardConstraint(g, d))``,
``problems.hard``); ``for_problem(problem, network)`` is then the network it trains: the
transform inside, its unknowns carried (``nn.with_unknowns``). Training, predictions, run
folders and ``load_run`` all build it so, and a plain network passed to ``fit`` is wrapped.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance.nn import MLP
    >>> net = HardConstrained(MLP((2, 8, 1)), g=lambda z: jnp.sin(jnp.pi * z[0]), d=lambda z: z[1])
    >>> params = net.init(jax.random.PRNGKey(0))
    >>> u = net.field(params)
    >>> float(u(jnp.array([0.5, 0.0])))  # on t = 0: exactly sin(pi / 2)
    1.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.nn.with_unknowns import WithUnknowns, with_unknowns
from pinnbalance.problems.hard import HardConstraint, Transform, check_transform


@dataclass(frozen=True)
class HardConstrained:
    """``network`` with its output mapped to ``g(z) + d(z) * network(z)`` (see the module docstring).

    ``g(z)``: the prescribed values (scalar or one per output); ``d(z)``: zero exactly where
    they are imposed, nonzero inside (scalar or one per output).
    """

    network: object
    g: Transform
    d: Transform

    def __post_init__(self):
        for name in ("g", "d"):
            check_transform("HardConstrained", name, getattr(self, name))
        if not (hasattr(self.network, "init") and hasattr(self.network, "apply")):
            raise TypeError(f"HardConstrained wraps a network with init(key, dtype) and apply(params, z); got {self.network!r}")

    @property
    def layers(self) -> tuple[int, ...]:
        return self.network.layers

    def init(self, key: jax.Array, dtype=jnp.float32):
        """The inner network's parameters (the transform has none)."""
        return self.network.init(key, dtype)

    def apply(self, params, z: jax.Array) -> jax.Array:
        """``g(z) + d(z) * N(z)`` at one point ``z``."""
        out = self.network.apply(params, z)
        g, d = jnp.asarray(self.g(z), out.dtype), jnp.asarray(self.d(z), out.dtype)
        if jnp.ndim(g) > jnp.ndim(out) or jnp.ndim(d) > jnp.ndim(out):
            raise ValueError(
                f"HardConstrained: g(z) has shape {jnp.shape(g)} and d(z) {jnp.shape(d)} but the network gives {jnp.shape(out)}; "
                "return a scalar or one value per network output"
            )
        return g + d * out

    def field(self, params):
        """``u(z)`` with the parameters bound (a plain function: generic forward-mode derivatives)."""
        return lambda z: self.apply(params, z)


def constrained(network, hard: HardConstraint | None):
    """``network`` under ``hard``'s transform (itself when ``hard`` is None)."""
    return network if hard is None else HardConstrained(network, hard.g, hard.d)


def for_problem(problem, network):
    """The network ``problem`` trains: under its hard constraint (if it declares one), carrying
    its unknowns (if any). A network that carries them already gets the transform inside; one
    hard-constrained already keeps its own transform, so calling this twice changes nothing."""
    carrier = network if isinstance(network, WithUnknowns) else None
    inner = network if carrier is None else carrier.network
    inner = inner if isinstance(inner, HardConstrained) else constrained(inner, problem.hard)
    return with_unknowns(problem, inner) if carrier is None else dataclasses.replace(carrier, network=inner)
