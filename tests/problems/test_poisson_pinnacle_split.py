"""PINNacle's boundary split for Poisson 2d-C (``problems.nested_split``, ``poisson_2d_holes(boundary_split=...)``)."""

import doctest
import inspect
from fractions import Fraction
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.config import ConfigError, load
from pinnbalance.geometry import boundary_sampler
from pinnbalance.problems import nested_split, poisson_2d_holes
from pinnbalance.problems.nested_split import circles_sampler, nested_difference_shares, nested_difference_weights, split_counts
from pinnbalance.problems.poisson_2d_holes import CENTRES, RADIUS, holed_square

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = [
    ROOT / f"configs/pinnacle/poisson-2d-holes-{m}.toml" for m in ("constant", "lr-annealing", "lr-annealing-pinnacle", "ntk")
]


def nearest_circle(points):
    return np.argmin(np.linalg.norm(points[:, None, :] - np.array(CENTRES), axis=-1), axis=1)


def deepxde_labels(rng, n, holes):
    """Which piece each of ``n`` boundary points of ((S - D1) - ...) - D_holes comes from, drawn as DeepXDE's
    difference draws them: n from the left side, n from the removed disk, shuffled, the first n kept (none rejected)."""
    if holes == 0:
        return np.zeros(n, int)
    both = np.concatenate([deepxde_labels(rng, n, holes - 1), np.full(n, holes)])
    return rng.permutation(both)[:n]


def test_nested_difference_shares_are_those_of_deepxdes_draw():
    shares = nested_difference_shares(4)
    assert shares == (Fraction(1, 16), Fraction(1, 16), Fraction(1, 8), Fraction(1, 4), Fraction(1, 2)) and sum(shares) == 1
    assert nested_difference_weights(4) == (1, 2, 4, 8)
    rng, n, reps = np.random.default_rng(0), 2048, 200
    counts = np.array([np.bincount(deepxde_labels(rng, n, 4), minlength=5) for _ in range(reps)])
    mean = counts.mean(0) / n
    sd = np.sqrt([float(s * (1 - s)) for s in shares] / np.array(n * reps))  # binomial bound on the spread of the mean
    np.testing.assert_allclose(mean, [float(s) for s in shares], atol=float(4 * sd.max()))


def test_split_counts_round_cumulatively():
    assert split_counts(480, (1, 2, 4, 8)) == (32, 64, 128, 256)  # 480 / 15 = 32: exact
    # n = 100: running totals 100 * (1, 3, 7, 15) / 15 = 6.67, 20, 46.67, 100 -> 7, 20, 47, 100
    assert split_counts(100, (1, 2, 4, 8)) == (7, 13, 27, 53)
    assert split_counts(1, (1, 1)) == (1, 0)  # a half rounds up: floor(1/2 + 1/2) = 1
    assert split_counts(0, (1, 2)) == (0, 0)
    for n in range(0, 200):
        c = np.array(split_counts(n, (1, 2, 4, 8)))
        assert c.sum() == n and np.all(np.abs(c - n * np.array([1, 2, 4, 8]) / 15) < 1)


def test_pinnacle_holes_points_lie_on_their_circles_in_the_stated_proportions():
    sample = poisson_2d_holes(boundary_split="pinnacle").terms["holes"].sampler
    for n, expected in ((480, (32, 64, 128, 256)), (100, (7, 13, 27, 53))):
        rows = np.asarray(sample(jax.random.PRNGKey(n), n, jnp.float64))
        x, normal = rows[:, :2], rows[:, 2:]
        which = nearest_circle(x)
        assert tuple(np.bincount(which, minlength=4)) == expected
        assert np.all(np.diff(which) >= 0)  # circle by circle, in CENTRES' (PINNacle's) order
        centre = np.array(CENTRES)[which]
        np.testing.assert_allclose(np.linalg.norm(x - centre, axis=1), RADIUS, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(normal, axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(normal, -(x - centre) / RADIUS, atol=1e-12)  # out of the domain, into the hole
        assert np.all(np.linalg.norm(x + 1e-3 * normal - centre, axis=1) < RADIUS)
    rows32 = np.asarray(jax.jit(sample, static_argnums=(1, 2))(jax.random.PRNGKey(3), 480, jnp.float32))
    assert rows32.dtype == np.float32 and rows32.shape == (480, 4)
    x = rows32[:, :2].astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(x - np.array(CENTRES)[nearest_circle(x)], axis=1), RADIUS, atol=1e-6)


def test_pinnacle_holes_points_are_uniform_in_angle():
    """On each circle the angle's first Fourier moments E cos(k theta), E sin(k theta) vanish (uniform law)."""
    n = 15 * 2000
    rows = np.asarray(circles_sampler(CENTRES, RADIUS, (1, 2, 4, 8))(jax.random.PRNGKey(7), n, jnp.float64))
    which = nearest_circle(rows[:, :2])
    for k in range(4):
        ray = -rows[which == k, 2:]  # the unit ray from the centre is minus the normal
        theta = np.arctan2(ray[:, 1], ray[:, 0])
        for m in (1, 2):
            assert abs(np.mean(np.cos(m * theta))) < 4 / np.sqrt(2 * len(theta))  # sd of the mean: 1 / sqrt(2 count)
            assert abs(np.mean(np.sin(m * theta))) < 4 / np.sqrt(2 * len(theta))


def test_length_split_is_unchanged():
    """The default is "length", and "length" draws the holes points as the problem did before the option."""
    assert inspect.signature(poisson_2d_holes).parameters["boundary_split"].default == "length"
    key = jax.random.PRNGKey(11)
    now = poisson_2d_holes(batch_size=300, boundary_split="length").terms["holes"].sampler(key, 300, jnp.float64)
    before = boundary_sampler(holed_square(), "holes")(key, 300, jnp.float64)  # the sampler the problem used to build
    np.testing.assert_array_equal(now, before)


def test_bad_split_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"boundary_split must be one of \('length', 'pinnacle'\), got 'deepxde'"):
        poisson_2d_holes(boundary_split="deepxde")
    with pytest.raises(ValueError, match="weights must be positive integers"):
        circles_sampler(CENTRES, RADIUS, (1, 0, 4, 8))
    with pytest.raises(ValueError, match="one \\(x, y\\) pair per weight"):
        circles_sampler(CENTRES, RADIUS, (1, 2))


def test_toml_parameter_loads(tmp_path):
    text = PROTOCOL[0].read_text()
    assert 'parameters = { boundary_split = "pinnacle" }' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('boundary_split = "pinnacle"', 'boundary_split = "deepxde"'))
    with pytest.raises(ConfigError, match="boundary_split must be one of"):
        load(bad).build_problem()
    for path in PROTOCOL:
        config = load(path)
        assert config.problem.parameters == {"boundary_split": "pinnacle"}, path.name
        problem = config.build_problem()
        sizes = {name: term.batch_size for name, term in problem.terms.items()}
        assert sizes == {"res": 8192, "outer": 128, "holes": 1920}, path.name  # PINNacle's 8,192 and 2,048, the square 1/16
    holes = np.asarray(problem.terms["holes"].sampler(jax.random.PRNGKey(0), 480, jnp.float64))
    assert tuple(np.bincount(nearest_circle(holes[:, :2]), minlength=4)) == (32, 64, 128, 256)


def test_module_example_runs():
    result = doctest.testmod(nested_split)
    assert result.attempted >= 3 and result.failed == 0
