"""``[causal]`` and ``[network] init``: validated from the declarations (no JAX backend
starts), written back as they were read, and refused with the key named."""

import tomllib
from pathlib import Path

import pytest

from pinnbalance import config as cfg
from pinnbalance.training.physics_init import LeastSquaresInit

ROOT = Path(__file__).resolve().parents[1]
PIRATE = {"type": "piratenet", "hidden": [8, 8], "piratenet_features": 4}


def test_sections_are_written_back_as_read():
    data = {
        "problem": {"name": "wave"},
        "network": {**PIRATE, "init": "least-squares", "init_terms": ["u"], "init_points": 64},
        "causal": {"slices": 8, "eps": [0.01, 0.1, 1.0], "steps_per_eps": 100},
    }
    config = cfg.from_dict(data)
    assert cfg.from_dict(tomllib.loads(cfg.dumps(config))) == config
    causal = {"slices": 8, "eps": 0.01, "eps_schedule": [0.1, 1.0], "delta": 0.99, "time": "t", "steps_per_eps": 100}
    assert config.to_dict()["causal"] == causal  # weighting.causal.Causal's fields: the list read as eps, then the schedule
    assert config.causal.eps_values == (0.01, 0.1, 1.0) and config.causal.steps_per_eps == 100
    assert config.train_config().least_squares == LeastSquaresInit(("u",), 64)
    assert cfg.from_dict({"causal": {"eps": 2.0}}).causal.eps_values == (2.0,)  # one number: a constant eps
    plain = cfg.from_dict({"network": PIRATE})  # the default init writes no key: older run folders still resume
    assert "init" not in plain.to_dict()["network"] and plain.train_config().least_squares is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"causal": {"term": "rs"}}, r"causal.term 'rs' is not a term .* \['res', 'u', 'ut'\]"),
        ({"causal": {"time": "tau"}}, r"causal.time 'tau' is not a coordinate .* \['t', 'x'\]"),
        ({"causal": {"eps": [1.0, 0.1]}}, "causal.eps then eps_schedule must increase strictly"),
        ({"causal": {"slices": 0}}, "causal.slices"),
        ({"causal": {"steps_per_eps": 0}}, "causal.steps_per_eps"),
        ({"causal": {"epsilon": 1.0}}, "did you mean 'eps'"),
        ({"network": {"init": "least-squares"}}, 'applies to type = "piratenet" only'),
        ({"network": {**PIRATE, "init": "lsq"}}, "network.init 'lsq' is unknown"),
        ({"network": {**PIRATE, "init": "least-squares", "init_terms": ["res2"]}}, r"network.init_terms: unknown .*\['res2'\]"),
        (
            {"problem": {"name": "cavity"}, "network": {**PIRATE, "init": "least-squares"}},
            'network.init: least-squares initialisation fits the exact solution .* has none; use init = "random"',
        ),
        ({"weighting": {"scheme": "self-adaptive"}, "sampling": {"mode": "fixed"}, "causal": {}}, "use a term scheme"),
    ],
)
def test_bad_values_are_refused_naming_the_key(data, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.from_dict({"problem": {"name": "wave"}} | data)


def test_the_documented_tables_load():
    from test_docs_own_pde import fenced_blocks

    [(_, example)] = fenced_blocks((ROOT / "docs" / "toolkit-2026.md").read_text(), "toml")
    config = cfg.from_dict(tomllib.loads(example))
    assert config.causal.eps_values == (0.01, 0.1, 1.0, 10.0, 100.0) and config.train.optimizer_name == "soap"
    assert config.network.least_squares() == LeastSquaresInit() and config.weighting.scheme == "grad-norm-2026"
    causal = [t for _, t in fenced_blocks((ROOT / "docs" / "weighting.md").read_text(), "toml") if "[causal]" in t]
    assert cfg.from_dict({"problem": {"name": "wave"}, **tomllib.loads(causal[0])}).causal.steps_per_eps == 5000
