"""A run folder whose L-BFGS phase stopped at ``lbfgs.max_iters`` goes on inside the phase when it
resumes with a larger ``max_iters``, as the LM phase does with ``lm.max_iters``, instead of
starting L-BFGS again from the first phase's end."""

import json

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.cli import main
from pinnbalance.io import load_params, read_history_csv
from pinnbalance.training import lbfgs_phase
from pinnbalance.training.checkpoint import read_manifest
from pinnbalance.training.lbfgs import LBFGS, REASONS, refine
from pinnbalance.training.lbfgs_checkpoint import reopened

CONFIG = """
[network]
hidden = [6]
[sampling]
batch_size = 12
[train]
steps = 20
dtype = "float64"
log_every = 10
checkpoint_every = 20
chunk_logs = 2
[lbfgs]
max_iters = {iters}
log_every = 4
grad_tol = 0.0
[output]
dir = "{out}"
"""


def test_reopened_runs_only_those_stopped_by_a_cap_that_grew():
    """Runs stopped by max_iters at 12 and 24 iterations, by grad_tol, and still running, under a
    cap of 24: only the first runs again; its parameters, optimizer state and loss are untouched."""
    carry = ("params", "opt", jnp.array([12, 24, 5, 3]), jnp.array([1, 1, 2, 0], jnp.int32), jnp.array([0.5, 0.4, 0.3, 0.2]))
    params, opt, iters, reason, last = reopened(carry, LBFGS(max_iters=24))
    assert (params, opt) == ("params", "opt") and reason.dtype == jnp.int32
    assert [REASONS[int(r)] for r in reason] == ["running", "max_iters", "grad_tol", "running"]
    np.testing.assert_array_equal(iters, carry[2])
    np.testing.assert_array_equal(last, carry[4])


def test_a_larger_lbfgs_max_iters_continues_the_phase_to_the_straight_run(tmp_path, capsys, monkeypatch):
    """12 iterations, then the folder resumed with max_iters = 24, equals 24 iterations straight
    (float64, every record and parameter to rtol 1e-12). Exact equality holds because a run stopped
    by max_iters carries what the longer run had at that iteration: the same parameters, optax
    L-BFGS state (curvature pairs, line search) and loss; only its stop reason differs, and the
    reason max_iters is given only when no other stop condition holds, so the longer run went on
    there too. The resume goes on from the checkpoint at step 32 (20 steps + 12 iterations): a
    restart of the phase from step 20 would end equal too, so the phase's start is watched."""
    paths = {}
    for name, iters in (("straight", 24), ("grown", 12)):
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(CONFIG.format(iters=iters, out=(tmp_path / name).as_posix()))
        assert main(["run", str(paths[name]), "--no-progress"]) == 0
    manifest = read_manifest(tmp_path / "grown" / "checkpoint.npz")
    assert manifest["phase"] == "lbfgs" and manifest["step"] == 32
    resume = ["run", str(paths["grown"]), "--set", "lbfgs.max_iters=24", "--resume", str(tmp_path / "grown"), "--no-progress"]
    starts = []  # where each L-BFGS phase began: (iterations done, iterations the carry holds)

    def spy(*args, resume=None, **kwargs):
        starts.append((0, 0) if resume is None else (resume[1], int(resume[0][2])))
        return refine(*args, resume=resume, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(lbfgs_phase, "refine", spy)
        assert main(resume) == 0
    assert starts == [(12, 12)]  # from the checkpoint's iterate, not the first phase's end (a restart: [(0, 0)])
    a, b = (read_history_csv(tmp_path / f / "history.csv") for f in ("straight", "grown"))
    assert list(b["step"]) == list(a["step"]) == [0, 10, 24, 28, 32, 36, 40, 44]  # no second L-BFGS phase from step 20
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-12, atol=0, err_msg=key)
    leaves = [jax.tree_util.tree_leaves(load_params(tmp_path / f)[1]) for f in ("grown", "straight")]
    for x, y in zip(*leaves, strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-15)
    sa, sb = (json.loads((tmp_path / f / "summary.json").read_text()) for f in ("straight", "grown"))
    assert sa["lbfgs"]["iterations"] == sb["lbfgs"]["iterations"] == 24
    assert sa["lbfgs"]["reason"] == sb["lbfgs"]["reason"] == "max_iters"
    capsys.readouterr()
    assert main(resume) == 2  # reached the new cap: nothing left
    assert "finished its L-BFGS phase" in capsys.readouterr().err
