"""PirateNet (Wang, Li, Chen & Perdikaris 2024): sizes, gates closed at init, forward pass, least squares."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import derivatives
from pinnbalance.io import load_params, save_params
from pinnbalance.nn import ARCHITECTURES, FourierFeatures, PirateNet, count_params, least_squares_init, piratenet_for, weight
from pinnbalance.problems import klein_gordon
from pinnbalance.weighting.statistics import weight_matrices

MEAN, STD = np.array([0.5, -1.0]), np.array([0.3, 2.0])


def numpy_embedding(net, z):
    """[cos(2 pi B x), sin(2 pi B x)], x = (z - mean) / std, B = sigma G: by hand."""
    B = net.sigma * np.asarray(net.frequencies[0])
    p = 2 * np.pi * B @ ((np.asarray(z) - MEAN) / STD)
    return np.concatenate([np.cos(p), np.sin(p)])


def numpy_forward(net, params, z):
    """The paper's equations, written out in numpy."""
    P = [{k: np.asarray(v) for k, v in p.items()} for p in params]
    phi = numpy_embedding(net, z)
    U = np.tanh(phi @ P[0]["W"] + P[0]["b"])
    V = np.tanh(phi @ P[1]["W"] + P[1]["b"])
    H = phi
    for l1, l2, l3 in zip(P[2:-1:3], P[3:-1:3], P[4:-1:3]):
        f = np.tanh(H @ l1["W"] + l1["b"])
        g = np.tanh((f * U + (1 - f) * V) @ l2["W"] + l2["b"])
        r = np.tanh((g * U + (1 - g) * V) @ l3["W"] + l3["b"])
        H = l3["alpha"] * r + (1 - l3["alpha"]) * H
    return H @ P[-1]["W"] + P[-1]["b"]


def net_and_params(alphas=(0.0, 0.0), outputs=1, seed=0):
    """A small float64 PirateNet (e = 6 != h = 5, two blocks), every bias random, gates as given."""
    net = PirateNet((2, 5, 5, outputs), sigma=0.7, features=3, input_mean=tuple(MEAN), input_std=tuple(STD))
    params = net.init(jax.random.PRNGKey(seed), jnp.float64)
    keys = jax.random.split(jax.random.PRNGKey(seed + 100), len(params))
    params = [{**p, "b": 0.3 * jax.random.normal(k, p["b"].shape, jnp.float64)} for p, k in zip(params, keys)]
    for block, alpha in enumerate(alphas):
        params[4 + 3 * block]["alpha"] = jnp.asarray(alpha, jnp.float64)
    return net, params


def random_points(n, seed=1):
    return jnp.asarray(np.random.default_rng(seed).normal(MEAN, STD, (n, 2)))


def shapes_of(net):
    """The parameters' shapes, without drawing them."""
    return jax.eval_shape(net.init, jax.random.PRNGKey(0))


def test_parameter_count_formula_of_the_docstring():
    """P = 2 (e h + h) + L (2 e h + h^2 + 2 h + e + 1) + (e + 1) d_out; rwf adds 2 h + L (2 h + e) + d_out."""
    for d, h, m, L, out in [(2, 5, 3, 2, 2), (3, 4, 7, 1, 1), (1, 16, 8, 3, 3)]:
        e = 2 * m
        net = PirateNet((d, *[h] * L, out), features=m)
        formula = 2 * (e * h + h) + L * (2 * e * h + h**2 + 2 * h + e + 1) + (e + 1) * out
        assert count_params(shapes_of(net)) == formula
        rwf = PirateNet((d, *[h] * L, out), features=m, rwf=(1.0, 0.1))
        assert count_params(shapes_of(rwf)) == formula + 2 * h + L * (2 * h + e) + out
    # real arrays too, e = 6, h = 5, L = 2, d_out = 2: 2 (30 + 5) + 2 (60 + 25 + 10 + 6 + 1) + 7 * 2
    assert count_params(PirateNet((2, 5, 5, 2), features=3).init(jax.random.PRNGKey(0))) == 70 + 204 + 14
    # the paper's default size: 3 blocks of 256, a 256-wide embedding
    assert count_params(shapes_of(PirateNet((2, 256, 256, 256, 1)))) == 723_972


def test_layout_gates_start_at_zero_and_are_not_weight_matrices():
    net = PirateNet((2, 5, 5, 2), features=3)
    params = net.init(jax.random.PRNGKey(0))
    shapes = [weight(p).shape for p in params]
    assert shapes == [(6, 5), (6, 5), (6, 5), (5, 5), (5, 6), (6, 5), (5, 5), (5, 6), (6, 2)]
    gates = [p["alpha"] for p in params if "alpha" in p]
    assert [i for i, p in enumerate(params) if "alpha" in p] == [4, 7]
    assert all(g.shape == () and g.dtype == jnp.float32 and float(g) == 0.0 for g in gates)
    assert len(weight_matrices(params)) == 9  # the gates are scalars: never counted as weight matrices
    assert not any(leaf.shape == (3, 2) for leaf in jax.tree_util.tree_leaves(params))  # B is not a parameter


def test_closed_gates_make_a_linear_model_of_the_embedding():
    """alpha = 0: u(z) = Phi(z) W_out + b_out whatever the blocks hold (they contribute nothing)."""
    net, params = net_and_params(alphas=(0.0, 0.0), outputs=2)
    z = random_points(8)
    W, b = np.asarray(params[-1]["W"]), np.asarray(params[-1]["b"])
    want = np.stack([numpy_embedding(net, p) @ W + b for p in np.asarray(z)])
    np.testing.assert_allclose(jax.vmap(net.field(params))(z), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jax.vmap(lambda p: net.hidden(params, p))(z), jax.vmap(net.embed)(z), rtol=0, atol=0)
    # redraw every block layer: the output does not move
    keys = jax.random.split(jax.random.PRNGKey(7), len(params))
    scrambled = [
        {**p, "W": 3 * jax.random.normal(k, p["W"].shape, jnp.float64)} if 2 <= i < 8 else p
        for i, (p, k) in enumerate(zip(params, keys))
    ]
    np.testing.assert_array_equal(jax.vmap(net.field(scrambled))(z), jax.vmap(net.field(params))(z))


def test_forward_pass_with_open_gates_matches_hand_written_numpy():
    net, params = net_and_params(alphas=(0.4, -0.7))
    for z in np.asarray(random_points(5)):
        np.testing.assert_allclose(net.apply(params, jnp.asarray(z)), numpy_forward(net, params, z)[0], rtol=1e-12)


def test_embedding_is_the_fourier_networks_with_the_same_seed():
    net = PirateNet((2, 4, 1), sigma=2.0, features=5, seed=3, input_mean=tuple(MEAN), input_std=tuple(STD))
    ff = FourierFeatures((2, 4, 1), (2.0,), features=5, seed=3, input_mean=tuple(MEAN), input_std=tuple(STD))
    z = jnp.array([0.1, 0.9])
    np.testing.assert_array_equal(net.embed(z), ff.embed(z)[0])
    np.testing.assert_allclose(net.embed(z), numpy_embedding(net, z), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode", ["auto", "off"])  # the derivative jets and generic forward over forward
def test_input_derivatives_match_finite_differences(mode):
    """Gradient and Hessian diagonal against central differences of the numpy forward pass."""
    net, params = net_and_params(alphas=(0.3, 0.6))
    net = dataclasses.replace(net, taylor_mode=mode)
    u = net.field(params)
    assert hasattr(u, "taylor2") == (mode == "auto")
    sweep = jax.jit(lambda z: derivatives.axis_derivatives(net.field(params), z))
    for z in random_points(3, seed=5):
        value, grad, diag = sweep(z)
        assert float(value) == pytest.approx(float(numpy_forward(net, params, z)[0]), rel=1e-12)
        for i in range(2):
            h1, h2 = 1e-5 * STD[i], 1e-3 * STD[i]
            e = np.zeros(2)
            e[i] = 1.0
            at = lambda dz: numpy_forward(net, params, np.asarray(z) + dz)[0]  # noqa: E731
            fd1 = (at(h1 * e) - at(-h1 * e)) / (2 * h1)
            fd2 = (at(h2 * e) - 2 * at(0 * e) + at(-h2 * e)) / h2**2
            assert float(grad[i]) == pytest.approx(fd1, rel=1e-7, abs=1e-9)
            assert float(diag[i]) == pytest.approx(fd2, rel=1e-4, abs=1e-6)
        np.testing.assert_allclose(grad, jax.jit(jax.grad(u))(z), rtol=1e-12)


def test_fast_derivative_jets_equal_forward_over_forward_mode():
    """taylor2 / taylor1 of the field = jvp-of-jvp along arbitrary directions, two outputs, rwf, open gates."""
    net = PirateNet((3, 5, 5, 2), features=3, input_mean=(0.1, 0.2, 0.3), input_std=(0.5, 2.0, 1.5), rwf=(1.0, 0.1))
    params = net.init(jax.random.PRNGKey(2), jnp.float64)
    params[4]["alpha"], params[7]["alpha"] = jnp.float64(0.7), jnp.float64(-0.4)
    directions = jax.random.normal(jax.random.PRNGKey(3), (4, 3), jnp.float64)
    z = jnp.array([0.3, -1.0, 2.0])
    generic = dataclasses.replace(net, taylor_mode="off")

    @jax.jit
    def both(z, directions):
        fast = net.field(params)
        return (
            derivatives.taylor2(fast, z, directions),
            derivatives.taylor1(fast, z, directions),
            derivatives.taylor2(generic.field(params), z, directions),
        )

    got, got1, want = both(z, directions)
    assert [a.shape for a in got] == [(2,), (4, 2), (4, 2)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    for a, b in zip(got1, want[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    scalar = PirateNet((2, 4, 1), features=2, activation="sin")
    p = scalar.init(jax.random.PRNGKey(4), jnp.float64)
    p[4]["alpha"] = jnp.float64(0.5)
    value, first, second = jax.jit(lambda z: derivatives.axis_derivatives(scalar.field(p), z))(jnp.array([0.2, 0.4]))
    assert value.shape == () and first.shape == (2,) and second.shape == (2,)
    hessian = jax.jit(jax.hessian(scalar.field(p)))(jnp.array([0.2, 0.4]))
    np.testing.assert_allclose(second, jnp.diag(hessian), rtol=1e-11)


def numpy_lstsq(net, params, points, values):
    phi = np.stack([numpy_embedding(net, p) for p in np.asarray(points)])
    return np.linalg.lstsq(phi, np.asarray(values) - np.asarray(params[-1]["b"]), rcond=None)[0]


@pytest.mark.parametrize("n", [40, 4])  # over- (unique) and under-determined (minimum norm), e = 6
def test_least_squares_init_is_numpys_lstsq_on_the_embedding(n):
    net, params = net_and_params(alphas=(0.0, 0.0), outputs=2)
    params[-1]["b"] = jnp.zeros(2, jnp.float64)  # the state at init: the paper's argmin ||Phi W - Y||
    points = random_points(n, seed=2)
    values = jnp.stack([jnp.sin(points[:, 0]), points[:, 1] ** 2], axis=1)
    new = least_squares_init(net, params, points, values)
    np.testing.assert_allclose(new[-1]["W"], numpy_lstsq(net, params, points, values), rtol=0, atol=1e-10)
    for before, after in zip(params[:-1], new[:-1]):  # everything else untouched, input not mutated
        assert all(after[k] is before[k] for k in before)
    assert params[-1]["W"] is not new[-1]["W"] and not np.allclose(params[-1]["W"], new[-1]["W"])
    if n < 6:  # fewer points than features: the data are fitted exactly
        np.testing.assert_allclose(jax.vmap(net.field(new))(points), values, atol=1e-10)


def test_least_squares_init_keeps_the_bias_and_the_rwf_scales():
    net = PirateNet((2, 5, 1), features=3, rwf=(1.0, 0.1), input_mean=tuple(MEAN), input_std=tuple(STD))
    params = net.init(jax.random.PRNGKey(3), jnp.float64)
    params[-1]["b"] = jnp.array([0.25])
    points = random_points(30, seed=4)
    values = jnp.cos(points[:, 0]) * points[:, 1]  # (n,) for a scalar output
    new = jax.jit(least_squares_init, static_argnums=0)(net, params, points, values)
    assert sorted(new[-1]) == ["V", "b", "s"]
    np.testing.assert_array_equal(new[-1]["s"], params[-1]["s"])
    np.testing.assert_array_equal(new[-1]["b"], params[-1]["b"])
    np.testing.assert_allclose(weight(new[-1])[:, 0], numpy_lstsq(net, params, points, values), rtol=0, atol=1e-10)


def test_least_squares_init_names_bad_shapes():
    net = PirateNet((2, 5, 2), features=3)
    params = net.init(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"points must have shape \(n, 2\)"):
        least_squares_init(net, params, jnp.ones((4, 3)), jnp.ones((4, 2)))
    with pytest.raises(ValueError, match=r"values must have shape \(4,\) or \(4, 2\)"):
        least_squares_init(net, params, jnp.ones((4, 2)), jnp.ones((4,)))


def test_a_few_adam_steps_lower_a_regression_loss_and_open_the_gates():
    net = PirateNet((2, 16, 16, 1), sigma=0.5, features=8, input_mean=tuple(MEAN), input_std=tuple(STD))
    points = random_points(64, seed=6)
    target = jnp.sin(2 * points[:, 0]) * jnp.tanh(points[:, 1])

    def loss(p):
        return jnp.mean((jax.vmap(net.field(p))(points) - target) ** 2)

    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    opt = optax.adam(1e-2)
    state = opt.init(params)

    @jax.jit
    def step(p, s):
        value, g = jax.value_and_grad(loss)(p)
        updates, s = opt.update(g, s)
        return optax.apply_updates(p, updates), s, value

    history = []
    for _ in range(30):
        params, state, value = step(params, state)
        history.append(float(value))
    assert history[-1] < 0.5 * history[0], history
    assert all(abs(float(params[i]["alpha"])) > 1e-3 for i in (4, 7))  # the gates have a gradient at zero


def test_vmap_over_two_seeds_equals_a_loop():
    net = PirateNet((2, 6, 6, 1), features=4)
    seeds = [net.init(jax.random.PRNGKey(s), jnp.float64) for s in (1, 2)]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *seeds)
    stacked[4]["alpha"] = jnp.array([0.2, -0.3])  # open the gates differently per seed
    stacked[7]["alpha"] = jnp.array([0.5, 0.1])
    points = random_points(7)
    both = jax.jit(jax.vmap(lambda p: jax.vmap(net.field(p))(points)))(stacked)
    for s in range(2):
        one = jax.tree_util.tree_map(lambda a: a[s], stacked)
        np.testing.assert_allclose(both[s], jax.jit(jax.vmap(net.field(one)))(points), rtol=1e-13)
    assert not np.allclose(both[0], both[1])


def test_save_and_load_round_trip(tmp_path):
    net, params = net_and_params(alphas=(0.2, 0.0))
    save_params(tmp_path, net, params)
    net2, params2 = load_params(tmp_path)
    assert net2 == net
    assert jax.tree_util.tree_structure(params2) == jax.tree_util.tree_structure(params)
    z = jnp.array([0.2, 0.6])
    np.testing.assert_array_equal(net2.apply(params2, z), net.apply(params, z))


def test_builder_registry_and_errors():
    box = klein_gordon().domain
    net = piratenet_for(box, (8, 8), features=4, sigma=2.0, outputs=2)
    assert net.layers == (box.dim, 8, 8, 2) and net.blocks == 2 and net.embedding_width == 8
    assert net.input_mean == box.mean() and net.input_std == box.std()
    assert ARCHITECTURES["piratenet"] is PirateNet
    with pytest.raises(ValueError, match="block widths must all be equal"):
        PirateNet((2, 8, 6, 1))
    with pytest.raises(ValueError, match="sigma"):
        PirateNet((2, 8, 1), sigma=0.0)
    with pytest.raises(ValueError, match="features"):
        PirateNet((2, 8, 1), features=0)
    with pytest.raises(ValueError, match="taylor_mode"):
        PirateNet((2, 8, 1), taylor_mode="stacked")
    with pytest.raises(ValueError, match="at least|input, one width"):
        PirateNet((2, 1))
