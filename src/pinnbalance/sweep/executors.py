"""Where a sweep's jobs run: ``execute(jobs, fn) -> [fn(job) for job in jobs]``, in job order.

The sweep runner hands over groups of jobs that share one compiled program (a tuple of
jobs, most often of one), so an item is a unit of work, not necessarily a single ``Job``.

``LocalExecutor`` runs them one after another in this process (no server). ``RayExecutor``
makes each job a Ray task, on a local Ray instance or on an existing cluster; a task asks
for one GPU when the cluster has GPUs, else for CPUs. ``fn`` must be picklable (a
module-level function or a ``functools.partial`` of one), and its results plain data.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from pinnbalance.sweep.jobs import Job

R = TypeVar("R")


class Executor(Protocol):
    """Runs every job through ``fn`` and returns the results in the order of ``jobs``."""

    name: str

    def execute(self, jobs: Sequence[Job], fn: Callable[[Job], R]) -> list[R]: ...


class LocalExecutor:
    """In this process, sequentially: the default, and the one to debug with."""

    name = "local"

    def execute(self, jobs: Sequence[Job], fn: Callable[[Job], R]) -> list[R]:
        return [fn(job) for job in jobs]


def _call(fn: Callable[[Job], R], job: Job) -> R:
    """The Ray task body (``ray.remote`` takes functions, not ``functools.partial`` objects).

    A worker keeps compiled programs where the command line does (``compile_cache``), so
    the jobs on one machine that share a program compile it once."""
    from pinnbalance.compile_cache import enable_compile_cache

    enable_compile_cache()
    return fn(job)


class RayExecutor:
    """Each job a Ray task (``ray.remote``), all submitted at once; Ray schedules them.

    ``address`` is passed to ``ray.init``: ``None`` starts a local instance (stopped again at
    the end), ``"auto"`` joins the cluster this machine belongs to, ``"ray://HOST:10001"``
    connects through Ray Client. If Ray is already initialised in this process it is used
    as it is. ``num_cpus`` is what a CPU task asks for; with GPUs in the cluster a task
    asks for one GPU and no CPU reservation beyond Ray's default. ``init_kwargs`` go to
    ``ray.init`` (e.g. ``num_cpus=2`` for a local instance).
    """

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: float = 1, **init_kwargs: Any):
        self.address = address
        self.num_cpus = num_cpus
        self.init_kwargs = init_kwargs

    def execute(self, jobs: Sequence[Job], fn: Callable[[Job], R]) -> list[R]:
        ray = import_ray()
        started = not ray.is_initialized()
        if started:
            local = {"include_dashboard": False} if self.address is None else {}  # refused by existing clusters
            with warnings.catch_warnings():  # Ray forks and then execs its processes: JAX's fork warning does not apply
                warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                ray.init(address=self.address, **{**local, **self.init_kwargs})
        try:
            task = ray.remote(**self.resources(ray.cluster_resources()))(_call)
            return ray.get([task.remote(fn, job) for job in jobs])
        finally:
            if started:
                ray.shutdown()

    def resources(self, cluster: dict) -> dict:
        """What one task asks for: one GPU where the cluster has any, else ``num_cpus`` CPUs."""
        if cluster.get("GPU", 0) >= 1:
            return {"num_gpus": 1}
        return {"num_cpus": self.num_cpus}


def import_ray():
    """``import ray``, or an error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray executor needs Ray: pip install 'pinnbalance[ray]'") from None
    return ray


EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor}
