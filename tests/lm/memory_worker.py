"""Run in a fresh process by test_levenberg_marquardt: compile one Levenberg-Marquardt
iteration on Klein-Gordon at N = 4,000 rows, P = 2,065 parameters, then run it, and print the
process's peak resident memory in bytes after each: ``VmHWM`` of /proc/self/status (the
high-water mark of this program's own address space). Not ``ru_maxrss``: Linux carries the
PARENT's resident size at fork into the child's ``ru_maxrss`` across exec, so under a pytest
process of ~1 GB both runs would report the parent's size. ``ru_maxrss`` is the fallback
where /proc is missing.
"""

import resource

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from pinnbalance.lm import LevenbergMarquardt, lm_init, lm_step  # noqa: E402
from pinnbalance.nn import mlp_for  # noqa: E402
from pinnbalance.problems import klein_gordon, sample_batch  # noqa: E402

POINTS = {"res": 2000, "ics": 500, "bcs": 500}  # rows: 2000 x 1 + 500 x 2 + 500 x 2 = 4000
HIDDEN = (43, 43)  # P = 3 x 43 + 44 x 43 + 44 = 2065


def peak_bytes() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


if __name__ == "__main__":
    problem = klein_gordon().with_batch_sizes(POINTS)
    network = mlp_for(problem.domain, hidden=HIDDEN)
    params = network.init(jax.random.PRNGKey(0), jnp.float64)
    points = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    weights = {"res": 1.0, "ics": 1.0, "bcs": 1.0}
    settings = LevenbergMarquardt(max_trials=1)
    state = jax.jit(lambda p: lm_init(problem, network, p, points, weights, settings))(params)
    step = jax.jit(lambda s: lm_step(problem, network, s, points, weights, settings)).lower(state).compile()
    compiled = peak_bytes()
    step(state).loss.block_until_ready()
    print(compiled, peak_bytes())
