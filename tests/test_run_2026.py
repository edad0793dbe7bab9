"""The 2026 toolkit through ``pinnbalance run``: SOAP, PirateNet with its least-squares
initialisation and causal weighting (an eps schedule) in one TOML configuration; two seeds
vmapped equal two single runs, and a checkpoint + resume equals a straight run."""

import numpy as np
import pytest

from pinnbalance.cli import main
from pinnbalance.io import read_history_csv

CONFIG = """
[problem]
name = "wave"
[network]
type = "piratenet"
hidden = [8]
piratenet_features = 4
init = "least-squares"
init_points = 16
[weighting]
scheme = "constant"
[optimizer]
name = "soap"
precondition_frequency = 2
[causal]
slices = 4
eps = [0.01, 0.1, 1.0, 10.0]
steps_per_eps = 20
[sampling]
batch_size = 16
[train]
steps = {steps}
seeds = {seeds}
dtype = "float64"
log_every = 10
chunk_logs = 2
checkpoint_every = 20
[output]
dir = "{out}"
"""
EPS = [0.01, 0.1, 1.0, 10.0]
# Four compiled programs (SOAP + PirateNet + causal, vmapped and single, float64): about 11 minutes
# on this 2-core machine under a load of 12, so: pytest -m slow tests/test_run_2026.py
pytestmark = pytest.mark.slow


def run(tmp_path, out, steps=40, seeds="[3, 4]", resume=False):
    path = tmp_path / f"{out}.toml"
    path.write_text(CONFIG.format(steps=steps, seeds=seeds, out=(tmp_path / out).as_posix()))
    args = ["run", str(path), "--no-progress"] + (["--resume", str(tmp_path / out)] if resume else [])
    assert main(args) == 0
    return tmp_path / out


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """40 steps, seeds 3 and 4 vmapped in one program."""
    return run(tmp_path_factory.mktemp("straight"), "straight")


def test_the_eps_schedule_in_the_history_follows_its_rule(straight):
    for seed in (3, 4):
        h = read_history_csv(straight / f"seed_{seed}" / "history.csv")
        assert list(h["step"]) == [0, 10, 20, 30]
        w = np.stack([h[f"causal/w_{i}"] for i in range(4)], axis=-1)
        np.testing.assert_array_equal(w[:, 0], 1.0)  # w_1 = exp(0)
        assert np.all(np.diff(w, axis=-1) <= 0)  # w_i = exp(-eps * (a growing sum of losses))
        np.testing.assert_array_equal(h["causal/w_min"], w.min(axis=-1))
        # the rule, replayed from the records: the next eps after a record whose min w > 0.99,
        # or once 20 steps passed at one eps (checked at the records, 10 steps apart)
        index, since = 0, 0
        for k, step in enumerate(h["step"]):
            assert h["causal/eps"][k] == pytest.approx(EPS[index]), (seed, k)
            if index < len(EPS) - 1 and (h["causal/w_min"][k] > 0.99 or step + 1 - since >= 20):
                index, since = index + 1, step + 1
        assert index >= 1  # steps_per_eps moved it at least once in 40 steps


def test_vmapped_seeds_equal_single_runs(tmp_path, straight):
    for seed in (3, 4):
        single = run(tmp_path, f"single{seed}", seeds=f"[{seed}]")
        a = read_history_csv(single / "history.csv")
        b = read_history_csv(straight / f"seed_{seed}" / "history.csv")
        assert set(a) == set(b) and any(k.startswith("causal/") for k in a)
        # batched products round the gradient's last bit differently (~2e-16), and SOAP's first basis in
        # the null space of a rank-deficient G_1 G_1^T turns that into O(1) at step 2 in those directions
        # (eigh/QR under vmap are bitwise the unbatched ones): tests/optim/test_soap_null_space.py
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-6, atol=1e-12, err_msg=key)


def test_resume_equals_a_straight_run(tmp_path, straight):
    half = run(tmp_path, "half", steps=20)
    (tmp_path / "half.toml").write_text((tmp_path / "half.toml").read_text().replace("steps = 20", "steps = 40"))
    assert main(["run", str(tmp_path / "half.toml"), "--resume", str(half), "--no-progress"]) == 0
    for seed in (3, 4):
        a = read_history_csv(straight / f"seed_{seed}" / "history.csv")
        b = read_history_csv(half / f"seed_{seed}" / "history.csv")
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        with np.load(straight / f"seed_{seed}" / "params.npz") as pa, np.load(half / f"seed_{seed}" / "params.npz") as pb:
            for k in pa.files:
                np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
