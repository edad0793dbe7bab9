"""SOAP: Adam run in the eigenbasis of Shampoo's preconditioner, as an optax transformation.

Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson & Kakade (2024), "SOAP: Improving
and Stabilizing Shampoo using Adam", arXiv:2409.11321 (Algorithms 3 and 4); used to train
PINNs by Wang, Bhartari, Li & Perdikaris (NeurIPS 2025), "Gradient alignment in
physics-informed neural networks: a second-order optimization perspective", arXiv:2502.00604.

For a weight matrix with gradient ``G`` (m x n), at step t = 1, 2, ... (``bs`` is
``shampoo_beta``, ``b2`` unless given; all products are matrix products):

    L <- bs L + (1 - bs) G G^T,        R <- bs R + (1 - bs) G^T G       (Shampoo statistics)
    G' = Q_L^T G Q_R                                                     (rotated gradient)
    M  <- b1 M + (1 - b1) G                                              (first moment, ORIGINAL basis)
    M' = Q_L^T M Q_R
    V  <- b2 V + (1 - b2) G' * G'                                        (second moment, ROTATED basis)
    N' = (M' / (1 - b1^t)) / (sqrt(V / (1 - b2^t)) + eps)                (Adam, in the rotated basis)
    direction = Q_L N' Q_R^T                    (``scale_by_soap``; ``soap`` steps by -lr times it)

then, after the step, so that a new basis acts from step t + 1 on:

    t = 1:  Q_L, Q_R = eigenvectors of L, R (eigh, eigenvalues descending); V = (1 - b2) G'^2
            recomputed in the new basis (it holds one gradient, so this is exact)
    t % f == 0 (f = ``precondition_frequency``): sort Q's columns by their estimated eigenvalues
            diag(Q^T L Q), largest first, permuting V's rows (for Q_L) and columns (for Q_R) alike;
            then Q_L <- QR(L Q_L), Q_R <- QR(R Q_R)   (one power iteration + QR: Algorithm 4)

Before step 1 the bases are the identity, so step 1 is Adam's first step.

Leaves of any rank follow the same rule axis by axis: axis k of a leaf gets a statistic
``G_(k) G_(k)^T`` (G unfolded along k) and a basis, if its length is at most
``max_precond_dim``; a longer axis keeps the identity (no statistic is stored for it). 1-D
leaves (biases) are rotated only with ``precondition_1d=True``; by default they, and scalars,
are plain Adam. So a model whose leaves are all unrotated is exactly ``optax.adam``.

Choices where the paper, its reference code and optax differ (each on purpose):

- **First step.** A basis must never rotate the gradient it was built from: in the basis of
  G's own singular vectors, G' is diagonal and its other entries are rounding residue, which
  Adam divides by its own size (float32: a random +-lr step in every off-diagonal direction).
  The reference code builds the basis from the first gradient and skips that step's update
  (still unsafe when the second gradient equals the first, as in full-batch training); we
  take step 1 in the identity basis (Adam's step) and build the basis after it (the paper's
  order: L, R and Q are updated after the step). An unrotated leaf is Adam from step one.
- **First moment.** Kept in the original basis and rotated every step (the paper's
  Algorithm 3). The reference code keeps it rotated and rotates it back and forth when the
  basis changes: the same numbers in exact arithmetic.
- **Second moment on a basis change.** As the reference code (``get_orthogonal_matrix_QR``):
  ``V`` is only permuted with the sorted columns. One power-iteration + QR step keeps new
  column k close to the old sorted column k, so entry (i, j) keeps following its pair of
  directions; ``V`` is not rotated into the new basis. (The first basis, after step 1,
  replaces the identity: there ``V`` is recomputed from G_1, see above.)
- **eps** is added to the square root of the bias-corrected ``V``, as ``optax.adam``; the
  reference code (PyTorch style) adds it before bias correction.
- **Weight decay** (``soap`` only) is decoupled, as ``optax.adamw``: ``-lr * wd * params``
  on the parameters before the step (the reference applies it after the step).
- The eigenbasis of a rank-deficient ``L`` is not unique: with one gradient, ``L_1`` has rank
  at most min(m, n), so for |m - n| >= 2 the first basis in ``L_1``'s null space is whatever
  ``eigh`` returns, and steps 2 to f depend on it (as in the reference code). That basis is set
  by the last bits of G_1, so a perturbation of 1e-15 moves step 2 by O(1) of its size
  (Adam's step, elementwise, depends on the basis). Hence seeds vmapped differ from the same
  seeds alone (~1e-7 after 40 steps in float64): not through eigh or QR, which under vmap
  are bitwise the unbatched ones on CPU, but through the gradient, whose batched matrix
  products round differently (~2e-16); ``tests/optim/test_soap_null_space.py``.

Everything lives in the state pytree (count, moments, statistics, bases); the first-step
eigh and the refreshes are a ``lax.switch`` on the count, so ``update`` compiles once and
``vmap`` over a stacked state (many seeds) works (a batched count turns the switch into a select).

Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> params = {"W": jnp.array([[1.0, 0.5], [0.0, -1.0]]), "b": jnp.array([0.3, -0.2])}
    >>> loss = lambda p: jnp.sum((p["W"] @ jnp.array([1.0, 2.0]) + p["b"]) ** 2)
    >>> opt = soap(1e-2, precondition_frequency=5)
    >>> state = opt.init(params)
    >>> @jax.jit
    ... def step(params, state):
    ...     updates, state = opt.update(jax.grad(loss)(params), state)
    ...     return optax.apply_updates(params, updates), state
    >>> for _ in range(300):
    ...     params, state = step(params, state)
    >>> bool(loss(params) < 1e-3)
    True
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

Bases = tuple[jax.Array | None, ...]  # one entry per axis of a leaf; None = not rotated (identity)


class ScaleBySoapState(NamedTuple):
    """``count`` steps taken; ``mu`` first moment (original basis); ``nu`` second moment
    (rotated basis); per leaf, one Shampoo statistic and one orthogonal basis per rotated axis."""

    count: jax.Array
    mu: optax.Updates
    nu: optax.Updates
    stats: Any
    bases: Any


def _check_decay(name: str, value) -> None:
    if isinstance(value, int | float) and not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1) (an EMA weight on the old value), got {value}")


def _check_settings(b1, b2, eps, shampoo_beta, precondition_frequency, max_precond_dim) -> None:
    _check_decay("b1", b1)
    _check_decay("b2", b2)
    if shampoo_beta is not None:
        _check_decay("shampoo_beta", shampoo_beta)
    if isinstance(eps, int | float) and not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    for name, value in (("precondition_frequency", precondition_frequency), ("max_precond_dim", max_precond_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def rotated_axes(shape: tuple[int, ...], max_precond_dim: int, precondition_1d: bool) -> tuple[bool, ...]:
    """Which axes of a leaf of ``shape`` get a Shampoo basis.

    Example:
        >>> rotated_axes((50, 20000), 10000, False), rotated_axes((7,), 10000, False)
        ((True, False), (False,))
    """
    if len(shape) == 0 or (len(shape) == 1 and not precondition_1d):
        return (False,) * len(shape)
    return tuple(d <= max_precond_dim for d in shape)


def project(x: jax.Array, bases: Bases) -> jax.Array:
    """``x`` in the rotated basis: for a matrix, ``Q_L^T x Q_R``.

    Each axis in turn is contracted with its basis (or moved, if unrotated) to the end, so
    after all axes the original order is back."""
    for q in bases:
        x = jnp.moveaxis(x, 0, -1) if q is None else jnp.tensordot(x, q, axes=(0, 0))
    return x


def project_back(x: jax.Array, bases: Bases) -> jax.Array:
    """``x`` back in the original basis: for a matrix, ``Q_L x Q_R^T``."""
    for q in bases:
        x = jnp.moveaxis(x, 0, -1) if q is None else jnp.tensordot(x, q, axes=(0, 1))
    return x


def gram(g: jax.Array, axis: int) -> jax.Array:
    """``G_(axis) G_(axis)^T``: for a matrix, ``G G^T`` (axis 0) or ``G^T G`` (axis 1)."""
    others = [k for k in range(g.ndim) if k != axis]
    return jnp.tensordot(g, g, axes=(others, others))


def eigenbasis(stat: jax.Array) -> jax.Array:
    """Eigenvectors of a symmetric ``stat`` as columns, eigenvalues in descending order."""
    return jnp.linalg.eigh(stat)[1][:, ::-1]


def refresh(stat: jax.Array, q: jax.Array, nu: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
    """One power iteration + QR from the current basis ``q`` (the paper's Algorithm 4).

    The columns are first sorted by their estimated eigenvalues ``diag(q^T stat q)``,
    largest first, and ``nu`` is permuted along ``axis`` with them (reference code's choice)."""
    estimates = jnp.einsum("ij,ik,kj->j", q, stat, q)
    order = jnp.argsort(-estimates)
    q = q[:, order]
    return jnp.linalg.qr(stat @ q)[0], jnp.take(nu, order, axis=axis)


def _adam_direction(mu, nu, count, b1, b2, eps):
    mu_hat = mu / (1 - b1**count).astype(mu.dtype)
    nu_hat = nu / (1 - b2**count).astype(nu.dtype)
    return mu_hat / (jnp.sqrt(nu_hat) + eps)


def _leaf_update(g, mu, nu, stats, bases, count, *, b1, b2, bs, eps, frequency):
    """One SOAP step for one leaf: ``(direction, mu, nu, stats, bases)``."""
    mu = b1 * mu + (1 - b1) * g
    if all(q is None for q in bases):  # nothing rotated: plain Adam
        nu = b2 * nu + (1 - b2) * g**2
        return _adam_direction(mu, nu, count, b1, b2, eps), mu, nu, stats, bases
    stats = tuple(None if s is None else bs * s + (1 - bs) * gram(g, k) for k, s in enumerate(stats))
    nu = b2 * nu + (1 - b2) * project(g, bases) ** 2
    direction = project_back(_adam_direction(project(mu, bases), nu, count, b1, b2, eps), bases)

    def first(bases, nu):  # V holds one gradient: recompute it exactly in the new basis
        bases = tuple(None if s is None else eigenbasis(s) for s in stats)
        return bases, (1 - b2) * project(g, bases) ** 2

    def refresh_all(bases, nu):
        new = list(bases)
        for k, (s, q) in enumerate(zip(stats, bases)):
            if s is not None:
                new[k], nu = refresh(s, q, nu, k)
        return tuple(new), nu

    keep = lambda bases, nu: (bases, nu)
    branch = jnp.where(count == 1, 0, jnp.where(count % frequency == 0, 1, 2))
    bases, nu = jax.lax.switch(branch, (first, refresh_all, keep), bases, nu)
    return direction, mu, nu, stats, bases


def scale_by_soap(
    b1: float = 0.95,
    b2: float = 0.95,
    eps: float = 1e-8,
    *,
    precondition_frequency: int = 10,
    max_precond_dim: int = 10000,
    shampoo_beta: float | None = None,
    precondition_1d: bool = False,
) -> optax.GradientTransformation:
    """The SOAP direction (module docstring), unscaled: chain a learning rate, or use ``soap``.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = scale_by_soap()
        >>> grads = {"W": jnp.ones((3, 2)), "b": jnp.ones(2)}
        >>> direction, state = opt.update(grads, opt.init(grads))
        >>> [round(float(x), 6) for x in direction["b"]]  # 1-D: Adam's first step, g / (|g| + eps)
        [1.0, 1.0]
    """
    _check_settings(b1, b2, eps, shampoo_beta, precondition_frequency, max_precond_dim)
    bs = b2 if shampoo_beta is None else shampoo_beta

    def per_axis(p, make):
        rotated = rotated_axes(p.shape, max_precond_dim, precondition_1d)
        return tuple(make(d, dtype=p.dtype) if r else None for d, r in zip(p.shape, rotated))

    def init_fn(params):
        return ScaleBySoapState(
            count=jnp.zeros([], jnp.int32),
            mu=jax.tree.map(jnp.zeros_like, params),
            nu=jax.tree.map(jnp.zeros_like, params),
            stats=jax.tree.map(lambda p: per_axis(p, lambda d, dtype: jnp.zeros((d, d), dtype)), params),
            bases=jax.tree.map(lambda p: per_axis(p, jnp.eye), params),  # replaced at step 1 by the eigh of L_1
        )

    def update_fn(updates, state, params=None):
        del params
        count = optax.safe_increment(state.count)
        step = lambda g, m, v, s, q: _leaf_update(
            g, m, v, s, q, count, b1=b1, b2=b2, bs=bs, eps=eps, frequency=precondition_frequency
        )
        out = jax.tree.map(step, updates, state.mu, state.nu, state.stats, state.bases)
        part = lambda i: jax.tree.map(lambda _, o: o[i], updates, out)
        return part(0), ScaleBySoapState(count, part(1), part(2), part(3), part(4))

    return optax.GradientTransformation(init_fn, update_fn)


def soap(
    learning_rate: optax.ScalarOrSchedule,
    b1: float = 0.95,
    b2: float = 0.95,
    *,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    precondition_frequency: int = 10,
    max_precond_dim: int = 10000,
    shampoo_beta: float | None = None,
    precondition_1d: bool = False,
) -> optax.GradientTransformation:
    """SOAP with a learning rate (a float or an optax schedule): ``params -= lr * (direction + wd * params)``.

    A nonzero ``weight_decay`` needs ``params`` passed to ``update`` (as ``optax.adamw``).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> params = {"W": jnp.ones((2, 2))}
        >>> opt = soap(optax.exponential_decay(1e-3, 1000, 0.9), weight_decay=1e-4)
        >>> updates, state = opt.update(params, opt.init(params), params)
        >>> updates["W"].shape
        (2, 2)
    """
    direction = scale_by_soap(
        b1,
        b2,
        eps,
        precondition_frequency=precondition_frequency,
        max_precond_dim=max_precond_dim,
        shampoo_beta=shampoo_beta,
        precondition_1d=precondition_1d,
    )
    decay = [] if isinstance(weight_decay, int | float) and weight_decay == 0 else [optax.add_decayed_weights(weight_decay)]
    return optax.chain(direction, *decay, optax.scale_by_learning_rate(learning_rate))
