"""Validation shared by the schemes: field ranges and the term names an update receives."""

from __future__ import annotations

from collections.abc import Mapping


def check_period(period) -> None:
    """A weight-update period is a positive Python int (the trainer's static schedule needs one)."""
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"period must be a positive integer number of steps, got {period!r}")


def check_eps(eps) -> None:
    """A regularising ``eps`` is a number >= 0."""
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def nonempty_terms(names, scheme: str) -> tuple[str, ...]:
    """The term names a scheme's ``init`` receives, as a tuple; a ``ValueError`` if there are none."""
    names = tuple(names)
    if not names:
        raise ValueError(f"{scheme} needs at least one term")
    return names


def check_choice(field: str, value, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{field} must be one of {list(choices)}, got {value!r}")


def check_terms(given: Mapping[str, object], valid: Mapping[str, object], what: str) -> None:
    """Raise a ``KeyError`` unless ``given`` has exactly the term names of ``valid``, listing the valid ones."""
    extra = [n for n in given if n not in valid]
    missing = [n for n in valid if n not in given]
    if extra or missing:
        raise KeyError(f"{what} has unknown term name(s) {extra} and lacks {missing}; valid term names are {list(valid)}")
