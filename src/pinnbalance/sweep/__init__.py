"""``pinnbalance sweep``: a grid (and random samples) of run configurations, on one machine or a Ray cluster.

    spec.py       the sweep file: base configuration, [set], [grid], [random]
    jobs.py       points -> jobs (seeds grouped into one vmapped training), names, validation
    executors.py  LocalExecutor (in process) and RayExecutor (one Ray task per job)
    runner.py     one job = one ``pinnbalance run`` folder; skip, resume; results.json
    report.py     results.md, figures and report.html (through ``pinnbalance.compare``)

Example:
    >>> from pinnbalance.sweep import from_dict, plan
    >>> spec = from_dict({"grid": {"optimizer.learning_rate": [1e-3, 1e-4], "train.seeds": [1, 2]}})
    >>> [job.name for job in plan(spec)]
    ['learning_rate=0.001', 'learning_rate=0.0001']
"""

from pinnbalance.sweep.executors import EXECUTORS, Executor, LocalExecutor, RayExecutor
from pinnbalance.sweep.jobs import Job, job_names, plan
from pinnbalance.sweep.runner import execute_job, main_sweep, run_sweep
from pinnbalance.sweep.spec import Distribution, SweepError, SweepSpec, from_dict, load_sweep

__all__ = [
    "EXECUTORS",
    "Distribution",
    "Executor",
    "Job",
    "LocalExecutor",
    "RayExecutor",
    "SweepError",
    "SweepSpec",
    "execute_job",
    "from_dict",
    "job_names",
    "load_sweep",
    "main_sweep",
    "plan",
    "run_sweep",
]
