"""The modified MLP: two encoders of the input, mixed by a gate at every hidden layer.

The "improved fully-connected architecture" of S. Wang, Y. Teng and P. Perdikaris,
"Understanding and mitigating gradient flow pathologies in physics-informed neural
networks", SIAM J. Sci. Comput. 43(5), A3055-A3081 (2021), arXiv:2001.04536 (their
models M3, and M4 with learning-rate annealing). With ``X = (z - mean) / std``:

    U = s(X W_u + b_u),   V = s(X W_v + b_v)                         (the two encoders)
    H_1 = X
    Z_k = s(H_k W_k + b_k),   H_{k+1} = (1 - Z_k) * U + Z_k * V,      k = 1 .. n
    u = H_{n+1} W_out + b_out

``layers = (d, h, ..., h, d_out)`` lists n equal hidden widths (the gate mixes U and V,
so every hidden layer has their width h). Parameters, a list of layer dicts in this order:
``[U encoder, V encoder, gate_1 (d -> h), gate_2 .. gate_n (h -> h), output (h -> d_out)]``,
so ``3 (d h + h) + (n - 1)(h^2 + h) + h d_out + d_out`` numbers (10,701 for the published
``(2, 50 x 5, 1)``, against 10,401 for the plain MLP).

Paper vs published code (we follow the code where they differ):

- The paper writes ``H^(1) = s(X W^{z,1} + b^{z,1})`` and then
  ``Z^(k) = s(H^(k) W^{z,k} + b^{z,k})``, which read literally makes the first hidden
  layer ungated. The published code (GradientPathologiesPINNs, ``forward_pass`` of model
  M3/M4) gates every hidden layer, the first gate fed by X, as above. Both readings have
  the same parameter count.
- The code mixes ``Z * U + (1 - Z) * V``; we write the paper's ``(1 - Z) * U + Z * V``.
  U and V are drawn independently from the same law, so this only swaps their names.
- The code draws the encoders' biases Glorot-normal (std ``sqrt(2 / (1 + h))``); the paper
  does not say. ``encoder_bias="zeros"`` (default, like every other bias here) or
  ``"glorot"`` (the published code). All weights are Glorot normal, as in ``MLP``.

Example:
    >>> import jax
    >>> from pinnbalance.nn import count_params
    >>> net = ModifiedMLP((2, 50, 50, 50, 50, 50, 1))
    >>> count_params(net.init(jax.random.PRNGKey(0)))
    10701
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.nn.dense import (
    ACTIVATIONS,
    RWF,
    Layer,
    check_common,
    check_hidden,
    dense,
    glorot_normal,
    init_dense,
    standardize,
)
from pinnbalance.nn.mlp import normalization
from pinnbalance.problems.domain import Box

ENCODER_BIAS = ("zeros", "glorot")


@dataclass(frozen=True)
class ModifiedMLP:
    """Gated MLP ``layers[0] -> h x n -> layers[-1]`` with encoders U, V (see module doc)."""

    layers: tuple[int, ...]
    activation: str = "tanh"
    input_mean: tuple[float, ...] | None = None
    input_std: tuple[float, ...] | None = None
    rwf: RWF | None = None
    encoder_bias: str = "zeros"

    def __post_init__(self):
        if len(self.layers) < 3 or any(int(n) < 1 for n in self.layers):
            raise ValueError(
                f"ModifiedMLP layers must be input, hidden width(s) and output, e.g. (2, 50, 50, 1); got {self.layers}"
            )
        if len(set(self.layers[1:-1])) != 1:
            raise ValueError(
                f"ModifiedMLP hidden widths must all be equal (each gate mixes the encoders U and V); got {self.layers[1:-1]}"
            )
        if self.encoder_bias not in ENCODER_BIAS:
            raise ValueError(f"encoder_bias must be 'zeros' or 'glorot' (published code), got {self.encoder_bias!r}")
        check_common(self)

    @property
    def width(self) -> int:
        return self.layers[1]

    def init(self, key: jax.Array, dtype=jnp.float32) -> list[Layer]:
        """Glorot-normal weights, zero biases (encoder biases per ``encoder_bias``); order in module doc."""
        d, h = self.layers[0], self.width
        sizes = [(d, h), (d, h), *zip(self.layers[:-1], self.layers[1:])]
        keys = jax.random.split(key, len(sizes))
        params = [init_dense(k, n_in, n_out, dtype, self.rwf) for k, (n_in, n_out) in zip(keys, sizes)]
        if self.encoder_bias == "glorot":  # the published code: xavier_init([1, h]) for b_u, b_v
            for i in (0, 1):
                params[i]["b"] = glorot_normal(jax.random.fold_in(keys[i], 2), 1, h, dtype)[0]
        return params

    def apply(self, params: list[Layer], z: jax.Array) -> jax.Array:
        """The output at one point ``z`` of shape ``(layers[0],)`` (a scalar if ``layers[-1] == 1``)."""
        act = ACTIVATIONS[self.activation]
        x = standardize(z, self.input_mean, self.input_std)
        u, v = act(dense(params[0], x)), act(dense(params[1], x))
        h = x
        for layer in params[2:-1]:
            gate = act(dense(layer, h))
            h = (1 - gate) * u + gate * v
        out = dense(params[-1], h)
        return out[0] if self.layers[-1] == 1 else out

    def field(self, params: list[Layer]):
        """``u(z)`` with the parameters bound; a plain function, so derivatives are generic forward mode."""
        return lambda z: self.apply(params, z)


def modified_mlp_for(
    box: Box,
    hidden: Sequence[int] = (50,) * 5,
    activation: str = "tanh",
    outputs: int = 1,
    samples: int | None = None,
    rwf: RWF | None = None,
    encoder_bias: str = "zeros",
) -> ModifiedMLP:
    """A modified MLP sized for ``box`` with inputs normalised to the box's mean and std."""
    check_hidden(hidden)
    mean, std = normalization(box, samples)
    return ModifiedMLP((box.dim, *hidden, outputs), activation, mean, std, rwf, encoder_bias)
