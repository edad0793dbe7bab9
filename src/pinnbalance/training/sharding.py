"""Training on several devices: data parallel over collocation points, or over seeds.

``DataParallel(devices)`` lays the first ``devices`` visible devices (all when None) on a
one-axis ``jax.sharding.Mesh`` and does two things with it:

- **one run**: each term's collocation batch is split along its point axis (mesh axis
  ``"points"``); parameters, optimizer and weighting state stay replicated. XLA then
  computes each device's share of every per-term loss, gradient and statistic (NTK
  traces too) and sums the shares with an all-reduce, so for a term with batch ``n``
  split over ``D`` devices

      L = (1/n) sum_j |r_j|^2 = (1/n) sum_d sum_{j in shard d} |r_j|^2,

  the same number as on one device up to the order of the additions (float rounding).
  The weights and the parameter update follow from these sums, so they equal the
  one-device ones on the same global batch. Random points are drawn from the same keys
  (``jax_threefry_partitionable``: random bits do not depend on the layout), so the global
  batch is the one a single device would draw.
- **several seeds** (``fit_seeds``): the stacked state's leading (seed) axis is split over
  the mesh axis ``"seeds"``; each device trains its own seeds, with no communication.

Every split must be even: each term's batch size (or the number of seeds) must be a
multiple of the device count, else a ``ValueError`` names the term, its size and the fix.

Example (on CPU, simulate devices first: ``simulate_cpu_devices(4)`` before JAX runs anything,
or ``XLA_FLAGS=--xla_force_host_platform_device_count=4``)::

    result = fit(problem, network, scheme, config, sharding=DataParallel(4))
    runs = fit_seeds(problem, network, scheme, config, seeds=[1, 2, 3, 4], sharding=DataParallel(4))

On a CPU, split seeds (each device runs its own program, on its own core) rather than one
batch (its all-reduces every step cost more than they save at these sizes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

POINTS = "points"  # mesh axis of the collocation batch (one run)
SEEDS = "seeds"  # mesh axis of the seed batch (fit_seeds)

SIMULATE = (
    "on CPU, simulate N devices with training.sharding.simulate_cpu_devices(N) (or "
    "XLA_FLAGS=--xla_force_host_platform_device_count=N) before JAX runs anything; `pinnbalance run` and `sweep` do it for train.devices"
)


@dataclass(frozen=True)
class DataParallel:
    """Split training across ``devices`` devices (an int, or None for all visible ones)."""

    devices: int | None = None

    def __post_init__(self):
        visible = len(jax.devices())
        if self.devices is None:
            return
        if isinstance(self.devices, bool) or not isinstance(self.devices, int) or self.devices < 1:
            raise ValueError(f"devices must be a positive integer or None (all visible devices), got {self.devices!r}")
        if self.devices > visible:
            raise ValueError(
                f"{self.devices} devices were asked for but only {visible} are visible ({jax.devices()}); "
                f"ask for at most {visible}, or None for all of them ({SIMULATE})"
            )

    @property
    def count(self) -> int:
        """How many devices the mesh holds."""
        return len(jax.devices()) if self.devices is None else self.devices

    @cached_property
    def device_list(self) -> tuple:
        return tuple(jax.devices()[: self.count])

    def mesh(self, axis: str) -> Mesh:
        """The one-axis mesh over the devices, its axis named ``axis``."""
        return Mesh(np.array(self.device_list), (axis,))

    # ---- one run: the batch split over points ---------------------------------------
    def check_batch(self, problem) -> None:
        """Raise a ``ValueError`` if some term's batch does not split evenly."""
        for name, term in problem.terms.items():
            if term.batch_size % self.count:
                raise ValueError(
                    f"term {name!r} draws {term.batch_size} points a step, which does not split evenly over "
                    f"{self.count} devices; make every batch size a multiple of {self.count} "
                    "(sampling.batch_size in a run config), or use fewer devices (train.devices)"
                )

    def split_batch(self, batch: dict) -> dict:
        """Inside ``jit``: each term's points split along their first axis across the devices."""
        spec = NamedSharding(self.mesh(POINTS), P(POINTS))
        return {n: jax.lax.with_sharding_constraint(x, spec) for n, x in batch.items()}

    def replicated(self, tree):
        """Inside ``jit``: ``tree`` kept whole on every device of the points mesh."""
        return jax.lax.with_sharding_constraint(tree, NamedSharding(self.mesh(POINTS), P()))

    # ---- several seeds: the state split over seeds ----------------------------------
    def check_seeds(self, n: int) -> None:
        if n % self.count:
            raise ValueError(
                f"{n} seeds do not split evenly over {self.count} devices; train a multiple of {self.count} seeds, "
                "or use a device count that divides the number of seeds (train.devices)"
            )

    def split_seeds(self, tree):
        """Inside ``jit``: every leaf's leading (seed) axis split across the devices."""
        return jax.lax.with_sharding_constraint(tree, NamedSharding(self.mesh(SEEDS), P(SEEDS)))

    # ---- on the host -----------------------------------------------------------------
    def place(self, tree, seeds: bool = False):
        """``tree`` put on the devices: split along its leading seed axis, or replicated."""
        if seeds:
            self.check_seeds(jax.tree_util.tree_leaves(tree)[0].shape[0])
            return jax.device_put(tree, NamedSharding(self.mesh(SEEDS), P(SEEDS)))
        return jax.device_put(tree, NamedSharding(self.mesh(POINTS), P()))


def simulate_cpu_devices(n: int) -> bool:
    """Have JAX's CPU backend present ``n`` devices; True if that took effect.

    Each simulated device runs its own programs, so seeds split over them
    (``fit_seeds(..., sharding=DataParallel(n))``) train on that many cores at once: on a
    2-core CPU, 8 Klein-Gordon seeds took 5.2x one seed's time on two devices against 7.2x
    on one (``benchmarks/speed.py``). It only works before JAX has run anything (the backend
    then starts with ``n`` devices); afterwards, or when ``XLA_FLAGS`` already fixes the count,
    nothing changes and False is returned; so too for ``n`` that is not an integer above 1 (a
    configuration's own validation reports a bad value). On a machine whose default backend is a
    GPU it changes only the (unused) CPU backend.

    Example (first thing in a script)::

        from pinnbalance.training.sharding import DataParallel, simulate_cpu_devices

        simulate_cpu_devices(2)
        results = fit_seeds(problem, network, scheme, config, seeds=[1, 2, 3, 4], sharding=DataParallel(2))
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        return False
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return False
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except (RuntimeError, AttributeError):  # the backend already started (or a JAX without the option)
        return False
    return True


def devices_written(data) -> int | None:
    """``train.devices`` as a configuration's data (parsed TOML) holds it, before the configuration
    is checked: an integer, else None. Entry points simulate that many CPU devices first, since
    checking a configuration may start JAX (a ``my_pde.py:factory`` problem is built to read its names)."""
    train = data.get("train") if isinstance(data, dict) else None
    devices = train.get("devices") if isinstance(train, dict) else None
    return devices if isinstance(devices, int) and not isinstance(devices, bool) else None


def seed_split(seeds: Sequence[int], devices: int) -> tuple[DataParallel | None, list[int]]:
    """``(sharding, padding)`` to train ``seeds`` split over ``devices`` devices.

    ``padding`` holds extra distinct seeds that make the count a multiple of ``devices``;
    train ``seeds + padding`` and drop the padding's runs (each seed trains on its own, so
    they change no other seed's numbers). One device or one seed: ``(None, [])``.

    Example:
        >>> seed_split([1234, 1, 2], 1)
        (None, [])
    """
    seeds = list(seeds)
    if devices <= 1 or len(seeds) <= 1:
        return None, []
    return DataParallel(devices), [max(seeds) + 1 + i for i in range(-len(seeds) % devices)]
