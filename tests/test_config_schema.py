"""One configuration schema: TOML sections onto the library's objects, checked without JAX.

Loading a configuration constructs ``TrainConfig``, ``LBFGS``, the scheme and (on a stand-in
box) the network, and checks names against the problems' declarations; it builds no problem,
so it starts no JAX backend and ``train.devices`` can still simulate CPU devices afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import config as cfg
from pinnbalance.optim import soap
from pinnbalance.training.config import TrainConfig, optimizer_constructor

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"train": {"steps": 20, "log_every": 10, "chunk_logs": 1, "checkpoint_every": 10}}

# Loads every shipped configuration, the new pieces and some bad ones in a fresh interpreter,
# then checks that no JAX backend was started. The check that matters is public behaviour:
# ``jax_num_cpu_devices`` may only be set before a backend starts (JAX raises otherwise), and
# the CPU then shows that many devices -- exactly what ``pinnbalance run`` relies on when it
# simulates ``train.devices`` after loading the file. The private registry of started
# backends is checked too where this JAX has it (an extra, version-dependent witness).
NO_BACKEND_SCRIPT = """
import glob, json, sys
from pinnbalance import config as cfg
paths = sorted(glob.glob(sys.argv[1] + "/**/*.toml", recursive=True))
loaded = {p[len(sys.argv[1]) + 1 :]: cfg.load(p).to_dict().get("causal", {}).get("slices", 0) for p in paths}
field = {"kind": "field", "inputs": ["x", "y"], "hidden": [20, 20], "positive": True}
extra = [
    {"problem": {"name": "heat-inverse"}, "network": {"hidden": [8]}, "unknowns": {"a": field}},
    {"network": {"type": "piratenet", "hidden": [16, 16], "piratenet_features": 8}},
    {"optimizer": {"name": "soap", "precondition_frequency": 5, "b1": 0.9}},
    {"weighting": {"scheme": "grad-norm-2026"}, "sampling": {"batch_size": {"res": 8}}},
    {"problem": {"name": "cavity"}, "network": {"type": "fourier", "fourier_sigmas": [1.0]}},
]
for data in extra:
    cfg.from_dict(data)
bad = [{"train": {"steps": 0}}, {"network": {"type": "piratenet", "hidden": [8, 9]}}, {"weighting": {"scheme": "ntk", "period": 0}},
       {"sampling": {"batch_size": {"bsc": 4}}}, {"optimizer": {"name": "soap", "b1": 2.0}}, {"lbfgs": {"weights": {"x": 1.0}}}]
bad += [{"problem": {"name": "wave"}, **data} for data in ({"causal": {"time": "tau"}}, {"network": {"init": "least-squares"}}, {"causal": {"eps": [1.0, 0.5]}})]
bad += [{"problem": {"name": "heat-inverse"}, "unknowns": {"a": table}} for table in ({"inputs": ["z"]}, {"hidden": []}, {"learning_rate": -1.0})]
errors = 0
for data in bad:
    try:
        cfg.from_dict(data)
    except cfg.ConfigError:
        errors += 1
try:
    from jax._src import xla_bridge
    private = len(getattr(xla_bridge, "_backends", {}))
except ImportError:
    private = 0
import jax
jax.config.update("jax_num_cpu_devices", 2)  # raises RuntimeError if a backend had started
print(json.dumps({"loaded": loaded, "errors": errors, "backends": private, "cpu_devices": len(jax.devices("cpu"))}))
"""


def test_loading_configurations_starts_no_jax_backend():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}  # an XLA_FLAGS device count would fix the count
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run(
        [sys.executable, "-c", NO_BACKEND_SCRIPT, str(ROOT / "configs")], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(report["loaded"]) == len(list((ROOT / "configs").rglob("*.toml"))) >= 60  # top level, frontier/, pinnacle/
    causal = {path: slices for path, slices in report["loaded"].items() if slices}  # the four causal wave rows, the GPU recipe
    assert sum(s == 16 for s in causal.values()) >= 4 and causal["wave-2026-gpu.toml"] == 32
    assert report["errors"] == 12  # every bad configuration was rejected, still without a backend
    assert report["backends"] == 0 and report["cpu_devices"] == 2


# What ``pinnbalance run`` wrote as RUN/config.toml before the schema was one (every default
# written out, as ``check_resumable`` reads it back): it must load and mean the same.
OLD_RUN_CONFIG = """
[problem]
name = "klein-gordon"
parameters = {  }

[network]
type = "fourier"
hidden = [8]
activation = "tanh"
normalization = "exact"
rwf = [1.0, 0.1]
fourier_sigmas = [1.0, 10.0]
fourier_features = 100
fourier_time_sigmas = [2.0]
fourier_seed = 0

[weighting]
scheme = "lr-annealing"
beta = 0.8

[optimizer]
name = "adam"
learning_rate = 0.001
decay_rate = 0.9
decay_steps = 1000

[sampling]
batch_size = { res = 64, ics = 32 }
mode = "fixed"

[train]
steps = 40001
seeds = [3, 1]
dtype = "float32"
matmul_precision = "default"
log_every = 100
chunk_logs = 10
checkpoint_every = 5000
devices = "all"

[output]
dir = "runs/old"

[lbfgs]
max_iters = 3
grad_tol = 1e-08
loss_tol = 0.0
memory_size = 50
max_linesearch_steps = 30
weights = { bcs = 10000.0 }
log_every = 100
"""


def test_a_run_folder_written_before_the_change_still_loads(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(OLD_RUN_CONFIG.lstrip())
    old = cfg.load(path)
    assert cfg.dumps(old) == OLD_RUN_CONFIG.lstrip()  # written back word for word
    now = cfg.from_dict(
        {
            "network": {"type": "fourier", "hidden": [8], "fourier_sigmas": [1.0, 10.0], "fourier_time_sigmas": [2.0]}
            | {"rwf": [1.0, 0.1]},
            "weighting": {"beta": 0.8},
            "sampling": {"batch_size": {"res": 64, "ics": 32}, "mode": "fixed"},
            "train": {"seeds": [3, 1], "devices": "all"},
            "lbfgs": {"max_iters": 3, "weights": {"bcs": 1e4}},
            "output": {"dir": "runs/old"},
        }
    )
    assert old == now and old.to_dict() == now.to_dict()  # what check_resumable compares
    assert old.seeds == (3, 1) and old.train.seed == 3 and old.train.sampling == "fixed" and old.devices == "all"
    assert old.train.lbfgs.weights == {"bcs": 1e4} and old.network.options["fourier_features"] == 100


def test_sections_land_on_the_library_objects():
    config = cfg.from_dict(
        {
            "optimizer": {"name": "adamw", "learning_rate": 2e-3, "decay_rate": 0.5, "decay_steps": 10, "weight_decay": 1e-4},
            "sampling": {"mode": "fixed", "resample_every": 100},
            "train": {"steps": 300, "seeds": [7, 8], "log_every": 10, "chunk_logs": 10, "checkpoint_every": 100},
        }
    )
    expected = TrainConfig(
        steps=300,
        seed=7,
        learning_rate=2e-3,
        decay_rate=0.5,
        decay_steps=10,
        log_every=10,
        chunk_logs=10,
        sampling="fixed",
        resample_every=100,
        optimizer_name="adamw",
        optimizer_options={"weight_decay": 1e-4},
    )
    assert config.train == expected and config.train_config() == expected
    assert config.train_config(8).seed == 8 and config.seeds == (7, 8) and config.checkpoint_every == 100


def _first_update(optimizer, grads, params, steps=1):
    state, updates = optimizer.init(params), None
    for _ in range(steps):
        updates, state = optimizer.update(grads, state, params)
    return updates


def test_one_optimizer_factory_with_the_published_schedule():
    g, p = {"w": jnp.array([0.5, -2.0])}, {"w": jnp.array([1.0, 1.0])}
    sgd = TrainConfig(optimizer_name="sgd", learning_rate=0.1, decay_rate=0.5, decay_steps=1)
    # step k moves by -lr * decay_rate ** (k / decay_steps) * g: -0.1 g, then -0.05 g
    np.testing.assert_allclose(_first_update(sgd.optimizer(), g, p)["w"], -0.1 * g["w"], rtol=1e-6)
    np.testing.assert_allclose(_first_update(sgd.optimizer(), g, p, steps=2)["w"], -0.05 * g["w"], rtol=1e-6)
    # the initial rate is a leaf of the optimizer state: a run's own rate (training.runs) replaces it
    optimizer = sgd.optimizer()
    state = optimizer.init(p)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.1)
    state.hyperparams["learning_rate"] = jnp.float32(0.2)
    np.testing.assert_allclose(optimizer.update(g, state, p)[0]["w"], -0.2 * g["w"], rtol=1e-6)
    # Adam's first step is -lr * m / (sqrt(v) + eps) with bias-corrected m = g, v = g^2: -lr sign(g)
    adam = TrainConfig(learning_rate=1e-3).optimizer()
    np.testing.assert_allclose(_first_update(adam, g, p)["w"], -1e-3 * np.sign(g["w"]), rtol=1e-6)


def test_soap_by_name_is_the_soap_of_optim():
    options = {"precondition_frequency": 2, "b1": 0.9, "b2": 0.99}
    config = cfg.from_dict({"optimizer": {"name": "soap", **options}})
    assert config.train.optimizer_name == "soap" and dict(config.train.optimizer_options) == options
    assert optimizer_constructor("soap") is soap
    g, p = {"W": jnp.array([[1.0, -2.0], [0.5, 3.0]])}, {"W": jnp.ones((2, 2))}
    by_name = _first_update(config.train.optimizer(), g, p, steps=3)
    direct = _first_update(soap(optax.exponential_decay(1e-3, 1000, 0.9), **options), g, p, steps=3)
    np.testing.assert_allclose(by_name["W"], direct["W"], rtol=1e-6)
    again = cfg.from_dict(__import__("tomllib").loads(cfg.dumps(config)))
    assert again == config


@pytest.mark.parametrize(
    "optimizer, message",
    [
        (
            {"name": "soap", "precondition_freq": 5},
            "unknown key optimizer.'precondition_freq' (did you mean 'precondition_frequency'?)",
        ),
        ({"name": "soap", "precondition_frequency": 0}, "optimizer.precondition_frequency must be a positive integer, got 0"),
        ({"name": "soap", "b1": 1.5}, "optimizer.b1 must be in [0, 1)"),
        ({"name": "soap", "b1": "high"}, "optimizer.b1 must be a number, got 'high'"),
        ({"name": "sgd", "b1": 0.9}, "unknown key optimizer.'b1'"),
        ({"name": "sopa"}, "optimizer.name 'sopa' is unknown (did you mean 'soap'?)"),
        ({"name": "chain"}, "optimizer.name 'chain' is unknown"),  # an optax function, but no optimizer
    ],
)
def test_bad_optimizer_sections_are_named(optimizer, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_dict({"optimizer": optimizer})
    assert message in str(err.value)


def test_library_optimizer_names_are_checked_with_the_same_factory():
    with pytest.raises(ValueError, match=r"optimizer 'adma' is unknown \(did you mean 'adam'\?\)"):
        TrainConfig(optimizer_name="adma")
    with pytest.raises(TypeError, match="bogus"):
        TrainConfig(optimizer_options={"bogus": 1})


def test_piratenet_from_toml():
    from pinnbalance.nn import PirateNet, count_params

    table = {"type": "piratenet", "hidden": [8, 8], "piratenet_features": 4, "piratenet_sigma": 2.0, "rwf": [1.0, 0.1]}
    config = cfg.from_dict({**SMALL, "network": table})
    problem = config.build_problem()
    net = config.build_network(problem)
    assert isinstance(net, PirateNet) and net.layers == (2, 8, 8, 1) and (net.features, net.sigma, net.seed) == (4, 2.0, 0)
    # P = 2 (e h + h) + L (2 e h + h^2 + 2 h + e + 1) + (e + 1) d_out with e = 2 m = 8, h = 8, L = 2, d_out = 1,
    # plus the random weight factorisation's log-scales 2 h + L (2 h + e) + d_out (nn.piratenet)
    base = 2 * (8 * 8 + 8) + 2 * (2 * 8 * 8 + 8 * 8 + 2 * 8 + 8 + 1) + (8 + 1) * 1
    assert count_params(net.init(jax.random.PRNGKey(0))) == base + 2 * 8 + 2 * (2 * 8 + 8) + 1
    assert cfg.from_dict(__import__("tomllib").loads(cfg.dumps(config))) == config
    assert config.to_dict()["network"] == {
        "type": "piratenet",
        "hidden": [8, 8],
        "activation": "tanh",
        "normalization": "exact",
        "rwf": [1.0, 0.1],
        "piratenet_sigma": 2.0,
        "piratenet_features": 4,
        "piratenet_seed": 0,
    }


@pytest.mark.parametrize(
    "table, message",
    [
        ({"hidden": [8, 9]}, "[network]: PirateNet block widths must all be equal"),
        ({"piratenet_features": 0}, "network.piratenet_features (rows of B"),
        (
            {"piratenet_sigma": -1.0},
            "network.piratenet_sigma (the scale of the Fourier frequencies) must be > 0, e.g. 1.0; got -1.0",
        ),
        (
            {"fourier_sigmas": [1.0]},
            "network.fourier_sigmas applies only to type = 'fourier'; this network has type = 'piratenet'",
        ),
        ({"piratenet_seeds": 1}, "unknown key network.'piratenet_seeds' (did you mean 'piratenet_seed'?)"),
    ],
)
def test_bad_piratenet_sections_are_named(table, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_dict({"network": {"type": "piratenet", **table}})
    assert message in str(err.value)


def test_grad_norm_2026_by_name():
    from pinnbalance.weighting import GradNorm2026

    config = cfg.from_dict({"weighting": {"scheme": "grad-norm-2026", "alpha": 0.8, "initial": {"bcs": 2}}})
    scheme = config.build_scheme(config.build_problem())
    assert scheme == GradNorm2026(alpha=0.8, initial={"bcs": 2.0}) and scheme.period == 1000
    with pytest.raises(cfg.ConfigError, match=r"weighting.initial: unknown weight name\(s\) \['bc'\]"):
        cfg.from_dict({"weighting": {"scheme": "grad-norm-2026", "initial": {"bc": 2.0}}})


def test_scheme_names_are_checked_against_the_declared_terms():
    with pytest.raises(cfg.ConfigError, match=r"weighting.reference: unknown reference term name\(s\) \['u'\]"):
        cfg.from_dict({"weighting": {"scheme": "lr-annealing", "reference": "u"}})
    assert cfg.from_dict({"problem": {"name": "wave"}, "weighting": {"reference": "u"}}).weighting.options["reference"] == "u"
    base = {"weighting": {"scheme": "self-adaptive", "terms": ["res", "bc"]}, "sampling": {"mode": "fixed"}}
    with pytest.raises(cfg.ConfigError, match=r"weighting.terms: unknown self-adaptive term name\(s\) \['bc'\]"):
        cfg.from_dict(base)


def test_problem_parameters_are_the_factorys_positional_ones():
    with pytest.raises(
        cfg.ConfigError, match=r"unknown key problem.parameters.'exact'; valid keys are \['alpha', 'beta', 'gamma', 'k'\]"
    ):
        cfg.from_dict({"problem": {"parameters": {"exact": "x"}}})
    wave = cfg.from_dict({"problem": {"name": "wave", "parameters": {"c": 3, "residual_batch_size": 10}}})
    assert wave.problem.parameters == {"c": 3.0, "residual_batch_size": 10}
    bad = cfg.from_dict({"problem": {"name": "wave", "parameters": {"c": -1.0}}})  # checked by the factory, at build
    with pytest.raises(cfg.ConfigError, match=r"\[problem\]: wave speed c must be > 0, got -1.0"):
        bad.build_problem()


def test_types_follow_the_field_annotations():
    cases = [
        ({"train": {"steps": True}}, "train.steps must be an integer, got True"),
        ({"optimizer": {"learning_rate": "fast"}}, "optimizer.learning_rate must be a number, got 'fast'"),
        ({"train": {"devices": 1.5}}, "train.devices must be an integer or a string, got 1.5"),
        ({"train": {"seeds": [1, "2"]}}, "train.seeds[1] must be an integer, got '2'"),
        ({"sampling": {"batch_size": {"res": 1.5}}}, "sampling.batch_size.res must be an integer, got 1.5"),
        ({"weighting": {"scheme": "lr-annealing", "grad_of": 1}}, "weighting.grad_of must be a string, got 1"),
        ({"weighting": {"scheme": "ntk", "initial": {"res": "x"}}}, "weighting.initial.res must be a number, got 'x'"),
        ({"lbfgs": {"weights": 3}}, "lbfgs.weights must be a string or a table, got 3"),
        ({"train": 3}, "[train] must be a table, got 3"),
    ]
    for data, message in cases:
        with pytest.raises(cfg.ConfigError) as err:
            cfg.from_dict(data)
        assert message in str(err.value), data
    assert cfg.from_dict({"optimizer": {"learning_rate": 1}}).train.learning_rate == 1.0  # integers are numbers
