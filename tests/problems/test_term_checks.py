"""Mistakes in a user's Term caught where they are made, with the fix in the message:
a sampler without the dtype argument, and a stacked term evaluated without vmap."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.losses import term_loss
from pinnbalance.nn import MLP
from pinnbalance.problems import Box, Problem, Term, klein_gordon, stacked, uniform
from pinnbalance.problems.base import one_point_field, term_residuals

BOX = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))


def residual(u, z):
    return u(z)


def test_two_argument_sampler_is_refused_with_the_fix():
    def sample(key, n):
        return jax.random.uniform(key, (n, 2))

    with pytest.raises(
        TypeError, match=r"term 'u on the edge': its sampler must take three positional arguments, sample\(key, n, dtype\)"
    ):
        Term(residual, sample, 8, "u on the edge")
    with pytest.raises(TypeError, match=r"sample\(key, n\) cannot\. Add the dtype parameter"):
        Term(residual, sample)


@pytest.mark.parametrize(
    "sampler",
    [
        uniform(BOX),
        stacked([uniform(BOX, {"x": 0.0}), uniform(BOX, {"x": 1.0})]),
        lambda key, n, dtype: jnp.zeros((n, 2), dtype),
        lambda *args: jnp.zeros((args[1], 2), args[2]),
        functools.partial(lambda box, key, n, dtype: jnp.zeros((n, 2), dtype), BOX),
    ],
)
def test_three_positional_or_star_args_samplers_pass(sampler):
    term = Term(residual, sampler, 4)
    assert term.sampler(jax.random.PRNGKey(0), 4, jnp.float32).shape[0] == 4


def test_keyword_only_dtype_and_one_argument_residual_are_refused():
    with pytest.raises(TypeError, match="three positional arguments"):
        Term(residual, lambda key, n, *, dtype: jnp.zeros((n, 2), dtype))
    with pytest.raises(TypeError, match=r"a Term: its residual must take two positional arguments, residual\(u, point\)"):
        Term(lambda z: z[0], uniform(BOX))
    with pytest.raises(TypeError, match=r"problem\.py \{braces\}'"):  # a description with braces is quoted as is
        Term(residual, lambda key, n: None, 1, "problem.py {braces}")


def test_with_batch_sizes_keeps_working():
    problem = klein_gordon().with_batch_sizes({"bcs": 3})
    assert problem.terms["bcs"].batch_size == 3


SIDES = stacked([uniform(BOX, {"x": 0.0}), uniform(BOX, {"x": 1.0})])


def exact(z):
    return z[0] * z[1] + 1.0


def test_stacked_residual_without_vmap_is_an_error():
    """u(zs) on a (2, d) stack would give the first side's value only (an MLP with one output)."""
    net = MLP((2, 8, 1))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    points = SIDES(jax.random.PRNGKey(1), 5, jnp.float64)
    wrong = Term(lambda u, zs: u(zs) - jax.vmap(exact)(zs), SIDES, 5, "u on x = 0 and x = 1")
    with pytest.raises(
        ValueError,
        match=r"term 'u on x = 0 and x = 1': the residual called the network on an array of shape \(2, 2\).*jax\.vmap\(u\)\(zs\)",
    ):
        term_residuals(wrong, net.field(params), points)
    with pytest.raises(ValueError, match="ONE point"):  # the same through the loss and under jit
        jax.jit(lambda p: term_loss(Problem("p", BOX, {"bcs": wrong}, reference="bcs"), net, p, points, "bcs"))(params)


def test_stacked_residual_with_vmap_uses_every_piece():
    net = MLP((2, 8, 1))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    points = SIDES(jax.random.PRNGKey(1), 5, jnp.float64)
    right = Term(lambda u, zs: jax.vmap(u)(zs) - jax.vmap(exact)(zs), SIDES, 5)
    r = np.asarray(term_residuals(right, net.field(params), points))
    flat = np.asarray(points).reshape(-1, 2)
    expected = np.asarray(jax.vmap(lambda z: net.apply(params, z) - exact(z))(flat)).reshape(5, 2)
    np.testing.assert_allclose(r, expected, rtol=1e-13)  # both sides, not the first twice


def test_derivative_fast_paths_are_forwarded_and_checked():
    net = MLP((2, 8, 1))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    field = one_point_field(net.field(params))
    z = jnp.array([0.3, 0.6])
    for a, b in zip(field.taylor2(z, jnp.eye(2)), net.field(params).taylor2(z, jnp.eye(2))):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="ONE point"):
        field.taylor1(jnp.ones((2, 2)), jnp.eye(2))
    plain = one_point_field(lambda z: z[0])  # a plain function has no fast path: none appears
    assert getattr(plain, "taylor2", None) is None


def test_packaged_problems_pass_the_check():
    problem = klein_gordon(batch_size=4)
    net = MLP((2, 8, 1))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    for name, term in problem.terms.items():
        points = term.sampler(jax.random.PRNGKey(2), 4, jnp.float64)
        assert term_residuals(term, net.field(params), points).shape[0] == 4, name
