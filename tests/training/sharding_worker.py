"""The multi-device half of ``test_sharding.py``, run in a subprocess with 4 simulated CPU
devices (``XLA_FLAGS`` must be set before JAX is imported, and the test process has
already imported it). It trains each case with and without ``DataParallel(4)`` and writes
the numbers to ``OUT/results.npz`` / ``OUT/results.json``; the test process compares.

Usage: ``XLA_FLAGS=--xla_force_host_platform_device_count=4 python sharding_worker.py OUT``
"""

import dataclasses
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from pinnbalance import LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for  # noqa: E402
from pinnbalance import config as cfg  # noqa: E402
from pinnbalance.problems import sample_batch  # noqa: E402
from pinnbalance.run import run  # noqa: E402
from pinnbalance.training import DataParallel, fit_runs, fit_seeds  # noqa: E402
from pinnbalance.training.callbacks import OnChunk  # noqa: E402
from pinnbalance.training.checkpoint import load_checkpoint  # noqa: E402
from pinnbalance.training.fit import initial_state, initial_states, train  # noqa: E402
from pinnbalance.training.step import make_steps  # noqa: E402
from pinnbalance.weighting import NTK  # noqa: E402

F64 = TrainConfig(steps=10, log_every=5, chunk_logs=2, eval_grid=10, dtype="float64")
SCHEMES = {"lra": LearningRateAnnealing(period=1), "ntk": NTK(period=1)}
RUN = """
[network]
hidden = [16, 16]
[sampling]
batch_size = 32
[train]
steps = 20
dtype = "float64"
log_every = 10
chunk_logs = 2
checkpoint_every = 20
devices = 4
[output]
dir = "{out}"
"""


def leaves(tree) -> dict[str, np.ndarray]:
    """``{path: numpy array}`` of a pytree's leaves, e.g. ``"['weights']['bcs']"``."""
    return {jax.tree_util.keystr(k): np.asarray(x) for k, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def trained(state) -> dict:
    """What a step changes that the tests compare: parameters and loss weights."""
    return {"params": state.params, "weights": state.weights.weights}


def trajectories(problem, network, arrays, facts):
    """Ten weight-updating steps (jitted ``lax.scan``) from the same state on 1 device and on
    4: the parameters and weights after each step."""
    dp = DataParallel(4)
    for name, scheme in SCHEMES.items():
        state = initial_state(problem, network, scheme, F64.optimizer(), F64, 1234)
        for label, sharding in (("one", None), ("four", dp)):
            update = make_steps(problem, network, scheme, F64.optimizer(), jnp.float64, sharding=sharding)[1]

            def body(s, _, update=update):
                s = update(s)[0]
                return s, trained(s)

            steps = jax.jit(lambda s, body=body: jax.lax.scan(body, s, None, length=F64.steps)[1])
            start = state if sharding is None else dp.place(state)
            for path, x in leaves(steps(start)).items():
                arrays[f"steps/{name}/{label}/{path}"] = x
            if sharding is not None and name == "lra":
                text = steps.lower(start).compile().as_text()
                facts["step_all_reduce"] = text.count("all-reduce")
                facts["step_all_gather"] = text.count("all-gather")


def batch_layout(problem, facts):
    """How a split batch lies on the devices."""
    dp = DataParallel(4)
    batch = jax.jit(lambda k: dp.split_batch(sample_batch(problem, k, jnp.float64)))(jax.random.key(0))
    whole = sample_batch(problem, jax.random.key(0), jnp.float64)
    facts["batch"] = {
        n: {
            "spec": str(x.sharding.spec),
            "devices": len(x.sharding.device_set),
            "shards": [list(s.data.shape) for s in x.addressable_shards],
            "same_points": bool(np.array_equal(np.asarray(x), np.asarray(whole[n]))),
        }
        for n, x in batch.items()
    }


def seeds(problem, network, arrays, facts):
    """Four seeds vmapped through ``fit_seeds``, on one device and spread over four (through
    ``train``, to see the state's layout after each compiled chunk)."""
    scheme, runs = SCHEMES["lra"], [1, 2, 3, 4]
    layouts = []

    def on_chunk(progress):
        w = jax.tree_util.tree_leaves(progress.state.params)[0]
        layouts.append({"spec": str(w.sharding.spec), "shards": [list(x.data.shape) for x in w.addressable_shards]})

    one = fit_seeds(problem, network, scheme, F64, runs, progress=False)
    four = train(
        problem,
        network,
        [(scheme, dataclasses.replace(F64, seed=s)) for s in runs],
        vmapped=True,
        progress=False,
        callbacks=[OnChunk(on_chunk)],
        sharding=DataParallel(4),
    )
    for label, results in (("one", one), ("four", four)):
        for seed, result in zip(runs, results):
            for path, x in leaves(trained(result.state)).items():
                arrays[f"seeds/{label}/{seed}/{path}"] = x
    facts["seed_layouts"] = layouts
    # runs that differ in learning rate and EMA beta (two per seed), spread the same way
    settings = [(1, 1e-3, 0.9), (1, 4e-3, 0.5), (2, 1e-3, 0.5), (2, 4e-3, 0.9)]
    swept = [(dataclasses.replace(scheme, beta=b), dataclasses.replace(F64, seed=s, learning_rate=lr)) for s, lr, b in settings]
    one = fit_runs(problem, network, swept, progress=False)
    four = fit_runs(problem, network, swept, progress=False, sharding=DataParallel(4))
    for label, results in (("one", one), ("four", four)):
        for i, result in enumerate(results):
            for path, x in leaves(trained(result.state)).items():
                arrays[f"lanes/{label}/{i}/{path}"] = x


def errors(problem, network, facts):
    """The messages of the refusals."""
    attempts = {
        "too_many": lambda: DataParallel(5),
        "zero": lambda: DataParallel(0),
        "indivisible_batch": lambda: fit(
            problem.with_batch_sizes({"ics": 30}), network, SCHEMES["lra"], F64, sharding=DataParallel(4)
        ),
        "indivisible_seeds": lambda: fit_seeds(
            problem, network, SCHEMES["lra"], F64, [1, 2, 3], progress=False, sharding=DataParallel(4)
        ),
    }
    for name, attempt in attempts.items():
        try:
            attempt()
            facts[f"error/{name}"] = None
        except ValueError as err:
            facts[f"error/{name}"] = str(err)


def sharded_run(out: Path, facts):
    """Half a run on 4 devices through ``pinnbalance.run``; its checkpoint restored onto a
    template laid out on the 4 devices."""
    path = out / "run.toml"
    path.write_text(RUN.format(out=(out / "run").as_posix()))
    config = cfg.load(path)
    summary = run(config, progress=False)
    facts["run_devices"] = summary["numerics"]["devices"]
    problem = config.build_problem()
    network = config.build_network(problem)
    scheme = config.build_scheme(problem)
    template = initial_states(problem, network, [(scheme, config.train_config())], config.train.optimizer(), stacked=False)
    plain, _, _ = load_checkpoint(out / "run" / "checkpoint.npz", template)
    dp = DataParallel(4)
    placed, _, _ = load_checkpoint(out / "run" / "checkpoint.npz", dp.place(template))
    pairs = list(zip(jax.tree_util.tree_leaves(plain), jax.tree_util.tree_leaves(placed)))
    facts["restored_on_template_layout"] = all(b.sharding == dp.place(a).sharding for a, b in pairs)
    to_np = lambda x: np.asarray(jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x)  # noqa: E731
    facts["restored_equal"] = all(np.array_equal(to_np(a), to_np(b)) for a, b in pairs)


def main(out: Path) -> None:
    assert len(jax.devices()) == 4, jax.devices()
    problem = klein_gordon(batch_size=32)
    network = mlp_for(problem.domain, (16, 16))
    arrays: dict[str, np.ndarray] = {}
    facts: dict = {}
    trajectories(problem, network, arrays, facts)
    batch_layout(problem, facts)
    seeds(problem, network, arrays, facts)
    errors(problem, network, facts)
    sharded_run(out, facts)
    np.savez(out / "results.npz", **arrays)
    (out / "results.json").write_text(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
