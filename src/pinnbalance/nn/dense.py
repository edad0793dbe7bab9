"""Dense layers shared by every architecture: Glorot-normal init, optional random weight factorisation.

A layer is a dict of arrays. Plain: ``{"W": (n_in, n_out), "b": (n_out,)}``. With random
weight factorisation (RWF, Wang, Wang, Wang & Perdikaris 2022, "Random weight
factorization improves the training of continuous neural representations",
arXiv:2210.01274) the weight is stored as a per-output-neuron log-scale ``s`` and a
direction matrix ``V``:

    W = V diag(exp(s))          (in the paper's column convention W x: W = diag(exp(s)) V)
    s ~ N(mu, sigma^2) per output neuron,   V = W0 diag(exp(-s)),   W0 the Glorot draw

so at initialisation the effective weight equals the Glorot draw ``W0`` (the network
computes the same function as without RWF); only the parametrisation, hence the gradient
flow, differs. The paper's defaults are ``mu = 1.0, sigma = 0.1``. Weight matrices stay
the leaves with ``ndim == 2`` (``V``); the scales ``s`` are vectors, like biases.

Example:
    >>> import jax
    >>> layer = init_dense(jax.random.PRNGKey(0), 3, 4, rwf=(1.0, 0.1))
    >>> sorted(layer), weight(layer).shape
    (['V', 'b', 's'], (3, 4))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

Layer = dict[str, jax.Array]

RWF = tuple[float, float]
"""Random weight factorisation settings ``(mu, sigma)``: the log-scales' mean and spread."""

ACTIVATIONS = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
    "swish": jax.nn.swish,
    "softplus": jax.nn.softplus,
}


def glorot_normal(key: jax.Array, n_in: int, n_out: int, dtype=jnp.float32) -> jax.Array:
    """Untruncated Glorot (Xavier) normal draw: std = sqrt(2 / (n_in + n_out))."""
    return math.sqrt(2.0 / (n_in + n_out)) * jax.random.normal(key, (n_in, n_out), dtype)


def init_dense(key: jax.Array, n_in: int, n_out: int, dtype=jnp.float32, rwf: RWF | None = None) -> Layer:
    """A Glorot-normal layer with zero bias; with ``rwf=(mu, sigma)`` stored factorised.

    The Glorot draw uses ``key`` itself either way, so a factorised layer's effective weight
    equals the plain layer drawn from the same key; ``s`` uses ``fold_in(key, 1)``.
    """
    w0 = glorot_normal(key, n_in, n_out, dtype)
    b = jnp.zeros((n_out,), dtype)
    if rwf is None:
        return {"W": w0, "b": b}
    mu, sigma = rwf
    s = mu + sigma * jax.random.normal(jax.random.fold_in(key, 1), (n_out,), dtype)
    return {"s": s, "V": w0 / jnp.exp(s), "b": b}


def weight(layer: Layer) -> jax.Array:
    """The effective weight matrix ``W`` of a layer (``V diag(exp(s))`` when factorised)."""
    if "W" in layer:
        return layer["W"]
    return layer["V"] * jnp.exp(layer["s"])


def dense(layer: Layer, h: jax.Array) -> jax.Array:
    """``h W + b``."""
    return h @ weight(layer) + layer["b"]


def standardize(z: jax.Array, mean: Sequence[float] | None, std: Sequence[float] | None) -> jax.Array:
    """``(z - mean) / std`` with either part optional (None: skipped)."""
    if mean is not None:
        z = z - jnp.asarray(mean, z.dtype)
    if std is not None:
        z = z / jnp.asarray(std, z.dtype)
    return z


def check_rwf(rwf) -> None:
    """``rwf`` is None or ``(mu, sigma)`` with ``sigma >= 0``."""
    if rwf is None:
        return
    if not isinstance(rwf, tuple) or len(rwf) != 2 or not all(isinstance(v, (int, float)) for v in rwf):
        raise ValueError(f"rwf must be None or (mu, sigma), e.g. (1.0, 0.1) as in the paper; got {rwf!r}")
    if not rwf[1] >= 0:
        raise ValueError(f"rwf sigma (the spread of the log-scales s) must be >= 0, got {rwf[1]}")


def check_hidden(hidden) -> None:
    """``hidden`` lists at least one hidden layer, each of a positive width (a builder's argument)."""
    if not len(hidden) or any(width < 1 for width in hidden):
        raise ValueError(f"hidden must list one positive width per hidden layer, e.g. [50, 50]; got {list(hidden)}")


def check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}")


def check_common(network) -> None:
    """The fields every architecture has: ``activation``, ``input_mean`` and ``input_std`` (one
    entry per input, ``layers[0]``) and ``rwf``; a ``ValueError`` naming the bad one."""
    check_activation(network.activation)
    check_inputs(network.layers[0], network.input_mean, network.input_std)
    check_rwf(network.rwf)


def check_inputs(n_inputs: int, input_mean, input_std) -> None:
    """Normalisation constants, if given, have one entry per input."""
    for name, value in (("input_mean", input_mean), ("input_std", input_std)):
        if value is not None and len(value) != n_inputs:
            raise ValueError(f"{name} has {len(value)} entries but the network takes {n_inputs} inputs")
