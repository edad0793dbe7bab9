"""Networks: architectures as frozen descriptions, parameters as pytrees."""

from pinnbalance.nn.mlp import ACTIVATIONS, MLP, count_params, mlp_for, normalization

__all__ = ["ACTIVATIONS", "MLP", "count_params", "mlp_for", "normalization"]
