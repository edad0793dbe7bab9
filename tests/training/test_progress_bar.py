"""The progress bar: no bar for a phase with nothing to do; an LM phase counts its own iterations."""

from types import SimpleNamespace

import numpy as np

from pinnbalance.training.callbacks import ProgressBar


def record():
    return {"l2": np.array([0.5]), "losses": {"res": np.array([1.0])}, "weights": {"res": np.array([1.0])}}


def test_a_phase_with_nothing_to_do_draws_no_bar(capsys):
    bar = ProgressBar("training", "res")
    progress = SimpleNamespace(steps_done=0, total=0, last=record())
    bar.on_start(progress)
    bar.on_chunk(progress)
    bar.on_end(progress)
    assert bar.bar is None and "training" not in capsys.readouterr().err


def test_an_lm_bar_counts_iterations_from_the_phase_start(capsys):
    bar = ProgressBar("training (LM)", "res", unit="it")
    progress = SimpleNamespace(steps_done=5000, total=5020, last=record())  # 5,000 Adam steps, then 20 iterations
    bar.on_start(progress)
    assert (bar.bar.n, bar.bar.total) == (0, 20)
    progress.steps_done = 5005
    bar.on_chunk(progress)
    assert bar.bar.n == 5
    bar.on_end(progress)
    assert "5/20" in capsys.readouterr().err


def test_the_reference_weight_is_shown_only_where_the_scheme_moves_it():
    weights = {"res": np.array([1.0]), "bc": np.array([3.5])}
    shown = {}
    for ref_weight in (1.0, 1.72):  # annealing keeps the reference at 1; NTK moves it
        bar = ProgressBar("training", "res")
        progress = SimpleNamespace(steps_done=0, total=10, last=record())
        progress.last["weights"] = weights | {"res": np.array([ref_weight])}
        bar.on_start(progress)
        bar.bar.set_postfix = lambda post, refresh, w=ref_weight: shown.__setitem__(w, post)
        progress.steps_done = 10
        bar.on_chunk(progress)
        bar.on_end(progress)
    assert "w_res" not in shown[1.0] and shown[1.0]["w_bc"] == "3.5"
    assert shown[1.72]["w_res"] == "1.72" and shown[1.72]["w_bc"] == "3.5"
