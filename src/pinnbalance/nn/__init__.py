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

__all__ = ["ARCHITECTURES", "MLP", "FourierFeatures", "ModifiedMLP", "PirateNet"]  # the architectures
__all__ += ["fourier_for", "mlp_for", "modified_mlp_for", "piratenet_for"]  # each sized for a problem's box
__all__ += ["ACTIVATIONS", "dense", "glorot_normal", "init_dense", "weight"]  # the dense layers they share
__all__ += ["count_params", "fourier_embedding", "least_squares_init", "normalization"]  # tools
