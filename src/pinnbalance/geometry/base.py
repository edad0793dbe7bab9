"""What every geometry gives, written once on top of four things each shape supplies.

A shape supplies its coordinate ``names``, ``inside(points)`` (jittable, closed set),
``bounds()`` (a bounding box) and two descriptions:

* a ``Proposal``: an exact uniform sampler of a region P of known measure that contains the
  shape (the shape itself for a box, ball or polygon; an operand or the bounding box for CSG);
* its boundary ``Patch``es: surfaces with an exact uniform sampler, their outward unit
  normal and exact measure, each NAMED (several patches may share a name: one piece).

From these, uniform interior points are the proposals that land inside (rejection with fixed
shapes when P is larger, ``geometry.rejection``), and uniform boundary points are a mixture of
patches weighted by their measure. A patch that is only partly boundary (``trimmed``: a disk's
circle partly covered by another disk in a union) keeps the candidates ``(x, n)`` with

    x + eps n  outside the geometry   and   x - eps n  inside it,          (*)

which is exactly "x lies on the boundary and n is the outward normal there" up to a band of
width ``eps = sqrt(machine eps) * scale`` (scale: the largest bounding-box coordinate or side).
Rule (*) needs only ``inside``, so it holds for any nesting of unions, intersections and
differences; a face shared by two operands with OPPOSITE normals is resolved by it (the face
between two adjacent boxes of a union is dropped; a hole's face lying on the outer boundary is
dropped). Known limit: a face that two operands share on the SAME side (an intersection of two
boxes with a common face, a union with a box inside another touching its face) passes (*) from
both operands and is counted twice in measure; offset one operand to avoid it.

Example:
    >>> import jax
    >>> from pinnbalance.geometry import Box, Disk
    >>> plate = Box((0.0, 0.0), (2.0, 1.0)) - Disk((1.0, 0.5), 0.25).named("hole")
    >>> plate.pieces()
    ('x_min', 'x_max', 'y_min', 'y_max', 'hole')
    >>> points, normals = plate.sample_boundary(jax.random.PRNGKey(0), 4, piece="hole")
    >>> points.shape, normals.shape
    ((4, 2), (4, 2))
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.geometry import arrays, estimate
from pinnbalance.geometry.errors import EmptyGeometryError, GeometryError
from pinnbalance.geometry.measure import MC_BOUNDARY_SAMPLES, MC_SAMPLES, Measure, monte_carlo, total
from pinnbalance.geometry.rejection import candidates_needed, check_landed, safe_acceptance, take_first

PointSampler = Callable[[jax.Array, int, jnp.dtype], jax.Array]
SurfaceSampler = Callable[[jax.Array, int, jnp.dtype], tuple[jax.Array, jax.Array]]


@dataclass(frozen=True)
class Proposal:
    """Uniform points on a region of exact ``measure`` containing the geometry; ``exact``: the region IS the geometry.

    ``sample(key, n, dtype)`` takes a JAX key (jittable), or a ``numpy.random.Generator`` for
    the host estimates when written with ``geometry.arrays`` (as every shape here is).
    """

    sample: PointSampler
    measure: float
    exact: bool


@dataclass(frozen=True)
class Patch:
    """A named surface: ``propose(key, n, dtype) -> (points, outward normals)`` uniform on it, of ``measure``.

    ``trimmed``: only part of the surface is boundary; keep candidates by rule (*) (module docstring).
    ``propose`` takes a JAX key or a NumPy generator, as ``Proposal.sample``.
    """

    name: str
    propose: SurfaceSampler
    measure: Measure
    trimmed: bool = False

    def renamed(self, name: str) -> Patch:
        return Patch(name, self.propose, self.measure, self.trimmed)


class Geometry(abc.ABC):
    """A region of R^d with named coordinates and named boundary pieces (see the module docstring).

    Subclasses are frozen dataclasses with a ``names`` field (or property) and implement
    ``inside``, ``bounds``, ``proposal`` and ``patches``. Their fields must be hashable (tuples,
    not lists or arrays): the geometry keys its compiled samplers.
    """

    names: tuple[str, ...]

    # -- what a shape supplies -------------------------------------------------------------
    @abc.abstractmethod
    def inside(self, points: jax.Array) -> jax.Array:
        """Whether each point (last axis: coordinates) lies in the closed region; jittable.

        NumPy points give a NumPy answer (``geometry.arrays``): the host estimates use it.
        """

    @abc.abstractmethod
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(lower, upper)`` of a box containing the region."""

    @abc.abstractmethod
    def proposal(self) -> Proposal:
        """An exact sampler of a region containing this one (see ``Proposal``)."""

    @abc.abstractmethod
    def patches(self) -> tuple[Patch, ...]:
        """The boundary as named patches (see ``Patch``)."""

    # -- coordinates and normalisation -----------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.names)

    def axis(self, name: str) -> int:
        """Index of the coordinate called ``name``."""
        if name not in self.names:
            raise KeyError(f"unknown coordinate {name!r}; this geometry has {list(self.names)}")
        return self.names.index(name)

    def mean(self) -> tuple[float, ...]:
        """Centre of the bounding box: the mean of the uniform law on it (for input normalisation)."""
        lower, upper = self.bounds()
        return tuple((lo + hi) / 2 for lo, hi in zip(lower, upper))

    def std(self) -> tuple[float, ...]:
        """``(hi - lo) / sqrt(12)`` per coordinate: the std of the uniform law on the bounding box."""
        lower, upper = self.bounds()
        return tuple((hi - lo) / 12**0.5 for lo, hi in zip(lower, upper))

    def check_points(self, points: jax.Array) -> jax.Array:
        """``points`` as an array whose last axis has ``dim`` entries, else a ``GeometryError``."""
        points = arrays.namespace(points).asarray(points)
        if points.ndim == 0 or points.shape[-1] != self.dim:
            raise GeometryError(
                f"points must have {self.dim} coordinates {list(self.names)} on their last axis, got shape {tuple(points.shape)}"
            )
        return points

    # -- interior ----------------------------------------------------------------------------
    @functools.cached_property
    def _interior_landed(self) -> int:
        """How many of ``MC_SAMPLES`` fixed-seed proposals land inside (all when the proposal is exact).

        Counted on the host on first use (``geometry.estimate``), so a geometry that is only an
        operand (the inner differences of a chain) pays for its construction checks alone.
        """
        proposal = self.proposal()
        return MC_SAMPLES if proposal.exact else estimate.count_inside(self, proposal.sample, MC_SAMPLES)

    def _patch_landed_at(self, index: int) -> int:
        """How many of ``MC_BOUNDARY_SAMPLES`` proposals on patch ``index`` are boundary by rule (*) (all if untrimmed)."""
        counts = self.__dict__.setdefault("_patch_counts", {})  # a cache beside the fields, like cached_property's
        if index not in counts:
            patch = self.patches()[index]
            landed = estimate.count_boundary(self, patch, index, MC_BOUNDARY_SAMPLES) if patch.trimmed else MC_BOUNDARY_SAMPLES
            counts[index] = landed
        return counts[index]

    def measure(self) -> Measure:
        """Length, area or volume: exact for shapes, ``|P| k / N`` (``measure.monte_carlo``) for CSG."""
        proposal = self.proposal()
        if proposal.exact:
            return Measure(proposal.measure)
        return monte_carlo(proposal.measure, self._interior_landed, MC_SAMPLES)

    def sample_interior(self, key: jax.Array, n: int, dtype=jnp.float32, *, oversample: float | None = None) -> jax.Array:
        """``n`` uniform points inside, shape ``(n, dim)``; fixed shapes, so jittable and vmappable.

        Exact for boxes, balls and polygons. Otherwise the first ``n`` of ``m`` proposals that
        land inside, ``m`` from ``rejection.candidates_needed`` (or ``ceil(oversample * n)``);
        a shortfall raises ``TooFewPointsError`` eagerly, and gives NaN rows under a trace.
        """
        if self.proposal().exact:  # a NumPy generator: a host estimate's draw (a time slice of a cylinder)
            return (
                self.proposal().sample(key, n, dtype) if arrays.is_host(key) else _exact_interior(self, key, n, jnp.dtype(dtype))
            )
        m = self._candidates(n, self._interior_landed, MC_SAMPLES, oversample, "interior")
        points, count = _interior_by_rejection(self, key, n, m, jnp.dtype(dtype))
        check_landed(count, n, f"{type(self).__name__}.sample_interior", m)
        return points

    def _candidates(self, n: int, landed: int, samples: int, oversample: float | None, what: str) -> int:
        if oversample is not None:
            return max(n, math.ceil(oversample * n))
        if landed == 0:
            raise EmptyGeometryError(f"{type(self).__name__}: no {what} point landed in {samples} proposals; the {what} is empty")
        return candidates_needed(n, safe_acceptance(landed, samples))

    # -- boundary ----------------------------------------------------------------------------
    def pieces(self) -> tuple[str, ...]:
        """Names of the boundary pieces, in order of first appearance."""
        return tuple(dict.fromkeys(p.name for p in self.patches()))

    def _select(self, piece: str | Sequence[str] | None) -> tuple[tuple[int, Patch], ...]:
        patches = self.patches()
        if piece is None:
            return tuple(enumerate(patches))
        wanted = (piece,) if isinstance(piece, str) else tuple(piece)
        unknown = [w for w in wanted if w not in self.pieces()]
        if unknown or not wanted:
            raise KeyError(f"unknown boundary piece(s) {unknown or wanted!r}; this geometry's pieces are {list(self.pieces())}")
        return tuple((i, p) for i, p in enumerate(patches) if p.name in wanted)

    def _patch_measure(self, index: int, patch: Patch) -> Measure:
        if not patch.trimmed:
            return patch.measure
        q = monte_carlo(1.0, self._patch_landed_at(index), MC_BOUNDARY_SAMPLES)
        value = patch.measure.value * q.value
        stderr = math.hypot(patch.measure.value * q.stderr, q.value * patch.measure.stderr)
        return Measure(value, stderr, MC_BOUNDARY_SAMPLES + patch.measure.samples)

    def boundary_measure(self, piece: str | Sequence[str] | None = None) -> Measure:
        """Length (2-D), area (3-D) or count (1-D) of the boundary, or of the named piece(s)."""
        return total(self._patch_measure(i, p) for i, p in self._select(piece))

    def on_boundary(self, points: jax.Array, normals: jax.Array) -> jax.Array:
        """Rule (*): ``x + eps n`` outside and ``x - eps n`` inside, ``eps = sqrt(machine eps) * scale``."""
        lower, upper = self.bounds()
        scale = max(max(abs(v) for v in lower + upper), max(hi - lo for lo, hi in zip(lower, upper)))
        eps = math.sqrt(float(jnp.finfo(points.dtype).eps)) * scale
        return ~self.inside(points + eps * normals) & self.inside(points - eps * normals)

    def sample_boundary(
        self,
        key: jax.Array,
        n: int,
        dtype=jnp.float32,
        piece: str | Sequence[str] | None = None,
        *,
        oversample: float | None = None,
    ) -> tuple[jax.Array, jax.Array]:
        """``n`` points uniform in boundary measure over ``piece`` (a name, several, or all) and their OUTWARD unit normals.

        A mixture of the piece's patches with weights proportional to their measure; trimmed
        patches keep candidates by rule (*), with fixed shapes as in ``sample_interior``.
        Returns ``(points, normals)``, each ``(n, dim)``.
        """
        piece = piece if piece is None or isinstance(piece, str) else tuple(piece)
        selected = self._select(piece)
        m = n
        if any(p.trimmed for _, p in selected):
            parent = sum(p.measure.value for _, p in selected)
            kept = sum(self._patch_measure(i, p).value for i, p in selected)
            landed = round(kept / parent * MC_BOUNDARY_SAMPLES)
            m = self._candidates(n, landed, MC_BOUNDARY_SAMPLES, oversample, f"boundary piece {piece!r}")
        points, normals, count = _boundary_mixture(self, key, n, m, jnp.dtype(dtype), piece)
        check_landed(count, n, f"{type(self).__name__}.sample_boundary(piece={piece!r})", m)
        return points, normals

    # -- evaluation --------------------------------------------------------------------------
    def evaluation_points(self, n: int = 100, dtype=jnp.float32) -> jax.Array:
        """The points of the ``n``-per-axis grid of the bounding box that lie inside, ``(count, dim)``.

        ``count`` (``len`` of the result) is at most ``n ** dim``; the grid includes the box's
        faces. Raises ``EmptyGeometryError`` if no grid point is inside (use a larger ``n``).
        """
        lower, upper = self.bounds()
        axes = [np.linspace(lo, hi, n) for lo, hi in zip(lower, upper)]
        grid = np.stack([a.reshape(-1) for a in np.meshgrid(*axes, indexing="ij")], axis=-1)
        grid = jnp.asarray(grid, dtype)
        inside = np.asarray(jax.jit(self.inside)(grid))
        if not inside.any():
            raise EmptyGeometryError(
                f"{type(self).__name__}: none of the {n}^{self.dim} evaluation grid points lies inside; pass a larger n"
            )
        return grid[inside]

    # -- composition -------------------------------------------------------------------------
    def named(self, names: str | Mapping[str, str]) -> Geometry:
        """The same region with renamed boundary pieces: one name for all, or ``{old: new}``."""
        from pinnbalance.geometry.named import Named

        rename = {p: names for p in self.pieces()} if isinstance(names, str) else dict(names)
        return Named(self, tuple(rename.items()))

    def __or__(self, other: Geometry) -> Geometry:
        from pinnbalance.geometry.csg import Union

        return Union(self, other)

    def __and__(self, other: Geometry) -> Geometry:
        from pinnbalance.geometry.csg import Intersection

        return Intersection(self, other)

    def __sub__(self, other: Geometry) -> Geometry:
        from pinnbalance.geometry.csg import Difference

        return Difference(self, other)


# One jit per geometry (static: frozen dataclasses hash by their fields) and call shape. Called
# eagerly, a sampler is then one compiled program, not one compile per primitive and shape (about
# a hundred for the first draws from a box minus four disks); inside the user's jit it is inlined.


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def _exact_interior(geom: Geometry, key: jax.Array, n: int, dtype) -> jax.Array:
    return geom.proposal().sample(key, n, dtype)


@functools.partial(jax.jit, static_argnums=(0, 2, 3, 4))
def _interior_by_rejection(geom: Geometry, key: jax.Array, n: int, m: int, dtype) -> tuple[jax.Array, jax.Array]:
    candidates = geom.proposal().sample(key, m, dtype)
    return take_first(candidates, geom.inside(candidates), n)


@functools.partial(jax.jit, static_argnums=(0, 2, 3, 4, 5))
def _boundary_mixture(geom: Geometry, key: jax.Array, n: int, m: int, dtype, piece) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``m`` candidates from the mixture of the piece's patches (weights: their measures), trimmed by rule (*)."""
    selected = geom._select(piece)
    keys = jax.random.split(key, len(selected) + 1)
    draws = [p.propose(k, m, dtype) for k, (_, p) in zip(keys, selected)]
    if len(draws) == 1:
        points, normals = draws[0]
        choice = jnp.zeros((m,), jnp.int32)
    else:
        weights = jnp.asarray([p.measure.value for _, p in selected], jnp.float32)
        choice = jax.random.categorical(keys[-1], jnp.log(weights), shape=(m,))
        rows = jnp.arange(m)
        points = jnp.stack([d[0] for d in draws])[choice, rows]
        normals = jnp.stack([d[1] for d in draws])[choice, rows]
    if not any(p.trimmed for _, p in selected):
        return points, normals, jnp.asarray(m)
    is_trimmed = jnp.asarray([p.trimmed for _, p in selected])[choice]
    keep = jnp.where(is_trimmed, geom.on_boundary(points, normals), True)
    both, count = take_first(jnp.concatenate([points, normals], axis=-1), keep, n)
    return both[:, : geom.dim], both[:, geom.dim :], count
