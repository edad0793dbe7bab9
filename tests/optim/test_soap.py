"""SOAP against a NumPy transcription of the published algorithm, against optax.adam where it
reduces to Adam, on a least-squares problem, and under jit / vmap (float64 throughout)."""

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance.optim import scale_by_soap, soap

B1, B2, EPS, LR = 0.95, 0.95, 1e-8, 1e-2


# --- The reference: Vyas et al. 2024, Algorithm 3 (one layer) + Algorithm 4, in plain NumPy ---


def eigenvectors(stat):
    """The first basis: the eigenvectors of the statistic, in eigh's (ascending) order on
    purpose: the module sorts descending, and the order must not matter."""
    return np.linalg.eigh(stat)[1]


def power_qr(stat, q, v, axis):
    """Algorithm 4 with the reference code's sort: columns by diag(Q^T P Q) descending
    (V's rows / columns follow them), then Q <- QR(P Q)."""
    order = np.argsort(-np.diag(q.T @ stat @ q))
    return np.linalg.qr(stat @ q[:, order])[0], np.take(v, order, axis=axis)


class ReferenceSoap:
    """SOAP for a dict of float64 arrays (vectors: Adam; matrices: Algorithm 3, bases from the
    identity, the first eigenbasis built after step 1). A side longer than ``max_dim`` keeps
    Q = I (its statistic is kept but unused)."""

    def __init__(self, params, lr=LR, b1=B1, b2=B2, eps=EPS, frequency=3, max_dim=10000):
        self.lr, self.b1, self.b2, self.eps, self.f, self.max_dim = lr, b1, b2, eps, frequency, max_dim
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.L, self.R, self.QL, self.QR = {}, {}, {}, {}

    def step(self, params, grads):
        self.t += 1
        t, b1, b2 = self.t, self.b1, self.b2
        out = {}
        for k, W in params.items():
            G = grads[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * G
            if G.ndim == 1:  # Adam
                self.v[k] = b2 * self.v[k] + (1 - b2) * G**2
                N = (self.m[k] / (1 - b1**t)) / (np.sqrt(self.v[k] / (1 - b2**t)) + self.eps)
                out[k] = W - self.lr * N
                continue
            m, n = G.shape
            rot_l, rot_r = m <= self.max_dim, n <= self.max_dim
            if t == 1:  # the bases start at the identity
                self.L[k], self.R[k], self.QL[k], self.QR[k] = np.zeros((m, m)), np.zeros((n, n)), np.eye(m), np.eye(n)
            QL, QR = self.QL[k], self.QR[k]
            Gp = QL.T @ G @ QR
            Mp = QL.T @ self.m[k] @ QR
            self.v[k] = b2 * self.v[k] + (1 - b2) * Gp * Gp
            Np = (Mp / (1 - b1**t)) / (np.sqrt(self.v[k] / (1 - b2**t)) + self.eps)
            out[k] = W - self.lr * (QL @ Np @ QR.T)
            self.L[k] = b2 * self.L[k] + (1 - b2) * G @ G.T
            self.R[k] = b2 * self.R[k] + (1 - b2) * G.T @ G
            if t == 1:  # the first eigenbasis, after the first step; V (one gradient) recomputed in it
                self.QL[k] = eigenvectors(self.L[k]) if rot_l else QL
                self.QR[k] = eigenvectors(self.R[k]) if rot_r else QR
                self.v[k] = (1 - b2) * (self.QL[k].T @ G @ self.QR[k]) ** 2
            elif t % self.f == 0:
                if rot_l:
                    self.QL[k], self.v[k] = power_qr(self.L[k], QL, self.v[k], 0)
                if rot_r:
                    self.QR[k], self.v[k] = power_qr(self.R[k], QR, self.v[k], 1)
        return out


# --- Problems with hand-written NumPy gradients (the same oracle feeds both optimizers) ---

rng = np.random.default_rng(0)


def quadratic(m, n):
    """f = 0.5 tr(W^T A W) - tr(B^T W) + 0.5 |b - c|^2 with W m x n, A SPD: (grads, params)."""
    c = rng.normal(size=(m, m))
    a, b, bias = c @ c.T + 0.5 * np.eye(m), rng.normal(size=(m, n)), rng.normal(size=n)
    grads = lambda p: {"W": a @ p["W"] - b, "b": p["b"] - bias}
    return grads, {"W": rng.normal(size=(m, n)), "b": np.zeros(n)}


def mlp(hidden):
    """f = 0.5 mean_batch |tanh(x W1 + b1) W2 + b2 - y|^2, 3 -> hidden -> 3: (grads backpropagated
    by hand, params, f in jax.numpy)."""
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 3))

    def loss(p):
        h = jnp.tanh(x @ p["W1"] + p["b1"])
        return 0.5 * jnp.mean(jnp.sum((h @ p["W2"] + p["b2"] - y) ** 2, axis=1))

    def grads(p):
        h = np.tanh(x @ p["W1"] + p["b1"])
        r = (h @ p["W2"] + p["b2"] - y) / len(x)
        dh = (r @ p["W2"].T) * (1 - h**2)
        return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ r, "b2": r.sum(0)}

    params = {
        "W1": rng.normal(size=(3, hidden)) / 2,
        "b1": np.zeros(hidden),
        "W2": rng.normal(size=(hidden, 3)) / 2,
        "b2": np.zeros(3),
    }
    return grads, params, loss


def run_optax(opt, params, grad_fn, steps):
    params = {k: jnp.asarray(v) for k, v in params.items()}
    state = opt.init(params)
    update = jax.jit(opt.update)
    for _ in range(steps):
        grads = {k: jnp.asarray(v) for k, v in grad_fn({k: np.asarray(x) for k, x in params.items()}).items()}
        updates, state = update(grads, state)
        params = optax.apply_updates(params, updates)
    return {k: np.asarray(v) for k, v in params.items()}


def run_reference(ref, params, grad_fn, steps):
    for _ in range(steps):
        params = ref.step(params, grad_fn(params))
    return params


def max_diff(a, b):
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def test_mlp_gradients_are_right():
    grads, p, loss = mlp(4)
    auto = jax.grad(loss)({k: jnp.asarray(v) for k, v in p.items()})
    assert max_diff(grads(p), {k: np.asarray(v) for k, v in auto.items()}) < 1e-13


@pytest.mark.parametrize(
    "make, max_dim",
    [
        (lambda: quadratic(4, 3), 10000),
        (lambda: quadratic(4, 3), 3),  # W's 4-long side keeps the identity: one-sided SOAP
        (lambda: mlp(4)[:2], 10000),
    ],
    ids=["quadratic-4x3", "quadratic-4x3-one-sided", "mlp-3-4-3"],
)
def test_matches_the_published_algorithm_step_by_step(make, max_dim, eps=EPS):
    """30 steps, bases refreshed every 3: Adam's step 1, the eigh after it, then 9
    power-iteration + QR refreshes with the sort and V's permutation.

    Shapes have |m - n| <= 1: then L_1's null space is at most a line and the first basis is
    unique up to signs, which SOAP does not see (V holds squares, M is kept unrotated). With
    |m - n| >= 2 the basis of that null space is eigh's arbitrary choice (a 3 x 5 W differs
    from NumPy by ~1e-3 after 30 steps), as the module docstring says."""
    grads, params0 = make()
    ref = run_reference(ReferenceSoap(params0, eps=eps, frequency=3, max_dim=max_dim), params0, grads, 30)
    ours = run_optax(soap(LR, B1, B2, eps=eps, precondition_frequency=3, max_precond_dim=max_dim), params0, grads, 30)
    assert max_diff(ref, params0) > 0.05  # the run went somewhere
    assert max_diff(ours, ref) < 1e-10
    # and it is not Adam: the rotation changes the path by far more than the tolerance
    assert max_diff(ours, run_optax(optax.adam(LR, B1, B2, eps), params0, grads, 30)) > 1e-4


def test_vectors_only_is_adam():
    params0 = {"a": rng.normal(size=5), "b": rng.normal(size=3), "c": np.array(0.7)}
    target = {"a": rng.normal(size=5), "b": rng.normal(size=3), "c": np.array(-0.2)}
    grads = lambda p: {k: np.sin(p[k] - target[k]) + (p[k] - target[k]) ** 3 for k in p}
    ours = run_optax(soap(LR, B1, B2, eps=EPS, precondition_frequency=3), params0, grads, 40)
    adam = run_optax(optax.adam(LR, B1, B2, EPS), params0, grads, 40)
    assert max_diff(ours, params0) > 0.1
    assert max_diff(ours, adam) < 1e-12


def test_matrices_without_rotation_are_adam():
    """max_precond_dim below every side: every basis is the identity, so SOAP is Adam."""
    grads, params0, _ = mlp(4)
    ours = run_optax(soap(LR, B1, B2, eps=EPS, precondition_frequency=3, max_precond_dim=2), params0, grads, 40)
    adam = run_optax(optax.adam(LR, B1, B2, EPS), params0, grads, 40)
    assert max_diff(ours, params0) > 0.1
    assert max_diff(ours, adam) < 1e-12


def test_step_one_is_adam_and_step_two_is_adam_in_the_singular_basis_of_step_one():
    """By hand, via the SVD (not eigh): step 1 is Adam's sign(G_1) (bases start at the identity).
    Then L_1 ~ G_1 G_1^T, R_1 ~ G_1^T G_1, so Q_L = U, Q_R = V from G_1 = U S V^T (up to
    signs, which cancel) and V_1 = (1 - b2) S^2 (diagonal). Step 2:
        M_2' = U^T (b1 (1 - b1) G_1 + (1 - b1) G_2) V,   V_2 = b2 V_1 + (1 - b2) (U^T G_2 V)^2,
        direction = U [(M_2' / (1 - b1^2)) / (sqrt(V_2 / (1 - b2^2)) + eps)] V^T."""
    g1, g2 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    opt = scale_by_soap(B1, B2, EPS)
    d1, state = opt.update({"W": jnp.asarray(g1)}, opt.init({"W": jnp.zeros((3, 4))}))
    d2, _ = opt.update({"W": jnp.asarray(g2)}, state)
    np.testing.assert_allclose(d1["W"], np.sign(g1) / (1 + EPS / np.abs(g1)), rtol=0, atol=1e-15)
    u, s, vt = np.linalg.svd(g1)  # u 3x3, vt 4x4: V's fourth column spans R_1's null space (a line)
    v1 = (1 - B2) * np.pad(np.diag(s**2), ((0, 0), (0, 1)))
    m2 = u.T @ (B1 * (1 - B1) * g1 + (1 - B1) * g2) @ vt.T
    v2 = B2 * v1 + (1 - B2) * (u.T @ g2 @ vt.T) ** 2
    expected = u @ ((m2 / (1 - B1**2)) / (np.sqrt(v2 / (1 - B2**2)) + EPS)) @ vt
    np.testing.assert_allclose(d2["W"], expected, rtol=0, atol=1e-12)


def test_converges_on_least_squares():
    """min 0.5 |X W - Y|^2 / n with a consistent Y: the loss falls by more than 1e4 in 400
    steps (cosine-decayed learning rate)."""
    x = jnp.asarray(rng.normal(size=(64, 8)) @ np.diag(np.geomspace(1, 10, 8)))
    y = x @ jnp.asarray(rng.normal(size=(8, 4)))
    loss = lambda p: 0.5 * jnp.mean(jnp.sum((x @ p["W"] + p["b"] - y) ** 2, axis=1))
    params = {"W": jnp.zeros((8, 4)), "b": jnp.zeros(4)}
    opt = soap(optax.cosine_decay_schedule(0.05, 400), precondition_frequency=10)

    @jax.jit
    def run(params):
        def body(carry, _):
            p, s = carry
            u, s = opt.update(jax.grad(loss)(p), s)
            return (optax.apply_updates(p, u), s), None

        return jax.lax.scan(body, (params, opt.init(params)), None, length=400)[0][0]

    assert loss(params) / loss(run(params)) > 1e4


def test_vmap_over_seeds_equals_separate_runs_and_jit_compiles_once():
    opt = soap(LR, precondition_frequency=3)
    loss = mlp(4)[2]
    traces = []

    def step(p, s):
        traces.append(1)
        u, s = opt.update(jax.grad(loss)(p), s)
        return optax.apply_updates(p, u), s

    def init(key):
        k1, k2 = jax.random.split(key)
        return {"W1": jax.random.normal(k1, (3, 4)), "b1": jnp.zeros(4), "W2": jax.random.normal(k2, (4, 3)), "b2": jnp.zeros(3)}

    one = jax.jit(step)
    many = jax.jit(jax.vmap(step))
    keys = jax.random.split(jax.random.key(1), 2)
    stacked = jax.vmap(init)(keys)
    states = jax.vmap(opt.init)(stacked)
    singles = [(init(k), opt.init(init(k))) for k in keys]
    for _ in range(7):  # the eigh after step 1, refreshes after steps 3 and 6
        stacked, states = many(stacked, states)
        singles = [one(p, s) for p, s in singles]
    assert len(traces) == 2  # one trace each for `one` and `many` across all 7 steps
    for i, (p, s) in enumerate(singles):
        for a, b in zip(jax.tree.leaves((p, s)), jax.tree.leaves((stacked, states))):
            np.testing.assert_allclose(a, b[i], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"b1": 1.0}, "b1 must be in"),
        ({"b2": -0.1}, "b2 must be in"),
        ({"shampoo_beta": 1.5}, "shampoo_beta must be in"),
        ({"eps": -1e-8}, "eps must be >= 0"),
        ({"precondition_frequency": 0}, "precondition_frequency must be a positive integer"),
        ({"max_precond_dim": 2.5}, "max_precond_dim must be a positive integer"),
    ],
)
def test_bad_settings_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        soap(1e-3, **bad)


def test_docstring_examples_run():
    module = importlib.import_module("pinnbalance.optim.soap")  # the package's `soap` attribute is the function
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_float32_stays_float32():
    params = {"W": jnp.ones((3, 4), jnp.float32), "b": jnp.ones(4, jnp.float32)}
    opt = soap(1e-3, precondition_frequency=1)
    state = opt.init(params)
    update = jax.jit(opt.update)
    for _ in range(3):  # Adam's step, the eigh, a refresh
        updates, state = update(jax.tree.map(lambda p: p * 0.5, params), state)
    assert {x.dtype for x in jax.tree.leaves((updates, state)) if jnp.issubdtype(x.dtype, jnp.floating)} == {jnp.dtype("float32")}
