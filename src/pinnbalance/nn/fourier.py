"""Random Fourier feature networks: single-, multi-scale and spatio-temporal.

With ``X = (z - mean) / std`` (the same z-score normalisation as ``MLP``, applied first),
a Gaussian random Fourier embedding (Tancik et al. 2020, "Fourier features let networks
learn high frequency functions in low dimensional domains", NeurIPS, arXiv:2006.10739) is

    gamma_B(X) = [cos(2 pi B X), sin(2 pi B X)] in R^{2m},   B in R^{m x d},  B_ij ~ N(0, sigma^2)

Multi-scale (S. Wang, H. Wang and P. Perdikaris 2021, "On the eigenvector bias of Fourier
feature networks: from regression to solving multi-scale PDEs with physics-informed neural
networks", CMAME 384, 113938, arXiv:2012.10047): one B_i per scale sigma_i, ONE shared
MLP trunk (every layer activated) applied to each embedding, the outputs concatenated and
mapped by a final linear layer:

    H_i = trunk(gamma_{B_i}(X)),   u = W [H_1, ..., H_M] + b

Spatio-temporal variant (same paper), with t the coordinate ``time_axis`` and x the others:
separate embeddings of t (scales ``time_sigmas``, B^t_j in R^{m x 1}) and of x (scales
``sigmas``, B^x_i in R^{m x (d-1)}), all through the same trunk, merged pointwise:

    H^(i,j) = trunk(gamma_{B^x_i}(x)) * trunk(gamma_{B^t_j}(t)),
    u = W [H^(1,1), H^(1,2), ..., H^(M,N)] + b

``layers = (d, h_1, ..., h_n, d_out)``: inputs, trunk widths, outputs (the trunk's first
layer takes the 2m-vector embedding). Parameters, a list of layer dicts: the n trunk
layers, then the final layer ``(K h_n -> d_out)`` with K = M (or M N). That is
``2m h_1 + h_1 + sum_k (h_k h_{k+1} + h_{k+1}) + K h_n d_out + d_out`` numbers.

The frequencies are fixed, not trained. They are NOT in the parameters: they belong to
the architecture (``frequencies``: the standard normal draws G_k, B_k = sigma_k G_k),
drawn by ``numpy.random.default_rng(seed)`` when the description is built (space scales
first, then time scales, each ``(features, d_k)``). So no optimizer, weight decay or
gradient statistic can ever see or move them (a stop_gradient leaf would still be
decayed by AdamW and counted, as zeros, by the weighting schemes' weight-matrix
statistics). Consequences: the same description gives the same B for every training
seed (change ``seed`` to vary B), and ``save_params`` writes the draws to ``params.npz``
(``fourier.G{k}``) so a saved network reloads exactly even if numpy's stream changes.
``dataclasses.replace`` keeps ``frequencies``: pass ``frequencies=None`` to redraw.
Note that sigma is in cycles per unit of NORMALISED input (inputs have unit std).

Example:
    >>> import jax
    >>> from pinnbalance.nn import count_params
    >>> net = FourierFeatures((2, 50, 50, 1), sigmas=(1.0, 10.0), features=100)
    >>> count_params(net.init(jax.random.PRNGKey(0)))  # 200*50+50 + 50*50+50 + (2*50)*1+1
    12701
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.nn.dense import ACTIVATIONS, RWF, Layer, check_common, check_hidden, dense, init_dense, standardize
from pinnbalance.nn.mlp import normalization
from pinnbalance.problems.domain import Box

Matrix = tuple[tuple[float, ...], ...]


def fourier_embedding(x: jax.Array, B: jax.Array) -> jax.Array:
    """``[cos(2 pi B x), sin(2 pi B x)]``: shape ``(2m,)`` for ``B`` of shape ``(m, d)``, ``x`` of ``(d,)``.

    Example:
        >>> import jax.numpy as jnp
        >>> gamma = fourier_embedding(jnp.array([0.125]), jnp.array([[1.0], [2 / 3]]))  # 2 pi B x = pi/4, pi/6
        >>> [round(float(v), 4) for v in gamma]
        [0.7071, 0.866, 0.7071, 0.5]
    """
    proj = 2 * jnp.pi * (B @ x)
    return jnp.concatenate([jnp.cos(proj), jnp.sin(proj)])


def frequency_draws(shapes: Sequence[tuple[int, int]], seed: int, given: Sequence | None = None) -> tuple[Matrix, ...]:
    """Standard normal draws ``G_k`` of the given shapes, as hashable nested tuples.

    ``given`` None: drawn by ``numpy.random.default_rng(seed)``, in order; otherwise
    ``given`` is checked against ``shapes`` and returned as tuples (a reloaded network).
    """
    shapes = [tuple(shape) for shape in shapes]
    if given is None:
        rng = np.random.default_rng(seed)
        draws = [rng.standard_normal(shape) for shape in shapes]
    else:
        draws = [np.asarray(g, dtype=np.float64) for g in given]
        got = [g.shape for g in draws]
        if got != shapes:
            raise ValueError(f"frequencies have shapes {got}; this architecture needs {shapes}")
    return tuple(tuple(tuple(float(v) for v in row) for row in g) for g in draws)


@dataclass(frozen=True)
class FourierFeatures:
    """Fourier feature network ``layers[0] -> [embed] -> h_1 ... h_n -> layers[-1]`` (see module doc)."""

    layers: tuple[int, ...]
    sigmas: tuple[float, ...] = (1.0,)
    features: int = 100
    activation: str = "tanh"
    input_mean: tuple[float, ...] | None = None
    input_std: tuple[float, ...] | None = None
    rwf: RWF | None = None
    time_axis: int | None = None
    time_sigmas: tuple[float, ...] = (1.0,)
    seed: int = 0
    frequencies: tuple[Matrix, ...] | None = field(default=None, repr=False)

    def __post_init__(self):
        if len(self.layers) < 3 or any(int(n) < 1 for n in self.layers):
            raise ValueError(
                f"FourierFeatures layers must be input, trunk width(s) and output, e.g. (2, 50, 1); got {self.layers}"
            )
        if not self.sigmas or any(not s > 0 for s in self.sigmas):
            raise ValueError(f"sigmas must list at least one scale > 0, e.g. (1.0, 10.0); got {self.sigmas}")
        if int(self.features) < 1:
            raise ValueError(f"features (rows of each B) must be a positive integer, got {self.features}")
        if self.time_axis is not None:
            if self.layers[0] < 2 or not 0 <= self.time_axis < self.layers[0]:
                raise ValueError(
                    f"time_axis {self.time_axis} needs a network of >= 2 inputs with that axis; got {self.layers[0]} inputs"
                )
            if not self.time_sigmas or any(not s > 0 for s in self.time_sigmas):
                raise ValueError(f"time_sigmas must list at least one scale > 0, got {self.time_sigmas}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed (of the frequency draws) must be a non-negative integer, got {self.seed!r}")
        check_common(self)
        object.__setattr__(self, "frequencies", self._checked_frequencies())

    # ---- the fixed frequencies -------------------------------------------------------
    def _shapes(self) -> list[tuple[int, int]]:
        d_space = self.layers[0] - (self.time_axis is not None)
        shapes = [(self.features, d_space)] * len(self.sigmas)
        if self.time_axis is not None:
            shapes += [(self.features, 1)] * len(self.time_sigmas)
        return shapes

    def _checked_frequencies(self) -> tuple[Matrix, ...]:
        return frequency_draws(self._shapes(), self.seed, self.frequencies)

    @property
    def scales(self) -> tuple[float, ...]:
        """sigma of each embedding, in the order of ``frequencies`` (space, then time)."""
        return tuple(self.sigmas) + (tuple(self.time_sigmas) if self.time_axis is not None else ())

    def frequency_matrices(self, dtype=jnp.float32) -> list[jax.Array]:
        """The fixed ``B_k = sigma_k G_k``, each ``(features, d_k)``."""
        return [s * jnp.asarray(g, dtype) for s, g in zip(self.scales, self.frequencies)]

    # ---- the network -----------------------------------------------------------------
    @property
    def n_embeddings(self) -> int:
        """K: how many trunk outputs the final layer reads (M, or M N when spatio-temporal)."""
        return len(self.sigmas) * (len(self.time_sigmas) if self.time_axis is not None else 1)

    def init(self, key: jax.Array, dtype=jnp.float32) -> list[Layer]:
        """Glorot-normal trunk and final layer, zero biases (``rwf``: factorised, see ``nn.dense``)."""
        sizes = [2 * self.features, *self.layers[1:-1]]
        sizes = [*zip(sizes[:-1], sizes[1:]), (self.n_embeddings * self.layers[-2], self.layers[-1])]
        keys = jax.random.split(key, len(sizes))
        return [init_dense(k, n_in, n_out, dtype, self.rwf) for k, (n_in, n_out) in zip(keys, sizes)]

    def embed(self, z: jax.Array) -> jax.Array:
        """The embeddings ``gamma_{B_k}`` of one physical point ``z``, stacked: ``(n_B, 2 features)``."""
        x = standardize(z, self.input_mean, self.input_std)
        B = self.frequency_matrices(z.dtype)
        if self.time_axis is None:
            parts = [x] * len(B)
        else:
            ta = self.time_axis
            space, time = jnp.concatenate([x[:ta], x[ta + 1 :]]), x[ta : ta + 1]
            parts = [space] * len(self.sigmas) + [time] * len(self.time_sigmas)
        return jnp.stack([fourier_embedding(p, b) for p, b in zip(parts, B)])

    def apply(self, params: list[Layer], z: jax.Array) -> jax.Array:
        """The output at one point ``z`` of shape ``(layers[0],)`` (a scalar if ``layers[-1] == 1``)."""
        act = ACTIVATIONS[self.activation]
        h = self.embed(z)  # every embedding goes through the shared trunk at once
        for layer in params[:-1]:
            h = act(dense(layer, h))
        if self.time_axis is not None:  # H^(i,j) = H^x_i * H^t_j, i outer, j inner
            m = len(self.sigmas)
            h = h[:m, None, :] * h[None, m:, :]
        out = dense(params[-1], h.reshape(-1))
        return out[0] if self.layers[-1] == 1 else out

    def field(self, params: list[Layer]):
        """``u(z)`` with the parameters bound; a plain function, so derivatives are generic forward mode."""
        return lambda z: self.apply(params, z)


def fourier_for(
    box: Box,
    sigmas: Sequence[float] = (1.0,),
    features: int = 100,
    hidden: Sequence[int] = (50,) * 5,
    activation: str = "tanh",
    outputs: int = 1,
    samples: int | None = None,
    rwf: RWF | None = None,
    time_sigmas: Sequence[float] | None = None,
    time_coordinate: str = "t",
    seed: int = 0,
) -> FourierFeatures:
    """A Fourier feature network sized for ``box``, inputs normalised to its mean and std.

    ``time_sigmas`` given: the spatio-temporal variant, with the time coordinate named
    ``time_coordinate`` in the box.
    """
    check_hidden(hidden)
    mean, std = normalization(box, samples)
    spatio_temporal = time_sigmas is not None
    return FourierFeatures(
        (box.dim, *hidden, outputs),
        tuple(sigmas),
        features,
        activation,
        mean,
        std,
        rwf,
        box.axis(time_coordinate) if spatio_temporal else None,
        tuple(time_sigmas) if spatio_temporal else (1.0,),
        seed,
    )
