"""Configuration files: every mistake is named before any work starts."""

import pytest

from pinnbalance import config as cfg

MINIMAL = {"train": {"steps": 20, "log_every": 10, "chunk_logs": 1, "checkpoint_every": 10}}


def test_shipped_configs_load_and_match_the_methods():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    loaded = {p.stem: cfg.load(p) for p in sorted(root.glob("*.toml"))}
    assert {"klein-gordon-m1", "klein-gordon-m2", "klein-gordon-m2-unweighted"} <= set(loaded)
    m2 = loaded["klein-gordon-m2"]
    problem = m2.build_problem()
    scheme = m2.build_scheme(problem)
    assert type(scheme).__name__ == "LearningRateAnnealing" and scheme.grad_of == "weighted"
    assert loaded["klein-gordon-m2-unweighted"].build_scheme(problem).grad_of == "unweighted"
    assert m2.train.steps == 40_001 and m2.train.seeds == (1234,)
    import jax

    from pinnbalance.nn import count_params

    assert count_params(m2.build_network(problem).init(jax.random.PRNGKey(0))) == 10_401


def test_resolved_config_round_trips_through_toml(tmp_path):
    config = cfg.from_dict({"weighting": {"scheme": "lr-annealing", "beta": 0.8}, "sampling": {"batch_size": {"res": 64}}})
    path = tmp_path / "c.toml"
    path.write_text(cfg.dumps(config))
    assert cfg.load(path) == config


def test_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[train]\nsteps = 100\n[weighting]\nscheme = "lr-annealing"\n')
    config = cfg.load(path, ["train.steps=2001", "weighting.scheme=constant", "train.seeds=[1, 2]"])
    assert config.train.steps == 2001 and config.weighting.scheme == "constant" and config.train.seeds == (1, 2)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"trian": {}}, "unknown key section 'trian' (did you mean 'train'?)"),
        ({"train": {"stpes": 10}}, "unknown key train.'stpes' (did you mean 'steps'?)"),
        ({"train": {"steps": -5}}, "train.steps must be a positive integer, got -5"),
        ({"train": {"steps": "many"}}, "train.steps must be a positive integer, got 'many'"),
        ({"train": {"seeds": []}}, "train.seeds must list at least one seed"),
        ({"train": {"seeds": [1, 1]}}, "train.seeds lists a seed twice"),
        ({"train": {"dtype": "float16"}}, "train.dtype must be one of ['float32', 'float64'], got 'float16'"),
        (
            {"train": {"checkpoint_every": 1500}},
            "train.checkpoint_every (1500) must be a multiple of log_every * chunk_logs (1000)",
        ),
        ({"weighting": {"scheme": "lr-anealing"}}, "weighting.scheme 'lr-anealing' is unknown (did you mean 'lr-annealing'?)"),
        ({"weighting": {"scheme": "lr-annealing", "beta": 1.5}}, "[weighting]: beta (EMA weight on the old value"),
        ({"weighting": {"scheme": "lr-annealing", "bta": 0.5}}, "unknown key weighting.'bta' (did you mean 'beta'?)"),
        ({"weighting": {"scheme": "constant", "weights": {"bsc": 2.0}}}, "valid term names are ['res', 'ics', 'bcs']"),
        ({"sampling": {"batch_size": 0}}, "sampling.batch_size must be a positive integer, got 0"),
        ({"sampling": {"batch_size": {"bsc": 64}}}, "sampling.batch_size.bsc: unknown term (did you mean 'bcs'?)"),
        ({"optimizer": {"learning_rate": 0}}, "optimizer.learning_rate must be > 0, got 0"),
        ({"optimizer": {"name": "adma"}}, "optimizer.name 'adma' is not an optax optimizer (did you mean 'adam'?)"),
        ({"optimizer": {"decay_rate": 2.0}}, "optimizer.decay_rate must be in (0, 1]"),
        ({"network": {"hidden": []}}, "network.hidden must list at least one hidden layer width"),
        ({"network": {"hidden": [50, -1]}}, "network.hidden[1] must be a positive integer, got -1"),
        ({"network": {"activation": "tahn"}}, "network.activation 'tahn' is unknown (did you mean 'tanh'?)"),
        (
            {"problem": {"name": "klein_gordon"}},
            "problem.name 'klein_gordon' is not a known problem (did you mean 'klein-gordon'?)",
        ),
        ({"problem": {"parameters": {"alpah": 1.0}}}, "unknown key problem.parameters.'alpah' (did you mean 'alpha'?)"),
        ({"problem": {"parameters": {"k": 2.5}}}, "problem.parameters.k must be an integer, got 2.5"),
        ({"output": {"folder": "x"}}, "unknown key output.'folder'"),
    ],
)
def test_bad_values_are_named(data, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_dict(data)
    assert message in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(cfg.ConfigError, match="does not exist"):
        cfg.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nsteps = 1")
    with pytest.raises(cfg.ConfigError, match="is not valid TOML"):
        cfg.load(bad)
    with pytest.raises(cfg.ConfigError, match="expects key.path=value"):
        cfg.parse_override("train.steps")
