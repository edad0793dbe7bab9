"""``[unknowns.NAME]`` tables: a packaged problem's unknowns, scalars and fields, set from TOML.

A table overrides the unknown the problem declares under that name (a residual asks for it by
name, so a table cannot add one); keys left out keep the problem's values. ``kind`` says which
kind of unknown the table describes and must be the declared one (a residual written for a
number cannot take a function); it defaults to the declared kind.

- ``kind = "scalar"`` (``problems.unknowns.Scalar``): ``init``, ``positive``, ``learning_rate``.
- ``kind = "field"`` (``problems.unknowns.FieldUnknown``): ``inputs`` (names of the problem's
  coordinates the field sees, e.g. ``["x", "y"]`` for a conductivity independent of t),
  ``hidden`` (widths of its MLP's hidden layers), ``activation``, ``positive``,
  ``learning_rate``. When any of ``inputs``, ``hidden``, ``activation`` is given, the field's
  network is rebuilt as ``nn.mlp_for(box, hidden, activation)`` on the domain's bounding box in
  those coordinates (inputs normalised to its exact mean and std), the others taken from the
  declared field's network.

Validation (``check_tables``) uses the problem's declaration only (``problems.declared``): it
builds no problem and draws no array, so loading a configuration still starts no JAX backend.
Its errors start with the key path (``unknowns.a.inputs: ...``) and say the fix.

Example:
    >>> from pinnbalance.problems import DECLARED
    >>> check_tables({"a": {"kind": "field", "inputs": ("x", "y"), "hidden": (20, 20)}}, DECLARED["heat-inverse"])
    >>> try:
    ...     check_tables({"a": {"inputs": ("x", "z")}}, DECLARED["heat-inverse"])
    ... except ValueError as err:
    ...     print(str(err)[:60])
    unknowns.a.inputs: 'z' is not a coordinate of the problem; g
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from pinnbalance.nn import ACTIVATIONS, mlp_for
from pinnbalance.nn.dense import check_hidden
from pinnbalance.problems.domain import Box
from pinnbalance.problems.unknowns import FieldUnknown, Scalar

KIND_KEYS = {
    "scalar": ("init", "positive", "learning_rate"),
    "field": ("inputs", "hidden", "activation", "positive", "learning_rate"),
}
NETWORK_KEYS = ("inputs", "hidden", "activation")  # a field's network: rebuilt when any of them is given


@dataclass(frozen=True)
class UnknownTable:
    """The keys an ``[unknowns.NAME]`` table may hold (their types: the TOML values that fit);
    which ones apply depends on ``kind`` (``KIND_KEYS``). None: not given."""

    kind: str | None = None
    init: float | None = None
    inputs: tuple[str, ...] | None = None
    hidden: tuple[int, ...] | None = None
    activation: str | None = None
    positive: bool | None = None
    learning_rate: float | None = None


def table_kind(name: str, table: Mapping, declared) -> str:
    """The table's ``kind``, checked against the declared unknown's kind and its keys against the kind's."""
    own = "field" if name in declared.fields else "scalar"
    kind = table.get("kind", own)
    if kind not in KIND_KEYS:
        raise ValueError(f'unknowns.{name}.kind must be "scalar" or "field", got {kind!r}')
    if kind != own:
        raise ValueError(
            f"unknowns.{name}.kind is {kind!r}, but the problem declares {name!r} as a {own} unknown (its residuals "
            f'take {"a number" if own == "scalar" else "a function a(z)"}); set kind = "{own}" or leave kind out'
        )
    for key in table:
        if key != "kind" and key not in KIND_KEYS[kind]:
            raise ValueError(
                f"unknowns.{name}.{key} applies to the other kind of unknown; {name!r} is a {kind} unknown, "
                f"whose keys are {list(KIND_KEYS[kind])}"
            )
    return kind


def check_tables(tables: Mapping[str, Mapping], declared) -> None:
    """Raise a ``ValueError`` starting with the key path if a table names no declared unknown or
    does not fit the one it names (``declared``: a ``problems.declared.Declared``)."""
    for name, table in tables.items():
        if name not in declared.unknowns:
            close = difflib.get_close_matches(name, declared.unknowns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown key unknowns.{name!r}{hint}; valid keys are {sorted(declared.unknowns)}")
        values = {k: v for k, v in table.items() if k != "kind"}
        try:
            if table_kind(name, table, declared) == "scalar":
                Scalar(**{"init": 1.0, **values}).check(name)  # a stand-in init where the table gives none
            else:
                _check_field(name, values, declared.coordinates)
        except ValueError as err:
            text = str(err)
            raise ValueError(text if text.startswith(f"unknowns.{name}") else f"unknowns.{name}: {text}") from None


def _check_field(name: str, values: Mapping, coordinates: tuple[str, ...]) -> None:
    for value in values.get("inputs", ()):
        if value not in coordinates:
            raise ValueError(
                f"unknowns.{name}.inputs: {value!r} is not a coordinate of the problem; give names from {list(coordinates)}, "
                f"e.g. inputs = {list(coordinates[:2])!r}"
            )
    if "inputs" in values and (not values["inputs"] or len(set(values["inputs"])) != len(values["inputs"])):
        raise ValueError(f"unknowns.{name}.inputs must name at least one coordinate, each once; got {list(values['inputs'])}")
    for key, check in (("hidden", check_hidden), ("activation", _check_activation)):
        if key in values:
            try:
                check(values[key])
            except ValueError as err:
                raise ValueError(f"unknowns.{name}.{key}: {err}") from None
    if values.get("learning_rate") is not None and not values["learning_rate"] > 0:
        raise ValueError(
            f"unknowns.{name}.learning_rate must be a positive number (leave it out for [optimizer]'s), "
            f"got {values['learning_rate']!r}"
        )


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}")


def field_from_table(field: FieldUnknown, table: Mapping, domain) -> FieldUnknown:
    """``field`` with the table's values: its network rebuilt on ``domain``'s bounding box in
    ``inputs`` when any of ``NETWORK_KEYS`` is given (the others from ``field``'s network).

    Example:
        >>> declared = FieldUnknown(mlp_for(Box((0.0,), (1.0,), ("x",)), (8,)), inputs=("x",))
        >>> field_from_table(declared, {"hidden": (4, 4)}, Box((0.0, 0.0), (1.0, 2.0), ("x", "t"))).network.layers
        (1, 4, 4, 1)
    """
    values = {k: v for k, v in table.items() if k not in ("kind", *NETWORK_KEYS)}
    if any(key in table for key in NETWORK_KEYS):
        inputs = tuple(table.get("inputs", field.inputs))
        hidden = table.get("hidden", field.network.layers[1:-1])
        lower, upper = domain.bounds()
        picked = [domain.names.index(i) for i in inputs]
        box = Box(tuple(lower[i] for i in picked), tuple(upper[i] for i in picked), inputs)
        values |= {"inputs": inputs, "network": mlp_for(box, hidden, table.get("activation", field.network.activation))}
    return dataclasses.replace(field, **values)


def with_tables(problem, tables: Mapping[str, Mapping]):
    """``problem`` with its unknowns set from the ``[unknowns.NAME]`` tables (``Problem.with_unknowns``,
    which checks the result again as a new problem)."""
    fields = {}
    for name, table in tables.items():
        spec = problem.unknowns.get(name)
        if isinstance(spec, FieldUnknown):
            built = field_from_table(spec, table, problem.domain)
            fields[name] = {f.name: getattr(built, f.name) for f in dataclasses.fields(built)}
        else:
            fields[name] = {k: v for k, v in table.items() if k != "kind"}
    return problem.with_unknowns(fields)
