"""The weight policy of a second-order phase (L-BFGS, Levenberg-Marquardt): the loss weights
it minimises with, fixed for the whole phase (moving weights break the curvature model).

- ``"frozen"``: the weights the run has when the phase starts;
- ``"unit"``: every weight 1 (the plain sum of the term losses);
- a mapping ``{term: weight}``: these weights, 1 for the terms it does not name.

The settings classes (``LBFGS``, ``LevenbergMarquardt``) hold the policy in their ``weights``
field, take ``check_terms`` and ``fixed_weights`` from ``PolicyWeights`` and hash with
``settings_hash``; ``owner`` names the class in error messages.

Example:
    >>> fixed_weights({"bcs": 10.0}, {"res": 1.0, "bcs": 3.0})
    {'res': 1.0, 'bcs': 10.0}
    >>> fixed_weights("unit", {"res": 2.0, "bcs": 3.0})
    {'res': 1.0, 'bcs': 1.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields

import jax.numpy as jnp

POLICIES = ("frozen", "unit")


def check_policy(owner: str, policy, purpose: str) -> None:
    """``policy`` is one of ``POLICIES`` or a mapping of term names to finite numbers >= 0;
    else a ``ValueError`` naming ``owner.weights`` (``purpose``: what the policy is for)."""
    if isinstance(policy, Mapping):
        for name, value in policy.items():
            if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{owner}.weights as a mapping takes term name -> number, got {name!r}: {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{owner}.weights[{name!r}] must be a finite number >= 0, got {value!r}")
    elif policy not in POLICIES:
        raise ValueError(
            f"{owner}.weights must be one of {list(POLICIES)} or a mapping {{term: weight}} ({purpose}), got {policy!r}"
        )


def check_policy_terms(owner: str, policy, names) -> None:
    """A mapping ``policy`` must name only terms the problem has (``names``)."""
    if isinstance(policy, Mapping):
        unknown = sorted(set(policy) - set(names))
        if unknown:
            raise ValueError(f"{owner}.weights names term(s) {unknown} that the problem does not have; its terms: {list(names)}")


def fixed_weights(policy, weights: Mapping) -> dict:
    """The weights ``policy`` uses in place of ``weights`` (term -> weight): ``weights`` under
    ``"frozen"``, 1 under ``"unit"``, the mapping's (else 1) under a mapping; each in the
    dtype and shape of the weight it replaces (a float for a plain number)."""
    if policy == "unit":
        return {n: _like(w, 1.0) for n, w in weights.items()}
    if isinstance(policy, Mapping):
        return {n: _like(w, policy.get(n, 1.0)) for n, w in weights.items()}
    return dict(weights)


class PolicyWeights:
    """Methods of a settings class whose ``weights`` field holds a weight policy."""

    def check_terms(self, names) -> None:
        """A mapping of weights must name only terms the problem has (``names``)."""
        check_policy_terms(type(self).__name__, self.weights, names)

    def fixed_weights(self, weights: Mapping) -> dict:
        """The weights this policy uses in place of ``weights`` (term -> weight): (a copy of)
        ``weights`` under ``"frozen"``, 1 under ``"unit"``, the mapping's (else 1) under a mapping."""
        return fixed_weights(self.weights, weights)


def settings_hash(settings) -> int:
    """The hash of a frozen settings dataclass whose fields may hold unhashable values (a
    mapping of weights, ``TrainConfig.optimizer_options``): a mapping hashes as its items sorted
    by key, a list as a tuple, so settings that compare equal hash equal."""
    return hash(tuple(_frozen(getattr(settings, f.name)) for f in fields(settings)))


def _frozen(value):
    """``value`` with its mappings and lists (at any depth) as tuples, hashable."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _like(w, value: float):
    """``value`` as an array of ``w``'s dtype and shape, or a float when ``w`` is a number."""
    return jnp.full_like(w, value) if hasattr(w, "dtype") else float(value)
