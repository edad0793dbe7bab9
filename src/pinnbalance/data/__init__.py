"""Data files shipped with pinnbalance: PINNacle's reference solutions (MIT, see ``pinnacle/LICENSE``).

``pinnacle_file(name)`` gives the path of one file, wherever pinnbalance is installed (a
source checkout, a wheel, a zip): read it with ``problems.load_observations``.

Example:
    >>> from pinnbalance.data import pinnacle_file
    >>> from pinnbalance.problems import load_observations
    >>> obs = load_observations(pinnacle_file("poisson1_cg_data.dat"), coords=(0, 1))  # x, y -> u
    >>> obs.points.shape, obs.values.shape
    ((1246, 2), (1246, 1))
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PINNACLE_FILES = (
    "burgers1d.dat",
    "heatinv_observations.csv",
    "heatinv_points.dat",
    "lid_driven_a4.dat",
    "poisson1_cg_data.dat",
)


def pinnacle_file(name: str) -> Path:
    """The path of the shipped PINNacle file ``name`` (one of ``PINNACLE_FILES``, or ``LICENSE``/``README.md``)."""
    known = (*PINNACLE_FILES, "LICENSE", "README.md")
    if name not in known:
        raise KeyError(f"no shipped PINNacle file {name!r}; the files are {list(known)}")
    path = resources.files(__name__).joinpath("pinnacle", name)
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} is missing from this installation of pinnbalance ({path}); reinstall it (the wheel ships the data)"
        )
    return Path(str(path))


__all__ = ["PINNACLE_FILES", "pinnacle_file"]
