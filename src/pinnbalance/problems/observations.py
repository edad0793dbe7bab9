"""Observed data as a loss term: a table of points and measured values, and its misfit term.

An inverse problem (or a forward one with measurements) adds a term that pulls the network
towards observed values ``y_j`` at points ``z_j``:

    L_data = (1/n) sum_j sum_c (u_{c_c}(z_j) - y_{j,c})^2,

where ``c_1, ..., c_k`` are the network output components the values observe (all of them
by default). ``data_term`` builds that term as an ordinary ``Term``, so it is weighted,
balanced and logged like the PDE terms; its "points" are table rows, each row the point's
coordinates followed by its observed values, and its sampler draws rows of the table.

Tables come from arrays (``observations_from_arrays``) or files (``load_observations``):

- ``.npz`` (``numpy.savez``): coordinates and values named by their keys;
- ``.csv``: comma-separated, with or without a header row of names;
- anything else (``.dat``, ``.txt``): whitespace-separated columns (COMSOL exports such as
  PINNacle's reference files).

In text files blank lines and lines starting with ``#`` or ``%`` are comments. A first row
in which no cell is a number is the header; without one, a last comment line just before
the data with one non-numeric name per column is taken as the header (``numpy.savetxt``
writes ``# x,y,u``). Columns are picked by name or by 0-based index. Every problem with a
file (wrong column count, a cell that is not a number, NaN or inf, a point outside the
domain, no data) is an ``ObservationError`` naming the file, the line as an editor numbers
it (1-based) and the fix.

Example:
    >>> import jax, jax.numpy as jnp, numpy as np
    >>> obs = observations_from_arrays([[0.0, 0.5], [1.0, 0.5]], [1.0, 3.0])
    >>> term = data_term(obs)
    >>> u = lambda z: 2.0 * z[0]              # a "network": u(t, x) = 2 t
    >>> rows = term.sampler(jax.random.PRNGKey(0), term.batch_size, jnp.float32)
    >>> float(jnp.mean(jax.vmap(lambda p: term.residual(u, p))(rows) ** 2))  # ((0-1)^2 + (2-3)^2) / 2
    1.0
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.problems.base import Term

COMMENTS = ("#", "%")
Column = str | int


class ObservationError(ValueError):
    """Observed data cannot be used; the message names the source, the row and the fix."""


@dataclass(frozen=True, eq=False)
class Observations:
    """Observed ``values`` ``(n, k)`` at ``points`` ``(n, d)`` (float64 numpy arrays).

    ``components`` are the network output components the k value columns observe (None:
    the network has exactly k outputs and all are observed). ``source`` names where the
    data came from, for messages; ``lines`` the 1-based file line of each row (None for
    arrays: rows are then numbered 1..n).
    """

    points: np.ndarray
    values: np.ndarray
    components: tuple[int, ...] | None = None
    source: str = "observations"
    lines: tuple[int, ...] | None = None

    def __post_init__(self):
        p, v = self.points, self.values
        if p.ndim != 2 or v.ndim != 2 or p.shape[0] != v.shape[0]:
            raise ObservationError(
                f"{self.source}: points must be (n, d) and values (n, k) with the same n; got {p.shape} and {v.shape}"
            )
        if self.components is not None and len(self.components) != v.shape[1]:
            raise ObservationError(
                f"{self.source}: {v.shape[1]} value column(s) but components={self.components} names {len(self.components)} "
                "output(s); give one network output component per value column"
            )

    @property
    def size(self) -> int:
        return self.points.shape[0]

    @property
    def dim(self) -> int:
        return self.points.shape[1]

    def row_name(self, i: int) -> str:
        """How a user finds row ``i`` (0-based): its file line, or its 1-based row number."""
        return f"line {self.lines[i]}" if self.lines is not None else f"row {i + 1}"


# ---- building and checking -------------------------------------------------------------


def observations_from_arrays(
    points,
    values,
    *,
    components: Sequence[int] | int | None = None,
    domain=None,
    tolerance: float = 1e-6,
    source: str = "observations",
    lines: Sequence[int] | None = None,
) -> Observations:
    """Observations from arrays: ``points`` ``(n, d)`` (or ``(n,)`` for d = 1), ``values`` ``(n,)`` or ``(n, k)``.

    ``domain``: any object with ``inside(points) -> (n,) bool``, or a box with ``lower`` and
    ``upper`` bounds (a ``Box``; points may stick out by ``tolerance`` times a side's length).

    Example:
        >>> obs = observations_from_arrays([[0.0], [1.0]], [[2.0, 3.0], [4.0, 5.0]], components=(0, 2))
        >>> obs.points.shape, obs.values.shape, obs.components
        ((2, 1), (2, 2), (0, 2))
    """
    pts = _float_array(points, source, "points")
    vals = _float_array(values, source, "values")
    pts = pts[:, None] if pts.ndim == 1 else pts
    vals = vals[:, None] if vals.ndim == 1 else vals
    if pts.ndim != 2 or vals.ndim != 2:
        raise ObservationError(f"{source}: points must be (n, d) and values (n,) or (n, k); got {pts.shape} and {vals.shape}")
    if pts.shape[0] != vals.shape[0]:
        raise ObservationError(f"{source}: {pts.shape[0]} points but {vals.shape[0]} values; give one row of values per point")
    obs = Observations(pts, vals, _components(components, source), source, None if lines is None else tuple(lines))
    if obs.size == 0:
        raise ObservationError(f"{source} holds no observations; give at least one point and its value")
    _check_finite(obs)
    if domain is not None:
        _check_inside(obs, domain, tolerance)
    return obs


def _float_array(a, source: str, what: str) -> np.ndarray:
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ObservationError(f"{source}: {what} are not a rectangular array of numbers ({err}); pass numeric arrays") from None


def _components(components, source: str) -> tuple[int, ...] | None:
    if components is None:
        return None
    comps = (components,) if isinstance(components, int) else tuple(components)
    if not comps or not all(isinstance(c, int | np.integer) and c >= 0 for c in comps):
        raise ObservationError(f"{source}: components must be non-negative output indices, e.g. 0 or (0, 2); got {components!r}")
    return tuple(int(c) for c in comps)


def _check_finite(obs: Observations) -> None:
    for what, table in (("coordinate", obs.points), ("value", obs.values)):
        bad = np.argwhere(~np.isfinite(table))
        if bad.size:
            i, j = (int(x) for x in bad[0])
            raise ObservationError(
                f"{obs.source}, {obs.row_name(i)}: {what} {j + 1} is {table[i, j]} (not finite); "
                f"{len(np.unique(bad[:, 0]))} row(s) have NaN or inf. Remove those rows or fix the values"
            )


def _check_inside(obs: Observations, domain, tolerance: float) -> None:
    if hasattr(domain, "lower") and hasattr(domain, "upper"):  # a box: bounds with a tolerance, named in the message
        lower, upper = np.asarray(domain.lower, np.float64), np.asarray(domain.upper, np.float64)
        if lower.shape != (obs.dim,):
            raise ObservationError(
                f"{obs.source}: points have {obs.dim} coordinates but the domain has {lower.size}; "
                "pick one column per domain coordinate"
            )
        slack = tolerance * (upper - lower)
        inside = np.all((obs.points >= lower - slack) & (obs.points <= upper + slack), axis=1)
        names = getattr(domain, "names", [f"z{i}" for i in range(obs.dim)])
        where = "the domain " + " x ".join(f"{n} in [{lo:g}, {hi:g}]" for n, lo, hi in zip(names, lower, upper))
    elif hasattr(domain, "inside"):
        inside = np.asarray(domain.inside(obs.points), dtype=bool).reshape(-1)
        where = f"the domain {domain!r}"
    else:
        raise TypeError(f"domain must have an inside(points) method or lower/upper bounds (a Box); got {type(domain).__name__}")
    if inside.shape != (obs.size,):
        raise TypeError(f"domain.inside(points) must return one bool per point, {obs.size}, got shape {inside.shape}")
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        point = ", ".join(f"{x:g}" for x in obs.points[i])
        raise ObservationError(
            f"{obs.source}, {obs.row_name(i)}: point ({point}) lies outside {where} "
            f"({int((~inside).sum())} of {obs.size} points do). Check the column order and units, or drop those rows"
        )


# ---- files -----------------------------------------------------------------------------


def load_observations(
    path: str | os.PathLike,
    *,
    coords: Sequence[Column],
    values: Column | Sequence[Column] | None = None,
    components: Sequence[int] | int | None = None,
    domain=None,
    tolerance: float = 1e-6,
) -> Observations:
    """Read observations from a ``.npz``, ``.csv`` or whitespace-column file (see the module doc).

    ``coords`` picks the point columns in the order the network takes them; ``values`` the
    observed columns (default: every column not in ``coords``). Columns are names (a header
    row, or npz keys) or 0-based indices (text files). ``components``, ``domain``,
    ``tolerance``: as in ``observations_from_arrays``.

    Example (PINNacle's heat inverse data, shipped with pinnbalance)::

        from pinnbalance.data import pinnacle_file
        obs = load_observations(pinnacle_file("heatinv_observations.csv"), coords=("x", "y", "t"), values="u_observed")
    """
    path = Path(path)
    coords = _columns(coords, path, "coords")
    value_cols = None if values is None else _columns([values] if isinstance(values, str | int) else values, path, "values")
    if not path.exists():
        raise FileNotFoundError(f"observation file {path} does not exist; check the path (working folder: {Path.cwd()})")
    if path.suffix.lower() == ".npz":
        if value_cols is None:
            raise ObservationError(f"{path}: name the value arrays, e.g. values='u' (an .npz has no column order)")
        pts, vals = _npz_columns(path, coords), _npz_columns(path, value_cols)
        lines = None
    else:
        header, table, lines = _read_text(path)
        pick = _resolve(path, header, table.shape[1], coords)
        rest = [j for j in range(table.shape[1]) if j not in pick]
        vpick = rest if value_cols is None else _resolve(path, header, table.shape[1], value_cols)
        if not vpick:
            raise ObservationError(f"{path}: every column is a coordinate; name the value column(s) with values=")
        pts, vals = table[:, pick], table[:, vpick]
    return observations_from_arrays(
        pts, vals, components=components, domain=domain, tolerance=tolerance, source=str(path), lines=lines
    )


def _columns(cols, path: Path, what: str) -> list[Column]:
    cols = [cols] if isinstance(cols, str | int) else list(cols)
    ok = all(isinstance(c, str) and c or isinstance(c, int | np.integer) and c >= 0 for c in cols)
    if not cols or not ok:
        raise ObservationError(f"{path}: {what} must be column names or 0-based indices, e.g. ('x', 't') or (0, 1); got {cols!r}")
    return cols


def _resolve(path: Path, header: list[str] | None, width: int, cols: list[Column]) -> list[int]:
    out = []
    for c in cols:
        if isinstance(c, str):
            if header is None:
                raise ObservationError(
                    f"{path} has no header row, so column {c!r} cannot be found by name; pick columns by 0-based index, "
                    f"0 to {width - 1}, or add a header row of names"
                )
            if c not in header:
                raise ObservationError(f"{path}: no column named {c!r}; the header names {header}")
            out.append(header.index(c))
        elif c >= width:
            raise ObservationError(f"{path}: column index {c} but the rows have {width} columns (indices 0 to {width - 1})")
        else:
            out.append(int(c))
    return out


def _npz_columns(path: Path, keys: list[Column]) -> np.ndarray:
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:  # a broken zip, a .npy renamed, pickled objects: never unpickle a data file
        raise ObservationError(
            f"{path} is not a readable .npz archive ({err}); write it with numpy.savez(path, x=..., u=...)"
        ) from None
    if not hasattr(archive, "files"):
        raise ObservationError(f"{path} holds one unnamed array; write an archive with numpy.savez(path, x=..., u=...)")
    with archive:
        bad = [k for k in keys if not isinstance(k, str) or k not in archive.files]
        if bad:
            raise ObservationError(f"{path}: no array named {bad}; the archive holds {list(archive.files)}")
        arrays = [archive[k] for k in keys]
    cols = []
    for k, a in zip(keys, arrays):
        if a.dtype.kind not in "iuf" or a.ndim not in (1, 2):
            raise ObservationError(
                f"{path}: array {k!r} is {a.dtype} of shape {a.shape}; give numbers as (n,) columns or one (n, m) array"
            )
        cols.append(a.reshape(a.shape[0], -1).astype(np.float64))
    lengths = {k: c.shape[0] for k, c in zip(keys, cols)}
    if len(set(lengths.values())) != 1:
        raise ObservationError(f"{path}: arrays of different lengths {lengths}; give every column one entry per point")
    return np.concatenate(cols, axis=1)


def _read_text(path: Path) -> tuple[list[str] | None, np.ndarray, tuple[int, ...]]:
    """``(header, table (n, m), 1-based file line of each row)`` of a text file."""
    try:
        text = path.read_text(encoding="utf-8")  # COMSOL exports carry UTF-8 comments
    except UnicodeDecodeError:
        raise ObservationError(f"{path} is not a text file; give rows of numbers (or save an .npz)") from None
    comma = path.suffix.lower() == ".csv"
    split = (lambda s: [c.strip() for c in next(csv.reader([s]))]) if comma else str.split
    rows, last_comment = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(COMMENTS):
            if not rows:
                last_comment = (number, stripped.lstrip("#%").strip())
            continue
        rows.append((number, split(stripped)))
    if not rows:
        raise ObservationError(f"{path} holds no data rows (only blank or comment lines); add one row of numbers per point")
    header = None
    if not any(_is_number(c) for c in rows[0][1]):
        header = rows.pop(0)[1]
        if not rows:
            raise ObservationError(f"{path} has a header row {header} but no data rows; add one row of numbers per point")
    elif last_comment is not None and last_comment[0] == rows[0][0] - 1:
        names = split(last_comment[1])
        if len(names) == len(rows[0][1]) and not any(_is_number(c) for c in names):
            header = names
    width = len(header) if header is not None else len(rows[0][1])
    table = np.empty((len(rows), width))
    for r, (number, cells) in enumerate(rows):
        if len(cells) != width:
            first = "the header has" if header is not None else f"the first data row (line {rows[0][0]}) has"
            raise ObservationError(
                f"{path}, line {number}: {len(cells)} columns but {first} {width}; give every row the same columns"
                + (" separated by commas" if comma else " separated by spaces")
            )
        for j, cell in enumerate(cells):
            table[r, j] = _cell(path, number, j, header, cell)
    return header, table, tuple(n for n, _ in rows)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cell(path: Path, line: int, j: int, header, cell: str) -> float:
    column = f"column {j + 1}" + (f" ({header[j]!r})" if header is not None else "")
    try:
        x = float(cell)
    except ValueError:
        raise ObservationError(
            f"{path}, line {line}, {column}: {cell!r} is not a number; data rows must hold numbers only"
        ) from None
    if not math.isfinite(x):
        raise ObservationError(f"{path}, line {line}, {column}: {cell!r} is not finite; remove the row or fix the value")
    return x


# ---- the loss term ---------------------------------------------------------------------


def data_term(observations: Observations, *, batch_size: int | None = None, description: str | None = None) -> Term:
    """A ``Term`` whose residual is ``u_c(z) - y`` at observed rows: its loss is the mean squared misfit.

    Each "point" the trainer draws is one table row, ``[z_1..z_d, y_1..y_k]``. With
    ``batch_size=None`` every step sees the whole table (batch size n, rows in file order);
    a smaller batch is a uniform draw of rows without replacement; a larger one repeats
    the whole table ``batch_size // n`` times plus a draw of the remainder (so a multiple of
    n gives the exact full-table loss). The network must give one output per value column,
    or ``observations.components`` must say which outputs are observed.

    Example:
        >>> obs = observations_from_arrays([[0.0], [1.0], [2.0]], [0.0, 1.0, 5.0])
        >>> term = data_term(obs, batch_size=2)
        >>> term.sampler(jax.random.PRNGKey(0), 2, jnp.float32).shape  # rows of [z, y]
        (2, 2)
    """
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"data_term batch_size must be a positive integer or None (the whole table), got {batch_size!r}")
    table = np.concatenate([observations.points, observations.values], axis=1)
    n, d, k = observations.size, observations.dim, observations.values.shape[1]
    comps = observations.components

    def residual(u, row):
        out = jnp.reshape(u(row[:d]), (-1,))
        if comps is not None:
            if max(comps) >= out.shape[0]:
                raise ValueError(
                    f"data term on {observations.source}: components {comps} but the network gives {out.shape[0]} output(s); "
                    f"pick components below {out.shape[0]}"
                )
            out = out[jnp.asarray(comps)]
        elif out.shape[0] != k:
            raise ValueError(
                f"data term on {observations.source}: the network gives {out.shape[0]} outputs but each row holds {k} "
                "observed value(s); say which outputs they observe with components=(...)"
            )
        return out - row[d:]

    def sample(key: jax.Array, size: int, dtype=jnp.float32) -> jax.Array:
        rows = jnp.asarray(table, dtype)
        if size == n:
            return rows
        picked = jax.random.permutation(key, n)[: size % n]
        index = jnp.concatenate([jnp.tile(jnp.arange(n), size // n), picked])
        return rows[index]

    what = "all outputs" if comps is None else f"output(s) {list(comps)}"
    text = description or f"misfit to {n} observations of {what} from {observations.source}"
    return Term(residual, sample, n if batch_size is None else batch_size, text)
