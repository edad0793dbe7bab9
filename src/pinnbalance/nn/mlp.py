"""Multilayer perceptron with Glorot-normal weights and input z-score normalisation.

The architecture is a frozen, hashable description (layer sizes, activation name,
normalisation constants); the parameters are a plain pytree
``[{"W": (n_in, n_out), "b": (n_out,)}, ...]``, so they pass through ``jit``, ``grad``
and ``vmap`` untouched, and weight matrices are the leaves with ``ndim == 2``. With
``rwf=(mu, sigma)`` each layer is stored factorised as ``{"s", "V", "b"}`` and its
effective weight is ``V diag(exp(s))`` (random weight factorisation, see ``nn.dense``).

    u(z) = W_L^T s(... s(W_1^T (z - mu) / sigma + b_1) ...) + b_L

Normalisation sits inside ``apply``, so derivatives of ``u`` with respect to ``z`` are
with respect to the physical coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.nn.dense import ACTIVATIONS, RWF, check_common, check_hidden, dense, init_dense, standardize, weight
from pinnbalance.nn.field import BoundField
from pinnbalance.problems.domain import Box

Params = list[dict[str, jax.Array]]


@dataclass(frozen=True)
class MLP:
    """A fully connected network ``layers[0] -> ... -> layers[-1]`` with a scalar output.

    Example:
        >>> import jax
        >>> net = MLP(layers=(2, 50, 50, 50, 50, 50, 1))
        >>> params = net.init(jax.random.PRNGKey(0))
        >>> count_params(params)
        10401
        >>> count_params(MLP((2, 50, 1), rwf=(1.0, 0.1)).init(jax.random.PRNGKey(0)))  # + one s per neuron
        252
    """

    layers: tuple[int, ...]
    activation: str = "tanh"
    input_mean: tuple[float, ...] | None = None
    input_std: tuple[float, ...] | None = None
    taylor_mode: str = "auto"
    rwf: RWF | None = None

    def __post_init__(self):
        if self.taylor_mode not in ("auto", "stacked", "streams", "off"):
            raise ValueError(f"taylor_mode must be 'auto', 'stacked', 'streams' or 'off', got {self.taylor_mode!r}")
        if len(self.layers) < 2 or any(int(n) < 1 for n in self.layers):
            raise ValueError(f"MLP layers must be at least two positive sizes, e.g. (2, 50, 1); got {self.layers}")
        check_common(self)

    def init(self, key: jax.Array, dtype=jnp.float32) -> Params:
        """Glorot-normal weights (untruncated, std = sqrt(2 / (fan_in + fan_out))), zero biases.

        With ``rwf`` each weight is factorised after the same Glorot draw (``nn.dense``).
        """
        keys = jax.random.split(key, len(self.layers) - 1)
        return [init_dense(k, n_in, n_out, dtype, self.rwf) for k, n_in, n_out in zip(keys, self.layers[:-1], self.layers[1:])]

    def apply(self, params: Params, z: jax.Array) -> jax.Array:
        """The scalar output at one point ``z`` of shape ``(layers[0],)``."""
        h = standardize(z, self.input_mean, self.input_std)
        act = ACTIVATIONS[self.activation]
        for layer in params[:-1]:
            h = act(dense(layer, h))
        out = dense(params[-1], h)
        return out[0] if self.layers[-1] == 1 else out

    def field(self, params: Params):
        """``u(z)`` with the parameters bound: the function residuals differentiate.

        With ``taylor_mode="off"`` it is a plain function, so derivatives fall back to
        generic forward-over-forward mode (for comparison and debugging).
        """
        if self.taylor_mode == "off":
            return lambda z: self.apply(params, z)
        return MLPField(self, params)

    def taylor2(self, params: Params, z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Value, first and pure second directional derivatives, pushed through the layers together.

        For k directions the layer carries ``a``, ``Da.v_k`` and ``D^2a[v_k, v_k]``; a
        linear layer maps each with the same matrix, and an elementwise activation s gives

            value: s(h),  first: s'(h) dh,  second: s''(h) dh^2 + s'(h) d2h.

        Exact (no truncation): the same numbers as forward-over-forward mode, with
        1 + 2k streams instead of its ~4k. ``taylor_mode`` picks how streams meet the
        weights: ``"stacked"`` (one ``(1 + 2k, width)`` product per layer: fewer, larger
        kernels, best on GPU) or ``"streams"`` (one product per stream, no concatenation:
        best on CPU); ``"auto"`` chooses by backend at trace time; ``"off"`` makes
        ``field`` a plain function (generic jvp-of-jvp derivatives).
        """
        return self._taylor(params, z, directions, order=2)

    def taylor1(self, params: Params, z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Value and first directional derivatives (the first-order part of ``taylor2``)."""
        return self._taylor(params, z, directions, order=1)

    def _taylor(self, params: Params, z: jax.Array, directions: jax.Array, order: int):
        k = directions.shape[0]
        dtype = z.dtype
        a, da = z, directions.astype(dtype)
        if self.input_mean is not None:
            a = a - jnp.asarray(self.input_mean, dtype)
        if self.input_std is not None:
            std = jnp.asarray(self.input_std, dtype)
            a, da = a / std, da / std
        d2a = jnp.zeros_like(da) if order == 2 else None
        mode = self.taylor_mode
        if mode == "auto":
            mode = "streams" if jax.default_backend() == "cpu" else "stacked"
        act = ACTIVATIONS[self.activation]
        for i, layer in enumerate(params):
            W = weight(layer)
            if mode == "stacked":
                h = jnp.concatenate([a[None], da] + ([d2a] if order == 2 else [])) @ W
                h0, dh, d2h = h[0], h[1 : 1 + k], h[1 + k :]
            else:
                h0, dh = a @ W, da @ W
                d2h = None if order == 1 else (d2a @ W if i > 0 else jnp.zeros_like(dh))  # input's 2nd derivative is 0
            h0 = h0 + layer["b"]
            if i == len(params) - 1:
                a, da, d2a = h0, dh, d2h
                break
            s0, s1, s2 = _value_and_two_derivatives(act, h0)
            a, da = s0, s1 * dh
            if order == 2:
                d2a = s2 * dh**2 + s1 * d2h
        if self.layers[-1] == 1:
            a, da, d2a = a[0], da[:, 0], (d2a[:, 0] if order == 2 else None)
        return (a, da, d2a) if order == 2 else (a, da)


def _value_and_two_derivatives(act, h: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``s(h), s'(h), s''(h)`` elementwise, by forward mode (exact for any activation)."""
    ones = jnp.ones_like(h)

    def first(x):
        return jax.jvp(act, (x,), (ones,))

    (s0, s1), (_, s2) = jax.jvp(first, (h,), (ones,))
    return s0, s1, s2


@dataclass(frozen=True)
class MLPField(BoundField):
    """An MLP with its parameters bound: callable as ``u(z)``, with a fast ``taylor2``."""


def count_params(params) -> int:
    """Total number of scalar parameters in a pytree."""
    return sum(int(leaf.size) for leaf in jax.tree_util.tree_leaves(params))


def normalization(
    box: Box, samples: int | None = None, key: jax.Array | None = None
) -> tuple[tuple[float, ...], tuple[float, ...]] | tuple[None, None]:
    """Mean and std of the inputs over ``box``: exact for the uniform law (``samples=None``), or from
    samples; ``samples=0``: ``(None, None)``, raw inputs (as DeepXDE's networks take them).

    ``samples=100_000`` reproduces the published code, which estimated them from a draw.
    """
    if samples is None:
        return box.mean(), box.std()
    if samples == 0:
        return None, None
    key = jax.random.PRNGKey(0) if key is None else key
    lower, upper = box.bounds()  # any geometry: its bounding box
    lo, hi = jnp.array(lower), jnp.array(upper)
    z = lo + (hi - lo) * jax.random.uniform(key, (samples, box.dim))
    return tuple(float(v) for v in z.mean(0)), tuple(float(v) for v in z.std(0))


def mlp_for(
    box: Box,
    hidden: Sequence[int] = (50,) * 5,
    activation: str = "tanh",
    outputs: int = 1,
    samples: int | None = None,
    rwf: RWF | None = None,
) -> MLP:
    """An MLP sized for ``box`` with inputs normalised to the box's mean and std."""
    check_hidden(hidden)
    mean, std = normalization(box, samples)
    return MLP((box.dim, *hidden, outputs), activation, mean, std, rwf=rwf)
