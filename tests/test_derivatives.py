import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import derivatives as d
from pinnbalance.nn import MLP


def field(z):
    t, x = z[0], z[1]
    return jnp.sin(3 * t) * x**3 + jnp.exp(t * x)


def closed_form(z):
    t, x = z
    e = np.exp(t * x)
    return {
        "u_t": 3 * np.cos(3 * t) * x**3 + x * e,
        "u_x": 3 * np.sin(3 * t) * x**2 + t * e,
        "u_tt": -9 * np.sin(3 * t) * x**3 + x**2 * e,
        "u_xx": 6 * np.sin(3 * t) * x + t**2 * e,
    }


POINTS = np.random.default_rng(0).uniform(-1, 1, size=(7, 2))


def test_partials_match_closed_form_float64():
    for p in POINTS:
        z = jnp.asarray(p, jnp.float64)
        want = closed_form(p)
        np.testing.assert_allclose(d.partial(field, z, 0), want["u_t"], rtol=1e-12)
        np.testing.assert_allclose(d.partial(field, z, 1), want["u_x"], rtol=1e-12)
        np.testing.assert_allclose(d.second_partial(field, z, 0), want["u_tt"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(d.second_partial(field, z, 1), want["u_xx"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(d.laplacian(field, z), want["u_tt"] + want["u_xx"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(d.gradient(field, z), [want["u_t"], want["u_x"]], rtol=1e-12)


def test_one_sweep_gives_value_first_and_second():
    z = jnp.asarray(POINTS[0], jnp.float64)
    u, u_t, u_tt = d.value_and_axis_derivatives(field, z, 0)
    want = closed_form(POINTS[0])
    np.testing.assert_allclose([u, u_t, u_tt], [field(z), want["u_t"], want["u_tt"]], rtol=1e-12)


def test_vmapped_over_points_matches_pointwise():
    pts = jnp.asarray(POINTS, jnp.float64)
    got = d.at_points(lambda z: d.second_partial(field, z, 1), pts)
    np.testing.assert_allclose(got, [closed_form(p)["u_xx"] for p in POINTS], rtol=1e-12, atol=1e-12)


def test_network_derivatives_are_physical_and_agree_with_reverse_mode():
    """Normalisation inside the network: forward-mode derivatives w.r.t. physical z equal
    reverse-over-reverse ones, and the chain-rule factor 1/sigma^2 appears."""
    net = MLP((2, 16, 16, 1), "tanh", input_mean=(0.5, 2.0), input_std=(0.3, 4.0))
    params = net.init(jax.random.PRNGKey(1), jnp.float64)
    u = net.field(params)
    z = jnp.array([0.2, 1.5], jnp.float64)
    hess = jax.hessian(u)(z)
    np.testing.assert_allclose(d.second_partial(u, z, 0), hess[0, 0], rtol=1e-10)
    np.testing.assert_allclose(d.second_partial(u, z, 1), hess[1, 1], rtol=1e-10)
    # the same network without normalisation, fed normalised inputs, differs by 1/sigma^2
    raw = MLP((2, 16, 16, 1), "tanh")
    zn = (z - jnp.array([0.5, 2.0])) / jnp.array([0.3, 4.0])
    raw_u = raw.field(params)
    np.testing.assert_allclose(d.second_partial(u, z, 1), d.second_partial(raw_u, zn, 1) / 16.0, rtol=1e-10)


def test_mlp_taylor2_equals_forward_over_forward_mode():
    """The stacked value/first/second propagation through the MLP is exact."""
    for activation, mode in [("tanh", "stacked"), ("tanh", "streams"), ("sin", "auto"), ("gelu", "stacked")]:
        net = MLP((2, 12, 12, 1), activation, input_mean=(0.5, 2.0), input_std=(0.3, 4.0), taylor_mode=mode)
        params = net.init(jax.random.PRNGKey(4), jnp.float64)
        u = net.field(params)
        dirs = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]], jnp.float64)
        for p in POINTS[:3]:
            z = jnp.asarray(p, jnp.float64)
            fast = d.taylor2(u, z, dirs)
            slow = d.taylor2(lambda y: net.apply(params, y), z, dirs)  # generic path (plain function)
            for a, b in zip(fast, slow):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(fast[2][:2], jnp.diag(jax.hessian(u)(z)), rtol=1e-10)
            first_fast = d.taylor1(u, z, dirs)
            first_slow = d.taylor1(lambda y: net.apply(params, y), z, dirs)
            for a, b in zip(first_fast, first_slow):
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(first_fast[1], fast[1], rtol=1e-12)


def test_axis_derivatives_closed_form():
    z = jnp.asarray(POINTS[1], jnp.float64)
    value, grad, diag = d.axis_derivatives(field, z)
    want = closed_form(POINTS[1])
    np.testing.assert_allclose(value, field(z), rtol=1e-12)
    np.testing.assert_allclose(grad, [want["u_t"], want["u_x"]], rtol=1e-12)
    np.testing.assert_allclose(diag, [want["u_tt"], want["u_xx"]], rtol=1e-12, atol=1e-12)
