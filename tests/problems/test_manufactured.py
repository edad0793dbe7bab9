"""Packaged problems posed with another manufactured solution (``exact=``): the forcing, the
initial and the boundary data follow it, checked against forcings derived by hand."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import helmholtz, klein_gordon, wave

POINTS = [(0.2, 0.7), (0.55, 0.1), (0.9, 0.45)]


def zero(z):  # a "network" that is zero everywhere: its residual is minus the forcing
    return 0.0 * z[0]


def at(z):
    return jnp.array(z, jnp.float64)


def kg_exact(z):  # u = sin(t) x^2 + x
    t, x = z[0], z[1]
    return jnp.sin(t) * x**2 + x


@pytest.mark.parametrize("z", POINTS)
def test_klein_gordon_forcing_and_data_follow_the_solution(z):
    alpha, beta, gamma, k = -1.5, 0.5, 2.0, 3
    problem = klein_gordon(alpha, beta, gamma, k, exact=kg_exact)
    t, x = z
    u = np.sin(t) * x**2 + x
    f = -np.sin(t) * x**2 + alpha * 2 * np.sin(t) + beta * u + gamma * u**k  # u_tt = -sin t x^2, u_xx = 2 sin t
    res, ics, bcs = (problem.terms[n].residual for n in ("res", "ics", "bcs"))
    assert float(res(zero, at(z))) == pytest.approx(-f, rel=1e-12)
    assert float(res(kg_exact, at(z))) == pytest.approx(0.0, abs=1e-12)
    # t = 0: u(0, x) = x and u_t(0, x) = x^2 (the published problem's u_t target is 0)
    np.testing.assert_allclose(ics(zero, at((0.0, x))), [-x, -(x**2)], rtol=1e-12)
    np.testing.assert_allclose(ics(kg_exact, at((0.0, x))), [0.0, 0.0], atol=1e-12)
    sides = at([(t, 0.0), (t, 1.0)])
    np.testing.assert_allclose(bcs(zero, sides), [0.0, -(np.sin(t) + 1.0)], rtol=1e-12)
    assert problem.exact is kg_exact


def test_klein_gordon_default_is_unchanged():
    from pinnbalance.problems.klein_gordon import exact_solution, forcing_closed_form

    problem = klein_gordon()
    for z in POINTS:
        assert float(problem.terms["res"].residual(zero, at(z))) == pytest.approx(-float(forcing_closed_form(at(z))), rel=1e-12)
        assert float(problem.terms["ics"].residual(exact_solution, at((0.0, z[1])))[1]) == 0.0


def hh_exact(z):  # u = x^2 y + exp(y)
    return z[0] ** 2 * z[1] + jnp.exp(z[1])


@pytest.mark.parametrize("z", [(-0.4, 0.3), (0.8, -0.9), (0.1, 0.5)])
def test_helmholtz_forcing_follows_the_solution(z):
    lam = 2.5
    problem = helmholtz(lam=lam, exact=hh_exact)
    x, y = z
    q = 2 * y + np.exp(y) + lam * (x**2 * y + np.exp(y))  # u_xx = 2 y, u_yy = e^y
    assert float(problem.terms["res"].residual(zero, at(z))) == pytest.approx(-q, rel=1e-12)
    sides = at([(x, -1.0), (1.0, y), (x, 1.0), (-1.0, y)])
    expected = [-(-(x**2) + np.exp(-1)), -(y + np.exp(y)), -(x**2 + np.e), -(y + np.exp(y))]
    np.testing.assert_allclose(problem.terms["bcs"].residual(zero, sides), expected, rtol=1e-12)
    assert problem.parameters == {"lam": lam}


def wave_exact(z):  # u = t^2 x^3 + sin(t) x
    t, x = z[0], z[1]
    return t**2 * x**3 + jnp.sin(t) * x


@pytest.mark.parametrize("z", POINTS)
def test_wave_forcing_and_data_follow_the_solution(z):
    c = 1.5
    problem = wave(c=c, exact=wave_exact)
    t, x = z
    f = 2 * x**3 - np.sin(t) * x - c**2 * 6 * t**2 * x  # u_tt - c^2 u_xx
    res, dirichlet, velocity = (problem.terms[n].residual for n in ("res", "u", "ut"))
    assert float(res(zero, at(z))) == pytest.approx(-f, rel=1e-12)
    assert float(res(wave_exact, at(z))) == pytest.approx(0.0, abs=1e-12)
    assert float(velocity(zero, at((0.0, x)))) == pytest.approx(-x, rel=1e-12)  # u_t(0, x) = x
    pieces = at([(0.0, x), (t, 0.0), (t, 1.0)])
    np.testing.assert_allclose(dirichlet(zero, pieces), [0.0, 0.0, -(t**2 + np.sin(t))], rtol=1e-12, atol=1e-15)
    assert problem.parameters == {"c": c}


def test_conflicting_or_bad_exact_is_refused():
    with pytest.raises(ValueError, match="a1 = 2.0, a2 = 4.0 shape the default solution"):
        helmholtz(a1=2.0, exact=hh_exact)
    with pytest.raises(ValueError, match="a = 0.3 weighs the default solution's second mode"):
        wave(a=0.3, exact=wave_exact)
    with pytest.raises(TypeError, match="klein_gordon: exact must be a function of one point z"):
        klein_gordon(exact=1.0)
