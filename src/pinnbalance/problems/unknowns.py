"""Unknown parameters of an inverse problem: scalars and fields trained with the solution.

A problem declares its unknowns by name (``Problem(unknowns={"kappa": Scalar(1.0)})``) and a
residual that needs one names it as a KEYWORD-ONLY parameter, ``def res(u, z, *, kappa)``;
the trainer passes it in. The name is the link: a residual asking for a name the problem
does not declare is refused when the ``Problem`` is built.

- ``Scalar(init)``: one number. A scalar arrives in the residual as a 0-d array.
  With ``positive=True`` it is stored as ``raw = log(init)`` and used as ``exp(raw)``.
  Why log/exp rather than softplus: the exponential makes the parameter scale-free -- an
  optimizer step of size ``eta`` on ``raw`` changes the value by the factor ``exp(eta)``,
  whatever its magnitude, so a diffusivity of 1e-3 is recovered in as many steps as one of
  1e3; softplus is linear above ~1, where a step moves the value by ``eta`` in absolute
  terms. (The price: the value's gradient is multiplied by the value, ``dL/draw = k dL/dk``.)
- ``FieldUnknown(network, inputs=("x", "y"))``: a function of some of the coordinates,
  represented by a second network (e.g. a conductivity ``a(x, y)`` in a problem over
  ``(x, y, t)``). It arrives in the residual as a callable ``a(z)`` of the FULL point ``z``
  that picks its own inputs, so it is differentiated exactly like ``u`` (with
  ``pinnbalance.derivatives``, e.g. ``axis_derivatives(a, z)``). With ``positive=True`` the
  field is ``exp(network output)``.

Each unknown may have its own ``learning_rate`` (None: the network's; the optimizer and its
decay schedule are the network's, see ``nn.with_unknowns.unknowns_optimizer``).

Example (the inverse problem -k u'' = f on [0, 1], u = sin(pi x) observed, k unknown):
    >>> import jax.numpy as jnp
    >>> from pinnbalance.derivatives import axis_derivatives
    >>> from pinnbalance.problems import Box, Problem, Term, data_term, observations_from_arrays, uniform
    >>> box = Box((0.0,), (1.0,), ("x",))
    >>> def res(u, z, *, k):  # k: the unknown, by name
    ...     u_xx = axis_derivatives(u, z)[2][0]
    ...     return -k * u_xx - 0.5 * jnp.pi**2 * jnp.sin(jnp.pi * z[0])  # f for the true k = 0.5
    >>> xs = jnp.linspace(0.0, 1.0, 11)[:, None]
    >>> data = data_term(observations_from_arrays(xs, jnp.sin(jnp.pi * xs[:, 0])))
    >>> problem = Problem("inverse", box, {"res": Term(res, uniform(box), 32), "data": data},
    ...                   unknowns={"k": Scalar(1.0, positive=True)}, exact_unknowns={"k": 0.5})
    >>> sorted(problem.unknowns), residual_unknowns(res)
    (['k'], ('k',))
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

UNKNOWN_STREAM = 1_000  # field unknown i initialises from fold_in(init key, UNKNOWN_STREAM + i): the network's draw is unchanged


@dataclass(frozen=True)
class Scalar:
    """An unknown number, initialised at ``init``; ``positive``: kept > 0 as ``exp(raw)``;
    ``learning_rate``: its own (None: the network's).

    Example:
        >>> k = Scalar(2.0, positive=True)
        >>> round(float(k.value(k.init_params(None, jnp.float32))), 6)  # exp(log 2)
        2.0
    """

    init: float
    positive: bool = field(default=False, kw_only=True)
    learning_rate: float | None = field(default=None, kw_only=True)

    def check(self, name: str) -> None:
        """Raise a ``ValueError`` naming the unknown ``name`` if ``init`` or the rate is unusable."""
        if isinstance(self.init, bool) or not isinstance(self.init, (int, float)) or not math.isfinite(self.init):
            raise ValueError(f"unknown {name!r}: init must be a finite number, got {self.init!r}")
        if self.positive and self.init <= 0:
            raise ValueError(
                f"unknown {name!r} is positive but initialised at {self.init!r}; give a positive init "
                f"(e.g. Scalar({abs(self.init) or 1.0}, positive=True)) or drop positive=True"
            )
        _check_rate(name, self.learning_rate)

    def init_params(self, key, dtype) -> jax.Array:
        """The trained leaf: ``log(init)`` if positive, else ``init`` (0-d, in ``dtype``)."""
        return jnp.asarray(math.log(self.init) if self.positive else self.init, dtype)

    def value(self, raw: jax.Array) -> jax.Array:
        """The unknown's value from its trained leaf."""
        return jnp.exp(raw) if self.positive else raw


@dataclass(frozen=True)
class FieldUnknown:
    """An unknown function of the coordinates ``inputs`` (names of the problem's coordinates,
    or their indices), represented by ``network`` (one input per coordinate, one output);
    ``positive``: the field is ``exp(network output)``; ``learning_rate``: its own (None:
    the network's).

    Example:
        >>> from pinnbalance.nn import MLP
        >>> a = FieldUnknown(MLP((1, 8, 1)), inputs=("x",))
        >>> a.indices(("x", "t"), "a")
        (0,)
    """

    network: object
    inputs: tuple[str | int, ...] = field(kw_only=True)
    positive: bool = field(default=False, kw_only=True)
    learning_rate: float | None = field(default=None, kw_only=True)

    def indices(self, coordinates: tuple[str, ...], name: str) -> tuple[int, ...]:
        """The positions of ``inputs`` among ``coordinates``; a ``ValueError`` names a bad one."""
        inputs = (self.inputs,) if isinstance(self.inputs, (str, int)) else tuple(self.inputs)
        out = []
        for i in inputs:
            if isinstance(i, str) and i in coordinates:
                out.append(coordinates.index(i))
            elif isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(coordinates):
                out.append(i)
            else:
                raise ValueError(
                    f"field unknown {name!r}: input {i!r} is not a coordinate of the problem; give names from "
                    f"{list(coordinates)} (or indices 0..{len(coordinates) - 1}), e.g. inputs=({coordinates[0]!r},)"
                )
        if not out or len(set(out)) != len(out):
            raise ValueError(f"field unknown {name!r}: inputs must name at least one coordinate, each once; got {inputs!r}")
        return tuple(out)

    def check(self, name: str, coordinates: tuple[str, ...]) -> None:
        """Raise a ``ValueError`` naming ``name`` for bad inputs, a network of the wrong width or a bad rate."""
        n = len(self.indices(coordinates, name))
        layers = getattr(self.network, "layers", None)
        if layers is not None and (layers[0] != n or layers[-1] != 1):
            raise ValueError(
                f"field unknown {name!r}: its network maps {layers[0]} input(s) to {layers[-1]} output(s), but it sees "
                f"{n} coordinate(s) {list(self.inputs)} and gives one value; build it with layers ({n}, ..., 1)"
            )
        _check_rate(name, self.learning_rate)

    def init_params(self, key, dtype):
        return self.network.init(key, dtype)

    def value(self, params, indices: tuple[int, ...]) -> Callable[[jax.Array], jax.Array]:
        """``a(z)``: the field at the full point ``z``, from the coordinates ``indices`` of it."""
        picked = jnp.asarray(indices)

        def a(z):
            out = self.network.apply(params, z[picked])
            return jnp.exp(out) if self.positive else out

        return a


Unknown = Scalar | FieldUnknown


def _check_rate(name: str, rate) -> None:
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0):
        raise ValueError(f"unknown {name!r}: learning_rate must be a positive number or None (the network's), got {rate!r}")


def residual_unknowns(fn) -> tuple[str, ...]:
    """The unknowns a residual asks for: its keyword-only parameters without a default.

    Example:
        >>> residual_unknowns(lambda u, z, *, kappa, c=1.0: kappa), residual_unknowns(lambda u, z: 0)
        (('kappa',), ())
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # no signature (some builtins): asks for nothing
        return ()
    return tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty)


def check_unknowns(problem) -> None:
    """Raise a ``ValueError`` if ``problem``'s unknowns, their true values, or the names its
    residuals ask for do not fit together (each message names the term or unknown and the fix)."""
    declared = list(problem.unknowns)
    for name, spec in problem.unknowns.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"problem {problem.name!r}: unknown name {name!r} must be a Python identifier (a residual keyword)")
        if isinstance(spec, Scalar):
            spec.check(name)
        elif isinstance(spec, FieldUnknown):
            spec.check(name, tuple(problem.domain.names))
        else:
            raise TypeError(f"problem {problem.name!r}: unknown {name!r} must be a Scalar or a FieldUnknown, got {spec!r}")
    for term_name, term in problem.terms.items():
        bad = [n for n in residual_unknowns(term.residual) if n not in problem.unknowns]
        if bad:
            raise ValueError(
                f"problem {problem.name!r}: the residual of term {term_name!r} asks for unknown parameter(s) {bad}, "
                f"which the problem does not declare (declared unknowns: {declared}); declare them, e.g. "
                f"unknowns={{{bad[0]!r}: Scalar(1.0)}}, or fix the keyword-only parameter's name"
            )
    _check_exact(problem, declared)


def _check_exact(problem, declared: list[str]) -> None:
    for name, value in problem.exact_unknowns.items():
        if name not in problem.unknowns:
            raise ValueError(f"problem {problem.name!r}: exact_unknowns names {name!r}, not an unknown; declared: {declared}")
        if isinstance(problem.unknowns[name], Scalar) and not isinstance(value, (int, float)):
            raise TypeError(f"problem {problem.name!r}: exact_unknowns[{name!r}] of a scalar must be a number, got {value!r}")
        if isinstance(problem.unknowns[name], FieldUnknown) and not callable(value):
            raise TypeError(
                f"problem {problem.name!r}: exact_unknowns[{name!r}] of a field must be a function of the full point, "
                f"e.g. lambda z: 1 + z[0] ** 2; got {value!r}"
            )
