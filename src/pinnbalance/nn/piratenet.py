"""PirateNet: a Fourier embedding, two gating encoders and adaptive residual blocks that start switched off.

S. Wang, B. Li, Y. Chen and P. Perdikaris, "PirateNets: Physics-informed deep learning with
residual adaptive networks", JMLR 25 (2024), arXiv:2402.00326. With ``X = (z - mean) / std``
(the same z-score normalisation as ``MLP``, applied first) and the random Fourier embedding
of ``nn.fourier`` (one scale sigma, ``B in R^{m x d}``, ``B_ij ~ N(0, sigma^2)``, fixed):

    Phi = gamma_B(X) = [cos(2 pi B X), sin(2 pi B X)]            in R^e,  e = 2m
    U = s(Phi W_u + b_u),   V = s(Phi W_v + b_v)                 (the two encoders, width h)
    H_0 = Phi
    for l = 1 .. L (adaptive residual blocks):
        f   = s(H_{l-1} W_1 + b_1),   z_1 = f * U + (1 - f) * V      (e -> h)
        g   = s(z_1 W_2 + b_2),       z_2 = g * U + (1 - g) * V      (h -> h)
        r   = s(z_2 W_3 + b_3)                                        (h -> e)
        H_l = alpha_l * r + (1 - alpha_l) * H_{l-1}
    u = H_L W_out + b_out

Every gate ``alpha_l`` is a trainable scalar initialised at ZERO, so at initialisation
``H_L = Phi`` and the network is a linear model of its embedding, ``u = Phi W_out + b_out``;
training opens the blocks (the paper's remedy for deep PINNs' poor trainability: the
depth is earned, not paid at the start). The third layer maps back to the embedding width
e, so the residual mix needs no projection (as the published code's bottleneck block).

``layers = (d, h, ..., h, d_out)``: inputs, one width h per block (all equal: every block
gates with the same U and V, so L = ``len(layers) - 2`` blocks), outputs. ``features = m``
gives the embedding width ``e = 2m``. Parameters, a flat list of layer dicts (so ``io``
saves and reloads them like every other network)::

    [U (e -> h), V (e -> h),  block_1: W_1 (e -> h), W_2 (h -> h), W_3 (h -> e) + "alpha",
     ..., block_L, output (e -> d_out)]

the gate ``alpha`` (a 0-d array) stored in its block's third layer dict. That is

    P = 2 (e h + h) + L (2 e h + h^2 + 2 h + e + 1) + (e + 1) d_out

numbers; with random weight factorisation (``rwf``, ``nn.dense``, as the published code
uses on every dense layer) add one log-scale per output neuron, ``2 h + L (2 h + e) + d_out``.
The frequencies are fixed, not parameters (see ``nn.fourier``: ``frequencies`` holds the
standard normal draws ``G``, ``B = sigma G``, drawn by ``numpy.random.default_rng(seed)``).
Conventions: sigma is in cycles per unit of NORMALISED input (the ``2 pi`` is inside the
embedding); the published code writes ``[cos(X K), sin(X K)]`` with ``K ~ N(0, s^2)`` on
unnormalised inputs, i.e. ``s = 2 pi sigma / std``. Its periodic embedding is not included.

Physics-informed initialisation (paper, section 3.2): ``least_squares_init`` sets
``W_out = argmin_W ||H_L(X) W - (Y - b_out)||`` on given data (initial or boundary values);
at initialisation ``H_L = Phi`` and ``b_out = 0``, which is the paper's
``argmin ||Phi(X) W - Y||``, so the network starts as the least-squares fit of the data in
its own embedding.

Derivatives: like ``MLP``, ``field`` returns a callable with a fast ``taylor2``/``taylor1``
that ``derivatives.taylor2`` uses: value, k first and k pure second directional derivatives
are pushed through the network together as a "jet" ``(a, Da.v, D^2a[v, v])``. Besides the
MLP's two rules (a linear map maps each part; an elementwise s gives ``s(a)``,
``s'(a) da``, ``s''(a) da^2 + s'(a) d2a``, used for the activations and for cos/sin of the
embedding) PirateNet needs the product rule for the gates,

    D(f U) = f dU + df U,    D^2(f U) = f d2U + 2 df dU + d2f U,

and the residual mix is linear. Exact (the same numbers as forward over forward mode, to
rounding) with 1 + 2k streams instead of ~4k. ``taylor_mode="off"`` makes ``field`` a
plain function (generic jvp-of-jvp), for comparison and debugging.

Example:
    >>> import jax
    >>> from pinnbalance.nn import count_params
    >>> net = PirateNet((2, 16, 16, 1), features=8)  # e = h = 16, L = 2: 2*272 + 2*817 + 17
    >>> params = net.init(jax.random.PRNGKey(0))
    >>> count_params(params), float(params[4]["alpha"])
    (2195, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from pinnbalance.nn.dense import ACTIVATIONS, RWF, Layer, check_common, check_hidden, dense, init_dense, standardize, weight
from pinnbalance.nn.field import BoundField
from pinnbalance.nn.fourier import Matrix, fourier_embedding, frequency_draws
from pinnbalance.nn.mlp import _value_and_two_derivatives, normalization
from pinnbalance.problems.domain import Box


@dataclass(frozen=True)
class PirateNet:
    """PirateNet ``layers[0] -> [embed] -> L residual blocks of width h -> layers[-1]`` (see module doc)."""

    layers: tuple[int, ...]
    sigma: float = 1.0
    features: int = 128
    activation: str = "tanh"
    input_mean: tuple[float, ...] | None = None
    input_std: tuple[float, ...] | None = None
    rwf: RWF | None = None
    seed: int = 0
    taylor_mode: str = "auto"
    frequencies: tuple[Matrix, ...] | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(self.layers) < 3 or any(int(n) < 1 for n in self.layers):
            raise ValueError(
                f"PirateNet layers must be input, one width per residual block and output, e.g. (2, 256, 256, 256, 1); "
                f"got {self.layers}"
            )
        if len(set(self.layers[1:-1])) != 1:
            raise ValueError(
                f"PirateNet block widths must all be equal (every block gates with the same encoders U and V); "
                f"got {self.layers[1:-1]}"
            )
        if not self.sigma > 0:
            raise ValueError(f"sigma (the scale of the Fourier frequencies) must be > 0, e.g. 1.0; got {self.sigma}")
        if not isinstance(self.features, int) or self.features < 1:
            raise ValueError(
                f"features (rows of B; the embedding has 2 x features entries) must be a positive integer, got {self.features!r}"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed (of the frequency draws) must be a non-negative integer, got {self.seed!r}")
        if self.taylor_mode not in ("auto", "off"):
            raise ValueError(f"taylor_mode must be 'auto' (fast derivative jets) or 'off' (generic), got {self.taylor_mode!r}")
        check_common(self)
        shapes = [(self.features, self.layers[0])]
        object.__setattr__(self, "frequencies", frequency_draws(shapes, self.seed, self.frequencies))

    @property
    def width(self) -> int:
        """h: the width of the encoders and of the blocks' first two layers."""
        return self.layers[1]

    @property
    def embedding_width(self) -> int:
        """e = 2 features: the width of Phi, of every H_l and of the output layer's input."""
        return 2 * self.features

    @property
    def blocks(self) -> int:
        """L: the number of adaptive residual blocks."""
        return len(self.layers) - 2

    def frequency_matrix(self, dtype=jnp.float32) -> jax.Array:
        """The fixed ``B = sigma G`` of shape ``(features, layers[0])``."""
        return self.sigma * jnp.asarray(self.frequencies[0], dtype)

    def init(self, key: jax.Array, dtype=jnp.float32) -> list[Layer]:
        """Glorot-normal weights, zero biases, every gate ``alpha = 0`` (``rwf``: factorised, ``nn.dense``)."""
        e, h = self.embedding_width, self.width
        sizes = [(e, h), (e, h), *[(e, h), (h, h), (h, e)] * self.blocks, (e, self.layers[-1])]
        keys = jax.random.split(key, len(sizes))
        params = [init_dense(k, n_in, n_out, dtype, self.rwf) for k, (n_in, n_out) in zip(keys, sizes)]
        for block in range(self.blocks):
            params[4 + 3 * block]["alpha"] = jnp.zeros((), dtype)
        return params

    def embed(self, z: jax.Array) -> jax.Array:
        """``Phi(z)``: the Fourier embedding of one physical point ``z``, shape ``(2 features,)``."""
        return fourier_embedding(standardize(z, self.input_mean, self.input_std), self.frequency_matrix(z.dtype))

    def hidden(self, params: list[Layer], z: jax.Array) -> jax.Array:
        """``H_L(z)``: what the output layer reads (``Phi(z)`` while every gate is zero)."""
        act = ACTIVATIONS[self.activation]
        phi = self.embed(z)
        u, v = act(dense(params[0], phi)), act(dense(params[1], phi))
        h = phi
        for block in range(self.blocks):
            first, second, third = params[2 + 3 * block : 5 + 3 * block]
            f = act(dense(first, h))
            z1 = f * u + (1 - f) * v
            g = act(dense(second, z1))
            z2 = g * u + (1 - g) * v
            r = act(dense(third, z2))
            h = third["alpha"] * r + (1 - third["alpha"]) * h
        return h

    def apply(self, params: list[Layer], z: jax.Array) -> jax.Array:
        """The output at one point ``z`` of shape ``(layers[0],)`` (a scalar if ``layers[-1] == 1``)."""
        out = dense(params[-1], self.hidden(params, z))
        return out[0] if self.layers[-1] == 1 else out

    def field(self, params: list[Layer]):
        """``u(z)`` with the parameters bound, with fast ``taylor2``/``taylor1`` (``taylor_mode="off"``: plain)."""
        if self.taylor_mode == "off":
            return lambda z: self.apply(params, z)
        return PirateField(self, params)

    def taylor2(self, params: list[Layer], z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Value, first and pure second directional derivatives along each row of ``directions`` (module doc)."""
        return self._taylor(params, z, directions, order=2)

    def taylor1(self, params: list[Layer], z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Value and first directional derivatives (the first-order part of ``taylor2``)."""
        return self._taylor(params, z, directions, order=1)[:2]

    def _taylor(self, params: list[Layer], z: jax.Array, directions: jax.Array, order: int):
        act = ACTIVATIONS[self.activation]
        dz = directions.astype(z.dtype)
        if self.input_std is not None:
            dz = dz / jnp.asarray(self.input_std, z.dtype)
        x = (standardize(z, self.input_mean, self.input_std), dz, jnp.zeros_like(dz) if order == 2 else None)
        proj = _jet_linear(x, 2 * jnp.pi * self.frequency_matrix(z.dtype).T)
        phi = tuple(
            None if c is None else jnp.concatenate([c, s], axis=-1)
            for c, s in zip(_jet_map(jnp.cos, proj), _jet_map(jnp.sin, proj))
        )
        u, v = (_jet_map(act, _jet_linear(phi, weight(p), p["b"])) for p in params[:2])
        h = phi
        for block in range(self.blocks):
            first, second, third = params[2 + 3 * block : 5 + 3 * block]
            f = _jet_map(act, _jet_linear(h, weight(first), first["b"]))
            g = _jet_map(act, _jet_linear(_jet_mix(f, u, v), weight(second), second["b"]))
            r = _jet_map(act, _jet_linear(_jet_mix(g, u, v), weight(third), third["b"]))
            alpha = third["alpha"]
            h = jax.tree_util.tree_map(lambda r_, h_: alpha * r_ + (1 - alpha) * h_, r, h)
        a, da, d2a = _jet_linear(h, weight(params[-1]), params[-1]["b"])
        if self.layers[-1] == 1:
            a, da, d2a = a[0], da[:, 0], (None if d2a is None else d2a[:, 0])
        return a, da, d2a


# A jet is (value (w,), first derivatives (k, w), second derivatives (k, w) or None for order 1).


def _jet_linear(jet, W: jax.Array, b: jax.Array | None = None):
    """``a W + b``: each part mapped by ``W``, the bias only on the value."""
    a, da, d2a = jet
    value = a @ W if b is None else a @ W + b
    return value, da @ W, None if d2a is None else d2a @ W


def _jet_map(fn, jet):
    """An elementwise ``fn``: ``fn(a)``, ``fn'(a) da``, ``fn''(a) da^2 + fn'(a) d2a``."""
    a, da, d2a = jet
    s0, s1, s2 = _value_and_two_derivatives(fn, a)
    return s0, s1 * da, None if d2a is None else s2 * da**2 + s1 * d2a


def _jet_mix(gate, u, v):
    """``gate * u + (1 - gate) * v = v + gate * (u - v)`` by the product rule (``v``, ``u`` jets too)."""
    g, dg, d2g = gate
    w, dw, d2w = (ui - vi if ui is not None else None for ui, vi in zip(u, v))  # w = u - v
    value = v[0] + g * w
    first = v[1] + g * dw + dg * w
    second = None if d2g is None else v[2] + g * d2w + 2 * dg * dw + d2g * w
    return value, first, second


@dataclass(frozen=True)
class PirateField(BoundField):
    """A PirateNet with its parameters bound: callable as ``u(z)``, with a fast ``taylor2``."""


def least_squares_init(network: PirateNet, params: list[Layer], points: jax.Array, values: jax.Array) -> list[Layer]:
    """``params`` with the output weight replaced by the least-squares fit of ``values`` at ``points``.

        W_out = argmin_W || H_L(X) W - (Y - b_out) ||_2        (minimum-norm if not unique)

    ``points``: ``(n, layers[0])`` physical coordinates (e.g. initial-condition points);
    ``values``: ``(n,)`` for a scalar output or ``(n, layers[-1])``. The bias and every other
    layer are kept; with random weight factorisation the log-scales ``s`` are kept and
    ``V = W_out diag(exp(-s))``. At initialisation (gates zero, ``b_out = 0``) this is the
    paper's physics-informed initialisation ``argmin ||Phi(X) W - Y||``. Pure and jit-able.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> net = PirateNet((1, 8, 1), features=16)
        >>> x = jnp.linspace(-1.0, 1.0, 9)[:, None]
        >>> params = least_squares_init(net, net.init(jax.random.PRNGKey(0)), x, jnp.sin(x[:, 0]))
        >>> bool(jnp.max(jnp.abs(jax.vmap(net.field(params))(x) - jnp.sin(x[:, 0]))) < 1e-3)
        True
    """
    points, values = jnp.asarray(points), jnp.asarray(values)
    n_out = network.layers[-1]
    if points.ndim != 2 or points.shape[1] != network.layers[0]:
        raise ValueError(f"points must have shape (n, {network.layers[0]}), got {points.shape}")
    if values.ndim == 1 and n_out == 1:
        values = values[:, None]
    if values.shape != (points.shape[0], n_out):
        raise ValueError(
            f"values must have shape ({points.shape[0]},) or ({points.shape[0]}, {n_out}) for {points.shape[0]} points, "
            f"got {values.shape}"
        )
    out = params[-1]
    features = jax.vmap(lambda z: network.hidden(params, z))(points)
    W = jnp.linalg.lstsq(features, values - out["b"])[0].astype(out["b"].dtype)
    new_out = {**out, "W": W} if "W" in out else {**out, "V": W * jnp.exp(-out["s"])}
    return [*params[:-1], new_out]


def piratenet_for(
    box: Box,
    hidden: Sequence[int] = (256,) * 3,
    *,
    sigma: float = 1.0,
    features: int = 128,
    activation: str = "tanh",
    outputs: int = 1,
    samples: int | None = None,
    rwf: RWF | None = None,
    seed: int = 0,
) -> PirateNet:
    """A PirateNet sized for ``box``, inputs normalised to its mean and std; ``len(hidden)`` blocks.

    The defaults are the paper's (three blocks of width 256, a 256-wide embedding).
    """
    check_hidden(hidden)
    mean, std = normalization(box, samples)
    return PirateNet((box.dim, *hidden, outputs), sigma, features, activation, mean, std, rwf, seed)
