"""Networks: architectures as frozen descriptions, parameters as pytrees.

Every architecture has ``init(key, dtype) -> params`` (a list of layer dicts),
``apply(params, z)``, ``field(params) -> u`` and ``layers`` (``layers[0]`` is the number
of inputs). ``ARCHITECTURES`` maps the configuration names to the classes.
"""

from pinnbalance.nn.dense import ACTIVATIONS, dense, glorot_normal, init_dense, weight
from pinnbalance.nn.fourier import FourierFeatures, fourier_embedding, fourier_for
from pinnbalance.nn.mlp import MLP, count_params, mlp_for, normalization
from pinnbalance.nn.modified_mlp import ModifiedMLP, modified_mlp_for
from pinnbalance.nn.piratenet import PirateNet, least_squares_init, piratenet_for

ARCHITECTURES = {"mlp": MLP, "modified-mlp": ModifiedMLP, "fourier": FourierFeatures, "piratenet": PirateNet}

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "MLP",
    "FourierFeatures",
    "ModifiedMLP",
    "PirateNet",
    "count_params",
    "dense",
    "fourier_embedding",
    "fourier_for",
    "glorot_normal",
    "init_dense",
    "least_squares_init",
    "mlp_for",
    "modified_mlp_for",
    "normalization",
    "piratenet_for",
    "weight",
]
