"""The shipped PINNacle files: present in the package, listed for the wheel, and of the shapes
/work/shared/pinnacle/SPEC.md describes (columns and rows, domains, the observation noise)."""

import fnmatch
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pinnbalance.data import PINNACLE_FILES, pinnacle_file
from pinnbalance.problems import Box, load_observations

ROOT = Path(__file__).resolve().parents[1]


def test_every_file_is_package_data_for_the_wheel():
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = spec["tool"]["setuptools"]["package-data"]["pinnbalance.data"]
    for name in (*PINNACLE_FILES, "LICENSE", "README.md"):
        path = pinnacle_file(name)
        assert path.is_file() and path.stat().st_size > 0
        assert any(fnmatch.fnmatch(f"pinnacle/{name}", p) for p in patterns), f"{name} would be left out of the wheel"


def test_mit_notice_travels_with_the_data():
    text = pinnacle_file("LICENSE").read_text()
    assert text.startswith("MIT License") and "PINNacle Dev Team" in text
    assert "arXiv:2306.08827" in pinnacle_file("README.md").read_text()


def test_unknown_name_lists_the_files():
    with pytest.raises(KeyError, match=r"no shipped PINNacle file 'burgers.dat'; the files are \['burgers1d.dat'"):
        pinnacle_file("burgers.dat")


def test_burgers_101_x_nodes_by_11_times():
    obs = load_observations(pinnacle_file("burgers1d.dat"), coords=(0,), domain=Box((-1.0,), (1.0,), ("x",)))
    assert obs.points.shape == (101, 1) and obs.values.shape == (101, 11)  # u at t = 0, 0.1, ..., 1
    assert obs.points[0, 0] == -1.0 and obs.points[-1, 0] == pytest.approx(1.0)
    x = obs.points[:, 0]
    # u(x, 0) = -sin(pi x), as the solver's finite elements hold it (a few 1e-6 off at the nodes)
    np.testing.assert_allclose(obs.values[:, 0], -np.sin(np.pi * x), atol=1e-5)


class FourHoles:
    """[-0.5, 0.5]^2 minus disks of radius 0.1 at (+-0.3, +-0.3) (closed: circle points count)."""

    def inside(self, p):
        in_square = np.all(np.abs(p) <= 0.5 + 1e-12, axis=1)
        centres = np.array([[0.3, 0.3], [-0.3, 0.3], [0.3, -0.3], [-0.3, -0.3]])
        gap = np.min(np.linalg.norm(p[:, None, :] - centres[None], axis=-1), axis=1)
        return in_square & (gap >= 0.1 - 1e-6)


def test_poisson_1246_nodes_x_y_u():
    obs = load_observations(pinnacle_file("poisson1_cg_data.dat"), coords=(0, 1), values=2, domain=FourHoles())
    assert obs.points.shape == (1246, 2) and obs.values.shape == (1246, 1)
    on_square = np.any(np.isclose(np.abs(obs.points), 0.5), axis=1)
    np.testing.assert_allclose(obs.values[on_square, 0], 1.0)  # u = 1 on the outer square


def test_cavity_10201_nodes_x_y_u_v_p():
    square = Box((0.0, 0.0), (1.0, 1.0), ("x", "y"))
    obs = load_observations(pinnacle_file("lid_driven_a4.dat"), coords=(0, 1), values=(2, 3, 4), domain=square)
    assert obs.points.shape == (10201, 2) and obs.values.shape == (10201, 3)
    lid = np.isclose(obs.points[:, 1], 1.0)
    x = obs.points[lid, 0]
    # u = 4 x (1 - x) on the lid, as the solver's finite elements hold it (to ~3e-4 at the file's nodes)
    np.testing.assert_allclose(obs.values[lid, 0], 4 * x * (1 - x), atol=1e-3)
    np.testing.assert_allclose(obs.values[lid, 1], 0.0, atol=1e-3)


def test_heat_inverse_points_and_observations():
    cube = Box((-1.0, -1.0, 0.0), (1.0, 1.0, 1.0), ("x", "y", "t"))
    points = np.loadtxt(pinnacle_file("heatinv_points.dat"))
    assert points.shape == (2500, 3)
    obs = load_observations(pinnacle_file("heatinv_observations.csv"), coords=("x", "y", "t"), values="u_observed", domain=cube)
    assert obs.points.shape == (2500, 3) and obs.values.shape == (2500, 1)
    np.testing.assert_allclose(obs.points, points, rtol=1e-15)  # observed at heatinv_points.dat's points
    x, y, t = obs.points.T
    noise = obs.values[:, 0] - np.exp(-t) * np.sin(np.pi * x) * np.sin(np.pi * y)
    # Gaussian noise of std 0.1: sample std within ~7 standard errors (0.1 / sqrt(2 * 2500) = 0.0014)
    assert abs(noise.std() - 0.1) < 0.01 and abs(noise.mean()) < 0.01
