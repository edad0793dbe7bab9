"""Data-parallel training: four devices give the one-device numbers on the same global batch.

The test process has one CPU device and has imported JAX already, so the multi-device half
runs once, in a subprocess with 4 simulated CPU devices (``sharding_worker.py``); it writes
each case's parameters and weights with and without ``DataParallel(4)``, and what it saw
of the layouts and the error messages. This process compares them, then resumes the
checkpoint that a 4-device ``pinnbalance run`` wrote on its single device.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.training import DataParallel

WORKER = Path(__file__).with_name("sharding_worker.py")
TOLERANCE = 1e-12  # float64, relative to each array's largest entry


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """``(arrays, facts, folder)`` of the 4-device worker."""
    out = tmp_path_factory.mktemp("four_devices")
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4".strip()
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, str(WORKER), str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    with np.load(out / "results.npz") as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads((out / "results.json").read_text()), out


def relative_gap(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-300))


def pairs(arrays, prefix_a, prefix_b):
    keys = sorted(k[len(prefix_a) :] for k in arrays if k.startswith(prefix_a))
    assert keys, prefix_a
    return [(k, arrays[prefix_a + k], arrays[prefix_b + k]) for k in keys]


@pytest.mark.parametrize("scheme", ["lra", "ntk"])
def test_steps_on_four_devices_equal_one_device(four, scheme):
    """LearningRateAnnealing(period=1) and NTK(period=1): parameters and weights after one step
    and after each of ten, 4 devices vs 1 on the same global batch."""
    arrays = four[0]
    for leaf, one, split in pairs(arrays, f"steps/{scheme}/one/", f"steps/{scheme}/four/"):
        assert one.shape[0] == 10  # one row per step
        assert relative_gap(one[0], split[0]) < TOLERANCE, f"{scheme} leaf {leaf}, step 1"
        assert relative_gap(one, split) < TOLERANCE, f"{scheme} leaf {leaf}, steps 1-10"
    weights = [one for leaf, one, _ in pairs(arrays, f"steps/{scheme}/one/", f"steps/{scheme}/four/") if "weights" in leaf]
    assert len(weights) == 3 and any(np.ptp(w) > 0 for w in weights)  # the weights moved: statistics were exercised


def test_the_batch_is_split_across_the_devices(four):
    facts = four[1]
    for term, layout in facts["batch"].items():
        assert layout["spec"] == "P('points',)" and layout["devices"] == 4, term
        assert [s[0] for s in layout["shards"]] == [8, 8, 8, 8], term  # 32 points, 8 per device
        assert layout["same_points"], f"{term}: the split batch must be the one-device batch"
    # each device differentiates its own points: partial sums are all-reduced, never the points gathered
    assert facts["step_all_reduce"] > 0 and facts["step_all_gather"] == 0


def test_seeds_spread_over_four_devices_equal_one_device(four):
    arrays, facts = four[0], four[1]
    for seed in (1, 2, 3, 4):
        for leaf, one, split in pairs(arrays, f"seeds/one/{seed}/", f"seeds/four/{seed}/"):
            assert relative_gap(one, split) < TOLERANCE, f"seed {seed} leaf {leaf}"
    (layout,) = facts["seed_layouts"]  # after the compiled chunk: still one seed per device
    assert layout["spec"] == "P('seeds',)" and [s[0] for s in layout["shards"]] == [1, 1, 1, 1]
    for run in range(4):  # swept learning rates and betas (training.lanes), split the same way
        for leaf, one, split in pairs(arrays, f"lanes/one/{run}/", f"lanes/four/{run}/"):
            assert relative_gap(one, split) < TOLERANCE, f"run {run} leaf {leaf}"
    assert relative_gap(arrays["lanes/one/0/['weights']['bcs']"], arrays["lanes/one/1/['weights']['bcs']"]) > 1e-3


def test_a_four_device_checkpoint_resumes_on_one_device(four, tmp_path, capsys):
    """20 steps on 4 devices (``pinnbalance run``, train.devices = 4), resumed for 20 more on
    1 device, equal an uninterrupted 40-step run on 1 device."""
    facts, folder = four[1], four[2]
    assert facts["run_devices"] == 4
    assert facts["restored_on_template_layout"] and facts["restored_equal"]  # restored onto a 4-device template too
    config, run_dir = folder / "run.toml", folder / "run"
    if len(jax.devices()) == 1:  # the run's own device count is refused with the fix
        assert main(["run", str(config), "--set", "train.steps=40", "--resume", str(run_dir), "--no-progress"]) == 2
        assert "--set train.devices=N" in capsys.readouterr().err
    resume = ["--set", "train.steps=40", "--set", "train.devices=1", "--resume", str(run_dir)]
    assert main(["run", str(config), *resume, "--no-progress"]) == 0
    straight = tmp_path / "straight"
    assert (
        main(["run", str(config), "--set", "train.steps=40", "--set", "train.devices=1", "--out", str(straight), "--no-progress"])
        == 0
    )
    a, b = read_history_csv(straight / "history.csv"), read_history_csv(run_dir / "history.csv")
    assert list(b["step"]) == [0, 10, 20, 30]
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-14, err_msg=key)
    with np.load(straight / "params.npz") as pa, np.load(run_dir / "params.npz") as pb:
        for k in pa.files:
            assert relative_gap(pa[k], pb[k]) < 1e-10, k
    assert json.loads((run_dir / "summary.json").read_text())["numerics"]["devices"] == 1


def test_bad_device_counts_and_uneven_splits_are_refused(four):
    facts = four[1]
    assert "5 devices were asked for but only 4 are visible" in facts["error/too_many"]
    assert "xla_force_host_platform_device_count" in facts["error/too_many"]
    assert "positive integer" in facts["error/zero"]
    message = facts["error/indivisible_batch"]
    assert "'ics'" in message and "30 points" in message and "4 devices" in message and "multiple of 4" in message
    assert "3 seeds" in facts["error/indivisible_seeds"] and "multiple of 4" in facts["error/indivisible_seeds"]
    for bad in (0, -1, "two", True, 2.0):
        with pytest.raises(cfg.ConfigError, match="train.devices"):
            cfg.from_dict({"train": {"devices": bad}})


def test_one_device_is_the_default_and_changes_nothing():
    assert cfg.from_dict({}).devices == 1 and cfg.from_dict({}).build_sharding() is None
    config = cfg.from_dict({"train": {"devices": "all"}})
    assert config.build_sharding() is None if len(jax.devices()) == 1 else config.build_sharding().count > 1
    assert "devices = 1" in cfg.dumps(cfg.from_dict({}))
    if len(jax.devices()) == 1:
        with pytest.raises(ValueError, match="only 1 are visible"):
            DataParallel(2)


def test_run_gives_a_cpu_the_devices_its_config_asks_for(tmp_path):
    """``pinnbalance run`` with train.devices = 2 (the M2 configuration, a small network) in a
    fresh process on a one-device CPU and no XLA_FLAGS: JAX simulates the two devices, the two
    seeds train one on each, and each seed's history equals the one-device run's (float64)."""
    config = Path(__file__).resolve().parents[2] / "configs" / "klein-gordon-m2.toml"
    common = ["--set", "train.steps=21", "--set", "train.seeds=[1,2]", "--set", "train.log_every=10"]
    common += ["--set", 'train.dtype="float64"', "--set", "sampling.batch_size=16", "--set", "network.hidden=[8,8]"]
    common += ["--no-progress"]  # a small network: the devices, not the network, are under test
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    two = tmp_path / "two"
    command = [sys.executable, "-m", "pinnbalance.cli", "run", str(config), *common, "--set", "train.devices=2"]
    done = subprocess.run([*command, "--out", str(two)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads((two / "summary.json").read_text())["numerics"]["devices"] == 2
    one = tmp_path / "one"
    assert main(["run", str(config), *common, "--out", str(one)]) == 0
    for seed in ("seed_1", "seed_2"):
        a, b = read_history_csv(one / seed / "history.csv"), read_history_csv(two / seed / "history.csv")
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-14, err_msg=f"{seed} {key}")


def test_simulating_devices_after_jax_started_changes_nothing():
    from pinnbalance.training.sharding import simulate_cpu_devices

    jax.devices()  # the backend has started
    before = len(jax.devices("cpu"))
    assert simulate_cpu_devices(before + 1) is False
    assert len(jax.devices("cpu")) == before


def test_devices_written_reads_the_integer_a_configuration_asks_for():
    from pinnbalance.training.sharding import devices_written

    assert devices_written({"train": {"devices": 2}}) == 2
    for data in ({}, {"train": {}}, {"train": {"devices": "all"}}, {"train": {"devices": True}}, {"train": 3}, None):
        assert devices_written(data) is None, data
