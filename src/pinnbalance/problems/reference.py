"""Reference solutions from files: ``.npz`` archives and ``.csv`` tables -> ``(points, values)``.

A problem without a closed-form solution measures its error against numerical reference
data (``Problem(reference_data=(points, values))``). ``load_reference`` reads it from

- ``.npz`` (``numpy.savez``), one array per name, in either layout:

  * columns: every coordinate and value array has the same shape (1-D columns of length
    m, or ``numpy.meshgrid`` outputs, flattened row-major);
  * grid: each coordinate is a 1-D axis of length n_i and each value array has shape
    ``(n_1, ..., n_d)`` (``indexing="ij"``: axis i of the values runs along coordinate i);

- ``.csv``: a header row of column names (a leading ``#`` is allowed, as ``numpy.savetxt``
  writes it), then one comma-separated row of numbers per point; blank lines and lines
  starting with ``#`` are skipped.

Points come back as ``(m, d)`` float64 in the order of ``coordinates``; values as ``(m,)``
for one value name, ``(m, k)`` for k names. Every problem with the file (missing, unknown
type, a name not present, ragged lengths, text or NaN entries, points outside the domain)
is an error naming the file, what is wrong and what to do.

Example:
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ref.npz")
    >>> np.savez(path, t=np.array([0.0, 0.5]), x=np.array([0.0, 1.0]), u=np.array([1.0, 2.0]))
    >>> points, values = load_reference(path, ["t", "x"], "u")
    >>> points.tolist(), values.tolist()
    ([[0.0, 0.0], [0.5, 1.0]], [1.0, 2.0])
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from pinnbalance.problems.domain import Box

FORMATS = (".npz", ".csv")


class ReferenceDataError(ValueError):
    """A reference data file cannot be used; the message names the file, the problem and the fix."""


class MissingColumnError(ReferenceDataError, KeyError):
    """A named coordinate or value is not in the file (also a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def load_reference(
    path: str | os.PathLike,
    coordinates: Sequence[str],
    value: str | Sequence[str],
    domain: Box | None = None,
    tolerance: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """Read reference ``(points, values)`` from a ``.npz`` or ``.csv`` file.

    ``coordinates`` names the point columns, in the order the problem's residuals take
    them (the domain's order); ``value`` names one value (values ``(m,)``) or several
    (values ``(m, k)``, e.g. ``["u", "v"]``). With ``domain``, the number and order of
    coordinates are checked against ``domain.names`` and every point must lie in the box,
    up to ``tolerance`` times each side's length (files often round the end points).

    Example (a grid saved from a solver; points in ``Box.grid`` order)::

        np.savez("ref.npz", t=t_axis, x=x_axis, u=u_grid)        # u_grid.shape == (len(t_axis), len(x_axis))
        points, values = load_reference("ref.npz", ["t", "x"], "u", domain=problem.domain)
        problem = dataclasses.replace(problem, reference_data=(points, values))
    """
    path = Path(path)
    coordinates = _names(coordinates, "coordinates")
    values_names = _names([value] if isinstance(value, str) else value, "value")
    duplicated = sorted(set(coordinates) & set(values_names))
    if duplicated:
        raise ReferenceDataError(f"{duplicated} named both as coordinate and as value; name each column once")
    if domain is not None:
        _check_coordinates(coordinates, domain)
    if not path.exists():
        raise FileNotFoundError(f"reference data file {path} does not exist; check the path (working folder: {Path.cwd()})")
    kind = path.suffix.lower()
    if kind == ".npz":
        points, values = _read_npz(path, coordinates, values_names)
    elif kind == ".csv":
        points, values = _read_csv(path, coordinates, values_names)
    else:
        raise ReferenceDataError(
            f"{path}: unknown reference file type {path.suffix or '(no extension)'!r}; "
            "save it as .npz (numpy.savez, one array per name) or .csv (a header row of names, then numbers)"
        )
    if len(points) == 0:
        raise ReferenceDataError(f"{path} holds no points; it needs at least one row of data")
    if domain is not None:
        _check_inside(path, points, domain, coordinates, tolerance)
    return points, values[:, 0] if isinstance(value, str) else values


# ---- names -----------------------------------------------------------------------------


def _names(names, what: str) -> list[str]:
    names = list(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ReferenceDataError(f"{what} must be one or more non-empty names, e.g. ['t', 'x'] and 'u'; got {names!r}")
    if len(set(names)) != len(names):
        raise ReferenceDataError(f"{what} {names} lists a name twice; name each column once")
    return names


def _suggest(name: str, present: Sequence[str]) -> str:
    """' (did you mean 'X'?)' for a case-insensitive or close match, else ''."""
    same_case = [p for p in present if p.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, list(present), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _missing(path: Path, wanted: Sequence[str], present: Sequence[str], kind: str) -> None:
    lost = [n for n in wanted if n not in present]
    if not lost:
        return
    hints = "".join(f"; for {n!r}{_suggest(n, present)}" for n in lost if _suggest(n, present))
    hint = ""
    if len(present) == 1 and any(sep in present[0] for sep in ";\t "):
        hint = f"; the header is one column {present[0]!r}: separate the names by commas"
    raise MissingColumnError(
        f"{path}: no {kind} named {lost}{hints}; it holds {list(present)}. "
        f"Pass the names the file uses, or rename its {kind}s{hint}"
    )


def _check_coordinates(coordinates: list[str], domain: Box) -> None:
    names = list(domain.names)
    if len(coordinates) != domain.dim:
        raise ReferenceDataError(
            f"the domain has {domain.dim} coordinates {names} but {len(coordinates)} were named {coordinates}; "
            f"name one file column per domain coordinate, in the order {names}"
        )
    if sorted(coordinates) == sorted(names) and coordinates != names:
        raise ReferenceDataError(
            f"coordinates {coordinates} are in another order than the domain's {names}; pass them as {names}"
        )


# ---- .npz ------------------------------------------------------------------------------


def _read_npz(path: Path, coordinates: list[str], values_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    unreadable = f"{path} is not a readable .npz archive; write it with numpy.savez(path, name=array, ...)"
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ReferenceDataError(f"{unreadable} ({err})") from None
    except ValueError:  # numpy would suggest allow_pickle=True: never for a data file
        raise ReferenceDataError(f"{unreadable} (it is neither a zip archive of arrays nor a .npy array)") from None
    if not isinstance(archive, Mapping):  # a bare .npy array renamed .npz
        raise ReferenceDataError(f"{unreadable} (it holds one unnamed array)")
    with archive:
        _missing(path, [*coordinates, *values_names], list(archive.files), "array")
        try:
            arrays = {n: _numeric(path, n, archive[n]) for n in [*coordinates, *values_names]}
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise ReferenceDataError(f"{unreadable} ({err})") from None
        except ValueError as err:
            if isinstance(err, ReferenceDataError):
                raise
            raise ReferenceDataError(f"{path}: an array holds Python objects ({err}); save plain numeric arrays") from None
    axes = [arrays[n] for n in coordinates]
    vals = [arrays[n] for n in values_names]
    shapes = {n: a.shape for n, a in arrays.items()}
    if len({a.shape for a in arrays.values()}) == 1:  # columns (1-D, or meshgrid outputs flattened alike)
        points = np.stack([a.reshape(-1) for a in axes], axis=1)
        values = np.stack([v.reshape(-1) for v in vals], axis=1)
        mode = "columns"
    elif all(a.ndim == 1 for a in axes):
        grid = tuple(len(a) for a in axes)
        _check_grid(path, values_names, vals, grid, shapes)
        mesh = np.meshgrid(*axes, indexing="ij")
        points = np.stack([m.reshape(-1) for m in mesh], axis=1)
        values = np.stack([v.reshape(-1) for v in vals], axis=1)
        mode = "grid"
    else:
        raise ReferenceDataError(_layout_message(path, shapes))
    for name, column in zip([*coordinates, *values_names], [*points.T, *values.T]):
        _check_finite_npz(path, name, column, mode, points, coordinates)
    return points, values


def _numeric(path: Path, name: str, array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in "iuf":
        raise ReferenceDataError(
            f"{path}: array {name!r} holds {array.dtype} data, not numbers; save it as a float array (e.g. np.asarray(..., float))"
        )
    return np.asarray(array, np.float64)


def _layout_message(path: Path, shapes: Mapping[str, tuple]) -> str:
    listed = ", ".join(f"{n} {s}" for n, s in shapes.items())
    return (
        f"{path}: arrays of ragged shapes ({listed}); give either columns of one length (every array of shape (m,)) "
        "or a grid (each coordinate a 1-D axis, each value of shape (len(axis 1), ..., len(axis d)))"
    )


def _check_grid(path: Path, names, vals, grid: tuple[int, ...], shapes) -> None:
    for name, v in zip(names, vals):
        if v.shape == grid:
            continue
        if v.shape == grid[::-1]:
            raise ReferenceDataError(
                f"{path}: value {name!r} has shape {v.shape}, the coordinate axes' lengths reversed ({grid} expected): "
                "it was built with indexing='xy' (numpy.meshgrid's default); save its transpose, or mesh with indexing='ij'"
            )
        raise ReferenceDataError(_layout_message(path, shapes))


def _check_finite_npz(path: Path, name: str, column: np.ndarray, mode: str, points: np.ndarray, coordinates) -> None:
    bad = np.flatnonzero(~np.isfinite(column))
    if bad.size == 0:
        return
    i = int(bad[0])
    where = f"row {i}" if mode == "columns" else f"grid point {i} ({_point_text(points[i], coordinates)})"
    raise ReferenceDataError(
        f"{path}: array {name!r} has {bad.size} non-finite entries (NaN or inf), the first at {where} (value {column[i]}); "
        "remove those points or fix the solver output"
    )


# ---- .csv ------------------------------------------------------------------------------


def _read_csv(path: Path, coordinates: list[str], values_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ReferenceDataError(f"{path} is not a text file; a .csv needs a header row of names, then rows of numbers") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1) if row and "".join(row).strip()]
    if not rows:
        raise ReferenceDataError(f"{path} is empty; a .csv needs a header row of names, then one row of numbers per point")
    line, header = rows[0]
    header = [h.strip() for h in header]
    header[0] = header[0].lstrip("#").strip()
    _missing(path, [*coordinates, *values_names], header, "column")
    data = [(n, row) for n, row in rows[1:] if not row[0].lstrip().startswith("#")]
    index = [header.index(n) for n in [*coordinates, *values_names]]
    table = np.empty((len(data), len(index)))
    for r, (n, row) in enumerate(data):
        if len(row) != len(header):
            raise ReferenceDataError(
                f"{path}, line {n} (data row {r + 1}): {len(row)} fields but the header has {len(header)} ({header}); "
                "give every row one number per column (ragged rows)"
            )
        for c, j in enumerate(index):
            table[r, c] = _number(path, f"line {n} (data row {r + 1})", header[j], row[j])
    k = len(coordinates)
    return table[:, :k], table[:, k:]


def _number(path: Path, line: str, column: str, text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ReferenceDataError(
            f"{path}, {line}, column {column!r}: {text.strip()!r} is not a number; "
            "the rows after the header must hold numbers only"
        ) from None
    if not math.isfinite(x):
        raise ReferenceDataError(
            f"{path}, {line}, column {column!r}: {text.strip()!r} is not finite (NaN or inf); "
            "remove that row or fix the solver output"
        )
    return x


# ---- domain ----------------------------------------------------------------------------


def _point_text(point: np.ndarray, coordinates) -> str:
    return ", ".join(f"{n} = {x:g}" for n, x in zip(coordinates, point))


def _check_inside(path: Path, points: np.ndarray, domain: Box, coordinates, tolerance: float) -> None:
    lower, upper = np.asarray(domain.lower, np.float64), np.asarray(domain.upper, np.float64)
    slack = tolerance * (upper - lower)
    outside = np.any((points < lower - slack) | (points > upper + slack), axis=1)
    count = int(outside.sum())
    if count == 0:
        return
    i = int(np.flatnonzero(outside)[0])
    box = " x ".join(f"{n} in [{lo:g}, {hi:g}]" for n, lo, hi in zip(domain.names, domain.lower, domain.upper))
    raise ReferenceDataError(
        f"{path}: {count} of {len(points)} points lie outside the domain ({box}); the first is row {i}: "
        f"({_point_text(points[i], coordinates)}). Check the column order and units, or crop the data to the domain"
    )
