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
import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from pinnbalance.derivatives import Field
from pinnbalance.problems.domain import Box, Sampler
from pinnbalance.problems.hard import HardConstraint
from pinnbalance.problems.unknowns import Unknown, check_unknowns, residual_unknowns

# residual(u, point) -> residual vector (or scalar) at one point; u is the network field.
Residual = Callable[[Field, jax.Array], jax.Array]


@dataclass(frozen=True)
class Term:
    """One named loss term: a pointwise ``residual`` evaluated on points drawn by ``sampler``.

    - ``residual(u, point)``: the residual at ONE point (a scalar or a vector of components);
      ``u`` is the network field, called on one coordinate vector ``z`` of shape ``(d,)``.
      A point of a stacked term (``domain.stacked``) is a ``(k, d)`` stack of pieces: map the
      network over it, ``jax.vmap(u)(zs)``; calling ``u(zs)`` on the stack is an error.
    - ``sampler(key, n, dtype)``: ``n`` points (a Python int) drawn from the PRNG ``key`` in
      the float ``dtype``, shape ``(n, d)`` (or ``(n, k, d)`` stacked). All three arguments
      are passed positionally, every step; a sampler that cannot take them is refused here.
    - ``batch_size``: points a step (per piece for a stacked term).
    - ``points_of``: the name of another term whose points this one uses (drawn once, shared;
      its batch size is that term's), e.g. the equations of one system; with residuals that
      are ``problems.systems.Equation``s of one system, the system is evaluated once for all.

    Example:
        >>> import jax.numpy as jnp
        >>> from pinnbalance.problems.domain import Box, uniform
        >>> box = Box((0.0,), (1.0,), ("x",))
        >>> term = Term(lambda u, z: u(z) - jnp.sin(z[0]), uniform(box), 64, "u - sin x")
        >>> term.sampler(jax.random.PRNGKey(0), term.batch_size, jnp.float32).shape
        (64, 1)
    """

    residual: Residual
    sampler: Sampler
    batch_size: int = 128
    description: str = ""
    reduce: Callable[[jax.Array, jax.Array], jax.Array] | None = None  # (per-point losses, points) -> loss; None: mean
    points_of: str | None = None  # another term's name: use its points (problems.systems)

    def __post_init__(self):
        what = f"term {self.description!r}" if self.description else "a Term"
        _check_positional(
            self.sampler,
            3,
            f"{what}: its sampler must take three positional arguments, sample(key, n, dtype), and return n points; "
            "{signature} cannot. Add the dtype parameter and draw in it, e.g. "
            "def sample(key, n, dtype=jnp.float32): return jax.random.uniform(key, (n, d), dtype)",
        )
        _check_positional(
            self.residual,
            2,
            f"{what}: its residual must take two positional arguments, residual(u, point); {{signature}} cannot. "
            "Write it as def residual(u, z): ... where u(z) is the network at the point z",
        )


def _check_positional(fn, count: int, message: str) -> None:
    """Raise ``TypeError(message)`` if ``fn`` cannot be called with ``count`` positional arguments."""
    if not callable(fn):
        raise TypeError(message.replace("{signature}", f"{fn!r} (not callable)"))
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: nothing to check
        return
    try:  # required keyword-only parameters are unknowns (problems.unknowns), passed by name
        signature.bind(*([None] * count), **dict.fromkeys(residual_unknowns(fn)))
    except TypeError:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise TypeError(message.replace("{signature}", f"{name}{signature}")) from None


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

    ``components`` names the compared quantity's columns (``("u", "v", "p")``): the history
    and the summary then also report PINNacle's joint L2RE and each column's relative L2
    (``component_metrics``).

    ``hard``: a ``HardConstraint(g, d)`` whose transform ``u = g + d N`` every network trained
    on the problem gets (``problems.hard``, ``nn.hard``); the terms it meets are left out.
    """

    name: str
    domain: Box
    terms: Mapping[str, Term]
    exact: Callable[[jax.Array], jax.Array] | None = None
    reference: str = "res"
    parameters: Mapping[str, float] = field(default_factory=dict)
    components: tuple[str, ...] = ()  # names of the compared quantity's columns: adds "l2re", "l2/<name>" (component_metrics)
    description: str = ""
    quantity: Callable[[Field, jax.Array], jax.Array] | None = None
    outputs: int = 1  # network outputs the residuals expect (e.g. 2: stream function and pressure)
    reference_data: tuple[jax.Array, jax.Array] | None = None
    unknowns: Mapping[str, Unknown] = field(default_factory=dict)  # trained parameters, by name (problems.unknowns)
    exact_unknowns: Mapping[str, object] = field(default_factory=dict)  # their true values, to report errors
    hard: HardConstraint | None = None  # u = g + d N, met exactly (problems.hard): its penalty terms left out

    def __post_init__(self):
        if not self.terms:
            raise ValueError(f"problem {self.name!r} has no loss terms")
        check_names(self.reference, self.terms, what="reference term")
        check_shared_points(self)
        check_unknowns(self)
        if self.hard is not None and not isinstance(self.hard, HardConstraint):
            raise TypeError(
                f"problem {self.name!r}: hard must be a HardConstraint(g=..., d=...) (pinnbalance.problems.HardConstraint), "
                f"got {type(self.hard).__name__}"
            )
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
        sizes = check_batch_sizes(sizes, self.term_names)
        for name, term in self.terms.items():  # a term on another's points takes its size unless named
            if term.points_of is not None and name not in sizes and term.points_of in sizes:
                sizes[name] = sizes[term.points_of]
        terms = {name: dataclasses.replace(t, batch_size=int(sizes.get(name, t.batch_size))) for name, t in self.terms.items()}
        return dataclasses.replace(self, terms=terms)

    def with_unknowns(self, fields: Mapping[str, Mapping]) -> Problem:
        """A copy with the named unknowns' fields replaced (``{"k": {"init": 2.0}}``: ``k`` starts at
        2, its other fields kept), checked again as a new ``Problem``; a name that is not one of its
        unknowns is a ``KeyError`` listing them."""
        for name in fields:
            if name not in self.unknowns:
                raise KeyError(f"problem {self.name!r} has no unknown {name!r}; its unknowns are {list(self.unknowns)}")
        unknowns = {name: dataclasses.replace(u, **fields.get(name, {})) for name, u in self.unknowns.items()}
        return dataclasses.replace(self, unknowns=unknowns)


def check_exact(exact, problem: str) -> Callable[[jax.Array], jax.Array]:
    """``exact`` if it is a function of one point (``exact(z) -> scalar``), else a ``TypeError`` saying so."""
    _check_positional(
        exact,
        1,
        f"{problem}: exact must be a function of one point z returning a scalar, e.g. exact=lambda z: jnp.sin(z[0]) * z[1]; "
        "{signature} is not",
    )
    return exact


def check_names(names, terms: Mapping[str, object] | tuple[str, ...], what: str = "weight") -> None:
    """Raise a ``KeyError`` naming the valid terms if any of ``names`` is not one of them
    (with the closest valid name when one name is wrong)."""
    valid = list(terms)
    names = [names] if isinstance(names, str) else list(names)
    bad = [n for n in names if n not in valid]
    if bad:
        close = difflib.get_close_matches(str(bad[0]), valid, n=1) if len(bad) == 1 else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown {what} name(s) {bad}{hint}; valid term names are {valid}")


def check_batch_sizes(sizes: int | Mapping[str, int], terms: tuple[str, ...]) -> dict[str, int]:
    """``{term: points a step}`` from ``sizes``: one integer for every term, or some of
    ``terms`` by name; a ``KeyError`` for a name that is not a term, a ``ValueError`` for a
    size below 1.

    Example:
        >>> check_batch_sizes(64, ("res", "bcs")), check_batch_sizes({"bcs": 32}, ("res", "bcs"))
        ({'res': 64, 'bcs': 64}, {'bcs': 32})
    """
    named = dict.fromkeys(terms, sizes) if isinstance(sizes, int) else dict(sizes)
    check_names(named, terms, what="batch size")
    for name, n in named.items():
        if int(n) < 1:
            where = "batch_size" if isinstance(sizes, int) else f"batch_size[{name!r}]"
            raise ValueError(f"{where} must be a positive integer, got {n}")
    return named


def sample_batch(problem: Problem, key: jax.Array, dtype=jnp.float32) -> dict[str, jax.Array]:
    """Fresh points for every term, each term from its own sub-key; a term with ``points_of``
    gets that term's points (its sub-key goes unused, so the others' draws do not change)."""
    keys = jax.random.split(key, len(problem.terms))
    own = {name: t.sampler(k, t.batch_size, dtype) for (name, t), k in zip(problem.terms.items(), keys) if t.points_of is None}
    return {name: own[t.points_of or name] for name, t in problem.terms.items()}


def check_shared_points(problem: Problem) -> None:
    """Raise a ``ValueError`` if a term's ``points_of`` names no term, a term that itself
    borrows its points, or a term with another batch size (each message says the fix)."""
    for name, term in problem.terms.items():
        owner = term.points_of
        if owner is None:
            continue
        where = f"problem {problem.name!r}, term {name!r}: points_of={owner!r}"
        if owner not in problem.terms or owner == name:
            raise ValueError(f"{where} must name another of its terms {[n for n in problem.terms if n != name]}")
        if problem.terms[owner].points_of is not None:
            raise ValueError(
                f"{where} borrows from a term that borrows itself; name the term that draws: {problem.terms[owner].points_of!r}"
            )
        if term.batch_size != problem.terms[owner].batch_size:
            raise ValueError(
                f"{where} uses {owner!r}'s points, so it has its batch size ({problem.terms[owner].batch_size}), not "
                f"{term.batch_size}: give both the same batch size, or leave {name!r} out of the batch sizes"
            )


def term_residuals(term: Term, u: Field, points: jax.Array) -> jax.Array:
    """One term's residuals at its points, as ``(n, components)``.

    The residual sees ``one_point_field(u)``: the network refuses a stack of points, so a
    stacked term's residual written ``u(zs)`` instead of ``jax.vmap(u)(zs)`` is an error,
    not a silent evaluation of the stack's first piece only.
    """
    field, given = one_point_field(u, term.description), unknown_arguments(term, u)
    r = jax.vmap(lambda p: term.residual(field, p, **given))(points)
    return r.reshape(r.shape[0], -1)


def unknown_arguments(term: Term, u: Field) -> dict:
    """The unknowns ``term``'s residual asks for (its keyword-only parameters), taken from the
    field ``u`` of a network with unknowns (``nn.with_unknowns``); ``{}`` when it asks for none."""
    names = residual_unknowns(term.residual)
    if not names:
        return {}
    values = getattr(u, "unknowns", None)
    if values is None or any(n not in values for n in names):
        what = f"term {term.description!r}" if term.description else "a term"
        raise TypeError(
            f"{what}: its residual takes the unknown parameter(s) {list(names)}, but the network field carries "
            f"{sorted(values or {})}; train through pinnbalance.training, or build the network as training does, "
            "pinnbalance.nn.hard.for_problem(problem, network), and use its params"
        )
    return {n: values[n] for n in names}


def one_point_field(u: Field, description: str = "") -> Field:
    """``u`` that raises a ``ValueError`` when called on an array of two or more dimensions.

    A network field takes one point ``z`` of shape ``(d,)``. Given a ``(k, d)`` stack (a
    stacked term's point) an MLP computes ``(k, outputs)`` and, with one output, returns
    the first row: the other pieces silently drop out of the loss. Inside
    ``jax.vmap(u)(zs)`` the field sees one ``(d,)`` point, so the right way passes. The
    fast derivative paths (``u.taylor1``, ``u.taylor2``) are forwarded with the same check.

    Example:
        >>> import jax.numpy as jnp
        >>> field = one_point_field(lambda z: z[0] + z[1])
        >>> float(field(jnp.array([1.0, 2.0]))), jax.vmap(field)(jnp.ones((3, 2))).shape
        (3.0, (3,))
    """
    return _OnePointField(u, description)


class _OnePointField:
    def __init__(self, u: Field, description: str):
        self._u, self._description = u, description

    def __call__(self, z):
        _check_one_point(z, self._description)
        return self._u(z)

    def __getattr__(self, name):  # only for attributes not set above: the field's own (taylor1, taylor2, ...)
        if name.startswith("_"):  # copy/pickle probing before __init__ ran: no recursion through self._u
            raise AttributeError(name)
        attr = getattr(self._u, name)
        if name not in ("taylor1", "taylor2"):
            return attr

        def checked(z, *args, **kwargs):
            _check_one_point(z, self._description)
            return attr(z, *args, **kwargs)

        return checked


def _check_one_point(z, description: str) -> None:
    if jnp.ndim(z) >= 2:
        what = f"term {description!r}" if description else "a term"
        raise ValueError(
            f"{what}: the residual called the network on an array of shape {tuple(jnp.shape(z))}, but u takes ONE point "
            "of shape (d,). A stacked term's point (domain.stacked) is a (k, d) stack of pieces: evaluate it as "
            "jax.vmap(u)(zs) (and derivatives per piece, inside a vmap), not u(zs), which would use only the first piece"
        )


def residuals(problem: Problem, u: Field, batch: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """Each term's residuals at its points: ``{name: (n, components)}``."""
    return {name: term_residuals(term, u, batch[name]) for name, term in problem.terms.items()}
