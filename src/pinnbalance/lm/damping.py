"""Damping updates of Levenberg-Marquardt from the gain ratio of a trial step.

The gain ratio compares the actual decrease of the loss ``L = ||r||^2`` with the decrease
the linear model predicted (``solve.predicted_decrease``):

    rho = (L(theta) - L(theta + h)) / (||r||^2 - ||r + J h||^2).

A trial is accepted when it lowers the loss (rho > 0, and the new loss is finite).

``"nielsen"`` (the default; Nielsen 1999, in Madsen, Nielsen & Tingleff 2004, eq. 3.15):

    accepted:  mu <- mu max(1/3, 1 - (2 rho - 1)^3),  nu <- 2
    rejected:  mu <- mu nu,                           nu <- 2 nu

so a step the model predicted well (rho near 1) cuts mu by 3, a poor one (rho near 0)
keeps it, and rejections in a row raise it ever faster (2, 4, 8, ... times).

``"fixed"`` (Marquardt 1963): accepted ``mu <- decrease mu``, rejected ``mu <- increase mu``.

Either way mu is then clipped to ``[min_damping, max_damping]``.

Example:
    >>> import jax.numpy as jnp
    >>> from pinnbalance.lm.settings import LevenbergMarquardt
    >>> mu, nu = update_damping(jnp.array(1.0), jnp.array(2.0), jnp.array(1.0), jnp.array(True), LevenbergMarquardt())
    >>> round(float(mu), 6), float(nu)  # a perfect prediction: mu / 3
    (0.333333, 2.0)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.lm.settings import LevenbergMarquardt


def update_damping(
    mu: jax.Array, nu: jax.Array, rho: jax.Array, accepted: jax.Array, settings: LevenbergMarquardt
) -> tuple[jax.Array, jax.Array]:
    """The damping and Nielsen's factor nu after a trial with gain ratio ``rho``."""
    if settings.rule == "nielsen":
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        new_mu = jnp.where(accepted, mu * shrink, mu * nu)
        new_nu = jnp.where(accepted, jnp.full_like(nu, 2.0), 2.0 * nu)
    else:
        new_mu = jnp.where(accepted, mu * settings.decrease, mu * settings.increase)
        new_nu = nu
    return jnp.clip(new_mu, settings.min_damping, settings.max_damping), new_nu
