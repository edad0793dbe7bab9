"""Fourier feature networks: sizes, fixed frequencies, closed-form derivatives."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import derivatives
from pinnbalance.nn import FourierFeatures, count_params, fourier_embedding, fourier_for
from pinnbalance.problems import klein_gordon
from pinnbalance.weighting.statistics import weight_matrices


def test_shapes_and_parameter_counts_by_hand():
    z = jnp.array([0.3, 0.7])
    single = FourierFeatures((2, 5, 3, 1), (1.0,), features=4)
    assert single.embed(z).shape == (1, 8)
    # trunk 8*5 + 5, 5*3 + 3; final 1*3*1 + 1
    assert count_params(single.init(jax.random.PRNGKey(0))) == 45 + 18 + 4
    multi = FourierFeatures((2, 5, 3, 1), (1.0, 2.0, 5.0), features=4)
    assert multi.embed(z).shape == (3, 8)
    assert count_params(multi.init(jax.random.PRNGKey(0))) == 45 + 18 + 3 * 3 + 1  # final reads [H_1, H_2, H_3]
    st = FourierFeatures((2, 5, 3, 1), (1.0, 2.0), features=4, time_axis=0, time_sigmas=(1.0, 3.0, 9.0))
    assert st.embed(z).shape == (5, 8) and [g.shape for g in st.frequency_matrices()] == [(4, 1)] * 5
    assert count_params(st.init(jax.random.PRNGKey(0))) == 45 + 18 + 6 * 3 + 1  # final reads the 2 x 3 products
    params = st.init(jax.random.PRNGKey(0))
    assert st.apply(params, z).shape == () and jax.vmap(st.field(params))(jnp.ones((7, 2))).shape == (7,)
    two = FourierFeatures((2, 5, 2), (1.0,), features=4)
    assert two.apply(two.init(jax.random.PRNGKey(0)), z).shape == (2,)


def test_frequencies_are_gaussian_with_std_sigma_and_fixed_by_the_seed():
    net = FourierFeatures((1, 3, 1), (10.0,), features=20_000)
    (B,) = net.frequency_matrices(jnp.float64)
    assert abs(np.std(B) / 10.0 - 1) < 0.02 and abs(np.mean(B)) < 3 * 10.0 / np.sqrt(B.size)
    a, b = FourierFeatures((2, 3, 1), (1.0, 5.0), features=6), FourierFeatures((2, 3, 1), (1.0, 5.0), features=6)
    assert a == b and hash(a) == hash(b)
    c = FourierFeatures((2, 3, 1), (1.0, 5.0), features=6, seed=1)
    assert a != c and not np.allclose(a.frequency_matrices()[0], c.frequency_matrices()[0])
    # B_k = sigma_k G_k with the same draws G whatever the scales
    d = FourierFeatures((2, 3, 1), (2.0, 1.0), features=6)
    np.testing.assert_allclose(d.frequency_matrices(jnp.float64)[0], 2 * np.asarray(a.frequencies[0]))


def test_frequencies_are_not_parameters_and_adam_leaves_them_alone():
    net = FourierFeatures((2, 5, 3, 1), (1.0, 4.0), features=4, input_mean=(0.5, 0.5), input_std=(0.3, 0.3))
    B_before = [np.asarray(b) for b in net.frequency_matrices()]
    params = net.init(jax.random.PRNGKey(0))
    # no leaf has the shape of a B (4, 2): the leaves are the trunk and the final layer only
    assert [leaf.shape for leaf in jax.tree_util.tree_leaves(params)] == [(8, 5), (5,), (5, 3), (3,), (6, 1), (1,)]
    assert [m.shape for m in weight_matrices(params)] == [(8, 5), (5, 3), (6, 1)]
    points = jax.random.uniform(jax.random.PRNGKey(1), (16, 2))

    def loss(p):
        return jnp.mean(jax.vmap(net.field(p))(points) ** 2)

    opt = optax.adamw(1e-2, weight_decay=0.1)  # even weight decay has no B to decay
    state = opt.init(params)
    grads = jax.grad(loss)(params)
    updates, state = opt.update(grads, state, params)
    new = optax.apply_updates(params, updates)
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(params)
    assert not np.allclose(new[0]["W"], params[0]["W"])  # the trunk did move
    for before, after in zip(B_before, net.frequency_matrices()):
        np.testing.assert_array_equal(before, after)
    redrawn = dataclasses.replace(net, frequencies=None)  # B is a function of the description's seed alone
    assert redrawn == net


def test_embedding_derivatives_match_closed_forms():
    """d/dz cos(2 pi b zh) = -k sin(2 pi b zh), d2/dz2 = -k^2 cos(...), zh = (z - mu)/s, k = 2 pi b / s."""
    mu, s, sigma = 0.4, 0.25, 3.0
    net = FourierFeatures((1, 1, 1), (sigma,), features=1, input_mean=(mu,), input_std=(s,))
    b = float(net.frequency_matrices(jnp.float64)[0][0, 0])
    k = 2 * np.pi * b / s
    z = jnp.array([0.7])
    theta = k * (0.7 - mu)
    embed = lambda y: net.embed(y)[0]  # noqa: E731
    np.testing.assert_allclose(embed(z), [np.cos(theta), np.sin(theta)], rtol=1e-13)
    np.testing.assert_allclose(jax.jacfwd(embed)(z)[:, 0], [-k * np.sin(theta), k * np.cos(theta)], rtol=1e-12)
    second = jax.jacfwd(jax.jacfwd(embed))(z)[:, 0, 0]
    np.testing.assert_allclose(second, [-(k**2) * np.cos(theta), -(k**2) * np.sin(theta)], rtol=1e-12)


def test_network_derivatives_match_closed_forms():
    """u = w tanh(a cos(theta) + c sin(theta) + b1) + b2, theta = k (z - mu): u', u'' by hand."""
    mu, s = 0.4, 0.25
    net = FourierFeatures((1, 1, 1), (2.0,), features=1, input_mean=(mu,), input_std=(s,))
    k = 2 * np.pi * float(net.frequency_matrices(jnp.float64)[0][0, 0]) / s
    a, c, b1, w, b2 = 0.7, -0.4, 0.1, 1.3, -0.2
    params = [
        {"W": jnp.array([[a], [c]]), "b": jnp.array([b1])},
        {"W": jnp.array([[w]]), "b": jnp.array([b2])},
    ]
    z = 0.83
    theta = k * (z - mu)
    g = a * np.cos(theta) + c * np.sin(theta) + b1
    g1 = k * (-a * np.sin(theta) + c * np.cos(theta))
    g2 = -(k**2) * (a * np.cos(theta) + c * np.sin(theta))
    t = np.tanh(g)
    want = (w * t + b2, w * (1 - t**2) * g1, w * ((1 - t**2) * g2 - 2 * t * (1 - t**2) * g1**2))
    value, grad, diag = derivatives.axis_derivatives(net.field(params), jnp.array([z]))
    np.testing.assert_allclose([value, grad[0], diag[0]], want, rtol=1e-11)


def test_spatio_temporal_forward_pass_by_hand():
    """H^(i,j) = trunk(gamma(x; B^x_i)) * trunk(gamma(t; B^t_j)), final layer on [H^(1,1), H^(1,2), ...]."""
    net = FourierFeatures((2, 4, 1), (1.0, 3.0), features=3, time_axis=0, time_sigmas=(0.5, 2.0))
    params = net.init(jax.random.PRNGKey(2), jnp.float64)
    params = [{**params[0], "b": jnp.arange(4.0) / 10}, {**params[1], "b": jnp.array([0.05])}]
    W1, b1 = np.asarray(params[0]["W"]), np.asarray(params[0]["b"])
    W2, b2 = np.asarray(params[1]["W"]), np.asarray(params[1]["b"])
    Bx1, Bx3, Bt1, Bt2 = (np.asarray(b) for b in net.frequency_matrices(jnp.float64))
    t, x = 0.3, 0.8

    def trunk(v, B):
        p = 2 * np.pi * B @ np.atleast_1d(v)
        return np.tanh(np.concatenate([np.cos(p), np.sin(p)]) @ W1 + b1)

    H = [trunk(x, Bx) * trunk(t, Bt) for Bx in (Bx1, Bx3) for Bt in (Bt1, Bt2)]
    want = np.concatenate(H) @ W2 + b2
    np.testing.assert_allclose(net.apply(params, jnp.array([t, x])), want[0], rtol=1e-12)


def test_fourier_embedding_formula():
    B = jnp.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    x = jnp.array([0.2, -0.1])
    p = 2 * np.pi * np.asarray(B) @ np.asarray(x)
    np.testing.assert_allclose(fourier_embedding(x, B), np.concatenate([np.cos(p), np.sin(p)]), rtol=1e-13, atol=1e-15)


def test_builder_takes_normalisation_and_time_axis_from_the_box():
    box = klein_gordon().domain
    net = fourier_for(box, (1.0, 10.0), 16, hidden=(8, 8), time_sigmas=(1.0,))
    assert net.time_axis == box.axis("t") and net.input_mean == box.mean() and net.input_std == box.std()
    assert fourier_for(box).time_axis is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layers": (2, 1)}, "input, trunk width"),
        ({"layers": (2, 4, 1), "sigmas": ()}, "sigmas must list at least one scale"),
        ({"layers": (2, 4, 1), "sigmas": (1.0, -2.0)}, "sigmas must list at least one scale > 0"),
        ({"layers": (2, 4, 1), "features": 0}, "features .* must be a positive integer"),
        ({"layers": (2, 4, 1), "time_axis": 2}, "time_axis 2 needs"),
        ({"layers": (2, 4, 1), "seed": -1}, "seed .* non-negative"),
        ({"layers": (2, 4, 1), "features": 3, "frequencies": (np.zeros((2, 2)),)}, r"frequencies have shapes \[\(2, 2\)\]"),
    ],
)
def test_bad_architecture_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FourierFeatures(**kwargs)
