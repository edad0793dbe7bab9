"""The straightforward implementation of the founding experiment, as published code does it.

Written here as the speed baseline (same maths as pinnbalance's M1/M2): a Python loop that
calls a jitted step each iteration, batches drawn with numpy on the host, second derivatives
by nested reverse-mode ``grad``, the adaptive weights held on the host as Python floats and
updated every 10 steps from a separate jitted gradient-statistics call (a second backward
pass, after the step, on that step's batch), and losses/L2 error pulled to the host every
100 steps.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

LAYERS = (2, 50, 50, 50, 50, 50, 1)
MU = np.array([0.5, 0.5])
SIGMA = np.array([1 / math.sqrt(12), 1 / math.sqrt(12)])


def exact(t, x):
    return x * jnp.cos(5 * jnp.pi * t) + (t * x) ** 3


def forcing(t, x):
    u_tt = -25 * jnp.pi**2 * x * jnp.cos(5 * jnp.pi * t) + 6 * t * x**3
    u_xx = 6 * x * t**3
    return u_tt - u_xx + exact(t, x) ** 3


def init(key):
    params = []
    for k, n_in, n_out in zip(jax.random.split(key, len(LAYERS) - 1), LAYERS[:-1], LAYERS[1:]):
        params.append((math.sqrt(2 / (n_in + n_out)) * jax.random.normal(k, (n_in, n_out)), jnp.zeros(n_out)))
    return params


def u_net(params, t, x):
    h = (jnp.stack([t, x]) - MU) / SIGMA
    for W, b in params[:-1]:
        h = jnp.tanh(h @ W + b)
    W, b = params[-1]
    return (h @ W + b)[0]


u_t = jax.grad(u_net, 1)
u_tt = jax.grad(u_t, 1)
u_xx = jax.grad(jax.grad(u_net, 2), 2)


def losses(params, res, ics, bc0, bc1):
    v = lambda f, pts: jax.vmap(f, (None, 0, 0))(params, pts[:, 0], pts[:, 1])  # noqa: E731
    u_res = v(u_net, res)
    r = v(u_tt, res) - v(u_xx, res) + u_res**3 - forcing(res[:, 0], res[:, 1])
    l_res = jnp.mean(r**2)
    l_ics = jnp.mean((v(u_net, ics) - ics[:, 1]) ** 2) + jnp.mean(v(u_t, ics) ** 2)
    l_bcs = jnp.mean((v(u_net, bc0) - exact(bc0[:, 0], bc0[:, 1])) ** 2) + jnp.mean(
        (v(u_net, bc1) - exact(bc1[:, 0], bc1[:, 1])) ** 2
    )
    return l_res, l_ics, l_bcs


def make(batch: int, adaptive: bool, seed: int = 1234, compiler_options: dict | None = None):
    """Return ``run(n_steps)``, which trains n more steps and returns nothing (timing only).

    ``compiler_options`` go to each ``jax.jit`` (default: none, XLA's defaults, as published
    code compiles); ``benchmarks/speed.py`` also times the baseline with pinnbalance's own.
    """
    jit = functools.partial(jax.jit, compiler_options=compiler_options or None)
    opt = optax.adam(optax.exponential_decay(1e-3, 1000, 0.9))
    params = init(jax.random.PRNGKey(seed))
    opt_state = opt.init(params)
    rng = np.random.default_rng(seed)
    g = np.linspace(0, 1, 100)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    u_grid = np.asarray(exact(grid[:, 0], grid[:, 1]))

    @jit
    def step(params, opt_state, lam_ics, lam_bcs, res, ics, bc0, bc1):
        def total(p):
            l_res, l_ics, l_bcs = losses(p, res, ics, bc0, bc1)
            return l_res + lam_ics * l_ics + lam_bcs * l_bcs, (l_res, l_ics, l_bcs)

        (_, parts), grads = jax.value_and_grad(total, has_aux=True)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, parts

    @jit
    def stats(params, lam_ics, lam_bcs, res, ics, bc0, bc1):
        def grad_of(i, lam):
            g = jax.grad(lambda p: lam * losses(p, res, ics, bc0, bc1)[i])(params)
            return [W for W, _ in g]

        g_res, g_ics, g_bcs = grad_of(0, 1.0), grad_of(1, lam_ics), grad_of(2, lam_bcs)
        max_res = jnp.max(jnp.stack([jnp.max(jnp.abs(w)) for w in g_res]))
        mean = lambda gs: jnp.mean(jnp.stack([jnp.mean(jnp.abs(w)) for w in gs]))  # noqa: E731
        return max_res, mean(g_ics), mean(g_bcs)

    @jit
    def l2(params):
        pred = jax.vmap(u_net, (None, 0, 0))(params, grid[:, 0], grid[:, 1])
        return jnp.linalg.norm(pred - u_grid) / jnp.linalg.norm(u_grid)

    state = {"params": params, "opt_state": opt_state, "lam_ics": 1.0, "lam_bcs": 1.0, "it": 0, "log": []}

    def draw():
        res = rng.uniform(0, 1, (batch, 2))
        ics = np.stack([np.zeros(batch), rng.uniform(0, 1, batch)], -1)
        bc0 = np.stack([rng.uniform(0, 1, batch), np.zeros(batch)], -1)
        bc1 = np.stack([rng.uniform(0, 1, batch), np.ones(batch)], -1)
        return [jnp.asarray(a, jnp.float32) for a in (res, ics, bc0, bc1)]

    def run(n: int) -> None:
        for _ in range(n):
            it = state["it"]
            batches = draw()
            state["params"], state["opt_state"], parts = step(
                state["params"], state["opt_state"], state["lam_ics"], state["lam_bcs"], *batches
            )
            if adaptive and it % 10 == 0:
                max_res, mean_ics, mean_bcs = (
                    float(v) for v in stats(state["params"], state["lam_ics"], state["lam_bcs"], *batches)
                )
                state["lam_ics"] = 0.9 * state["lam_ics"] + 0.1 * max_res / (mean_ics + 1e-10)
                state["lam_bcs"] = 0.9 * state["lam_bcs"] + 0.1 * max_res / (mean_bcs + 1e-10)
            if it % 100 == 0:
                state["log"].append((it, *(float(p) for p in parts), float(l2(state["params"]))))
            state["it"] = it + 1
        jax.block_until_ready(state["params"])

    run.state = state
    return run
