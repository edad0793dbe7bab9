"""Configuration files: every mistake is named before any work starts."""

import pytest

from pinnbalance import config as cfg

MINIMAL = {"train": {"steps": 20, "log_every": 10, "chunk_logs": 1, "checkpoint_every": 10}}


def test_shipped_configs_load_and_match_the_methods():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "configs"
    loaded = {p.stem: cfg.load(p) for p in sorted(root.rglob("*.toml"))}  # configs/frontier/ too
    assert {"klein-gordon-m1", "klein-gordon-m2", "klein-gordon-m2-unweighted"} <= set(loaded)
    m2 = loaded["klein-gordon-m2"]
    problem = m2.build_problem()
    scheme = m2.build_scheme(problem)
    assert type(scheme).__name__ == "LearningRateAnnealing" and scheme.grad_of == "weighted"
    assert loaded["klein-gordon-m2-unweighted"].build_scheme(problem).grad_of == "unweighted"
    assert m2.train.steps == 40_001 and m2.seeds == (1234,)
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
    assert config.train.steps == 2001 and config.weighting.scheme == "constant" and config.seeds == (1, 2)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"trian": {}}, "unknown key section 'trian' (did you mean 'train'?)"),
        ({"train": {"stpes": 10}}, "unknown key train.'stpes' (did you mean 'steps'?)"),
        ({"train": {"steps": -5}}, "train.steps must be a positive integer, got -5"),
        ({"train": {"steps": "many"}}, "train.steps must be an integer, got 'many'"),
        ({"train": {"seeds": []}}, "train.seeds must be distinct, at least one"),
        (
            {"train": {"seeds": [1, 1]}},
            "train.seeds must be distinct, at least one ([ensemble]: its members'); got [1, 1]",
        ),
        ({"train": {"dtype": "float16"}}, "train.dtype must be one of ['float32', 'float64'], got 'float16'"),
        (
            {"train": {"checkpoint_every": 1500}},
            "train.checkpoint_every (1500) must be a positive multiple of log_every * chunk_logs (1000)",
        ),
        ({"weighting": {"scheme": "lr-anealing"}}, "weighting.scheme 'lr-anealing' is unknown (did you mean 'lr-annealing'?)"),
        ({"weighting": {"scheme": "lr-annealing", "beta": 1.5}}, "weighting.beta (EMA weight on the old value"),
        ({"weighting": {"scheme": "lr-annealing", "bta": 0.5}}, "unknown key weighting.'bta' (did you mean 'beta'?)"),
        ({"weighting": {"scheme": "constant", "weights": {"bsc": 2.0}}}, "valid term names are ['res', 'ics', 'bcs']"),
        ({"sampling": {"batch_size": 0}}, "sampling.batch_size must be a positive integer, got 0"),
        (
            {"sampling": {"batch_size": {"bsc": 64}}},
            "sampling.batch_size: unknown batch size name(s) ['bsc'] (did you mean 'bcs'?)",
        ),
        ({"optimizer": {"learning_rate": 0}}, "optimizer.learning_rate must be > 0, got 0"),
        ({"optimizer": {"name": "adma"}}, "optimizer.name 'adma' is unknown (did you mean 'adam'?)"),
        ({"optimizer": {"decay_rate": 2.0}}, "optimizer.decay_rate must be in (0, 1]"),
        ({"network": {"hidden": []}}, "network.hidden must list one positive width per hidden layer, e.g. [50, 50]; got []"),
        (
            {"network": {"hidden": [50, -1]}},
            "network.hidden must list one positive width per hidden layer, e.g. [50, 50]; got [50, -1]",
        ),
        ({"network": {"activation": "tahn"}}, "network.activation 'tahn' is unknown (did you mean 'tanh'?)"),
        ({"network": {"type": "fourer"}}, "network.type 'fourer' is unknown (did you mean 'fourier'?)"),
        ({"network": {"type": 3}}, "network.type must be a string, got 3"),
        (
            {"network": {"type": "fourier", "fourier_sigma": [1.0]}},
            "unknown key network.'fourier_sigma' (did you mean 'fourier_sigmas'?)",
        ),
        (
            {"network": {"fourier_sigmas": [1.0, 10.0]}},
            "network.fourier_sigmas applies only to type = 'fourier'; this network has type = 'mlp'",
        ),
        (
            {"network": {"type": "fourier", "encoder_bias": "glorot"}},
            "network.encoder_bias applies only to type = 'modified-mlp'; this network has type = 'fourier'",
        ),
        ({"network": {"type": "fourier", "fourier_sigmas": []}}, "network.fourier_sigmas must list at least one scale"),
        (
            {"network": {"type": "fourier", "fourier_sigmas": [1.0, 0]}},
            "network.fourier_sigmas must list at least one scale > 0, e.g. (1.0, 10.0); got (1.0, 0.0)",
        ),
        (
            {"network": {"type": "fourier", "fourier_features": 0}},
            "network.fourier_features (rows of each B) must be a positive integer, got 0",
        ),
        (
            {"network": {"type": "fourier", "fourier_seed": -2}},
            "network.fourier_seed (of the frequency draws) must be a non-negative integer, got -2",
        ),
        ({"network": {"type": "fourier", "fourier_time_sigmas": "1"}}, "network.fourier_time_sigmas must be a list, got '1'"),
        ({"network": {"rwf": [1.0]}}, "network.rwf must be None or (mu, sigma), e.g. (1.0, 0.1)"),
        ({"network": {"rwf": [1.0, "x"]}}, "network.rwf[1] must be a number, got 'x'"),
        ({"network": {"rwf": [1.0, -0.1]}}, "network.rwf sigma (the spread of the log-scales s) must be >= 0, got -0.1"),
        (
            {"network": {"type": "modified-mlp", "hidden": [50, 40]}},
            "[network]: ModifiedMLP hidden widths must all be equal",
        ),
        (
            {"network": {"type": "modified-mlp", "encoder_bias": "xavier"}},
            "network.encoder_bias must be 'zeros' or 'glorot' (published code), got 'xavier'",
        ),
        (
            {"problem": {"name": "klein_gordon"}},
            "problem.name 'klein_gordon' is unknown (did you mean 'klein-gordon'?)",
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


@pytest.mark.parametrize(
    "table, kind, n_params",
    [
        ({"hidden": [8], "rwf": [1.0, 0.1]}, "MLP", (2 * 8 + 8 + 8) + (8 + 1 + 1)),
        ({"type": "modified-mlp", "hidden": [8, 8]}, "ModifiedMLP", 3 * (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)),
        (
            {"type": "fourier", "hidden": [8], "fourier_sigmas": [1.0, 10.0], "fourier_features": 4},
            "FourierFeatures",
            (8 * 8 + 8) + (2 * 8 + 1),
        ),
        (
            {"type": "fourier", "hidden": [8], "fourier_features": 4, "fourier_time_sigmas": [1.0, 2.0]},
            "FourierFeatures",
            (8 * 8 + 8) + (2 * 8 + 1),
        ),
    ],
)
def test_network_types_build_and_round_trip_through_toml(tmp_path, table, kind, n_params):
    import jax

    from pinnbalance.nn import count_params

    config = cfg.from_dict({**MINIMAL, "network": table})
    problem = config.build_problem()
    net = config.build_network(problem)
    assert type(net).__name__ == kind and net.layers[0] == 2 and net.input_mean == problem.domain.mean()
    assert count_params(net.init(jax.random.PRNGKey(0))) == n_params
    path = tmp_path / "c.toml"
    path.write_text(cfg.dumps(config))
    again = cfg.load(path)
    assert again == config and again.build_network(problem) == net
    assert config.to_dict()["network"]["type"] == table.get("type", "mlp")


def test_spatio_temporal_fourier_takes_the_t_coordinate():
    config = cfg.from_dict({"network": {"type": "fourier", "fourier_time_sigmas": [1.0]}})
    problem = config.build_problem()
    assert config.build_network(problem).time_axis == problem.domain.names.index("t")
