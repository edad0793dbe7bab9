"""Run configuration: TOML files mapped onto frozen, validated objects.

Every run is fully described by one TOML file::

    [problem]
    name = "klein-gordon"
    parameters = { alpha = -1.0, beta = 0.0, gamma = 1.0, k = 3 }

    [network]
    type = "mlp"                     # or "modified-mlp", "fourier" (see pinnbalance.nn)
    hidden = [50, 50, 50, 50, 50]
    activation = "tanh"
    normalization = "exact"          # or "sampled" (100,000 uniform draws, as published)
    # rwf = [1.0, 0.1]               # random weight factorisation (mu, sigma), any type
    # encoder_bias = "zeros"         # modified-mlp: or "glorot" (published code)
    # fourier_sigmas = [1.0, 10.0]   # fourier: one embedding per scale
    # fourier_features = 100         # fourier: rows of each B (embedding size 2 x this)
    # fourier_time_sigmas = [1.0]    # fourier: spatio-temporal variant (coordinate "t")
    # fourier_seed = 0               # fourier: seed of the fixed frequency draws

    [weighting]
    scheme = "lr-annealing"          # see `pinnbalance list`; other keys are the scheme's fields
    grad_of = "weighted"

    [optimizer]
    name = "adam"                    # any optax optimizer taking a learning rate first
    learning_rate = 1e-3
    decay_rate = 0.9                 # lr * decay_rate ** (step / decay_steps)
    decay_steps = 1000

    [sampling]
    batch_size = 128                 # or a table per term: { res = 256, ics = 128, bcs = 128 }
    mode = "random"                  # or "fixed": one point set for the whole run (full batch)
    # resample_every = 1000          # fixed mode: redraw the set every N steps

    [lbfgs]                          # optional: L-BFGS after the first-order steps
    max_iters = 5000                 # also grad_tol, loss_tol, memory_size, max_linesearch_steps,
    weights = "frozen"               # log_every, points, dtype; weights "frozen" (default), "unit"
                                     # or fixed weights per term: { bcs = 1e4 } (others 1)

    [train]
    steps = 40001
    seeds = [1234]
    dtype = "float32"
    matmul_precision = "default"
    log_every = 100
    chunk_logs = 10
    checkpoint_every = 5000          # steps; a multiple of log_every * chunk_logs
    devices = 1                      # or N, or "all": split the batch (or the seeds) across devices

    [output]
    dir = "runs/kg-m2"

Unknown sections or keys, wrong types and out-of-range values are rejected before any work
starts, with the field's dotted name, the bad value, what is allowed, and a "did you mean"
for misspellings. This module and the CLI are the only places where names become objects.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optax

from pinnbalance.nn import ACTIVATIONS, ARCHITECTURES, fourier_for, mlp_for, modified_mlp_for
from pinnbalance.problems import PROBLEMS
from pinnbalance.training.config import DTYPES, TrainConfig, with_rate_in_state
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.training.sharding import DataParallel
from pinnbalance.weighting import SCHEMES, STATISTICS
from pinnbalance.weighting.interface import per_point


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the field and the fix."""


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(where: str, key: str, options) -> ConfigError:
    return ConfigError(f"unknown key {where}{key!r}{_suggest(key, options)}; valid keys are {sorted(options)}")


def _expect(where: str, value, kinds, what: str):
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ConfigError(f"{where} must be {what}, got {value!r}")
    if not isinstance(value, kinds):
        raise ConfigError(f"{where} must be {what}, got {value!r} ({type(value).__name__})")
    return value


def _positive_int(where: str, value) -> int:
    _expect(where, value, int, "a positive integer")
    if value < 1:
        raise ConfigError(f"{where} must be a positive integer, got {value}")
    return value


@dataclass(frozen=True)
class ProblemConfig:
    name: str = "klein-gordon"
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the architecture (``type``, a key of ``nn.ARCHITECTURES``) and its fields."""

    hidden: tuple[int, ...] = (50, 50, 50, 50, 50)
    activation: str = "tanh"
    normalization: str = "exact"
    type: str = "mlp"
    rwf: tuple[float, float] | None = None
    encoder_bias: str = "zeros"
    fourier_sigmas: tuple[float, ...] = (1.0,)
    fourier_features: int = 100
    fourier_time_sigmas: tuple[float, ...] | None = None
    fourier_seed: int = 0


# keys that only one architecture takes; the others ([type, hidden, activation,
# normalization, rwf]) apply to every type
NETWORK_TYPE_KEYS = {
    "mlp": (),
    "modified-mlp": ("encoder_bias",),
    "fourier": ("fourier_sigmas", "fourier_features", "fourier_time_sigmas", "fourier_seed"),
}


@dataclass(frozen=True)
class WeightingConfig:
    scheme: str = "lr-annealing"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimizerConfig:
    name: str = "adam"
    learning_rate: float = 1e-3
    decay_rate: float = 0.9
    decay_steps: int = 1000


@dataclass(frozen=True)
class RunSettings:
    steps: int = 40_001
    seeds: tuple[int, ...] = (1234,)
    dtype: str = "float32"
    matmul_precision: str = "default"
    log_every: int = 100
    chunk_logs: int = 10
    checkpoint_every: int = 5000
    devices: int | str = 1  # or "all"; training.sharding.DataParallel: batch (one seed) or seeds split


@dataclass(frozen=True)
class RunConfig:
    """A whole run: what to solve, with what, how to train, where to write."""

    problem: ProblemConfig = ProblemConfig()
    network: NetworkConfig = NetworkConfig()
    weighting: WeightingConfig = WeightingConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    batch_size: int | Mapping[str, int] = 128
    train: RunSettings = RunSettings()
    output_dir: str = "runs/run"
    sampling_mode: str = "random"
    resample_every: int | None = None
    lbfgs: LBFGS | None = None

    # ---- building the objects --------------------------------------------------------
    def build_problem(self):
        return PROBLEMS[self.problem.name](**self.problem.parameters).with_batch_sizes(self.batch_size)

    def build_network(self, problem):
        n = self.network
        samples = 100_000 if n.normalization == "sampled" else None
        common = {"hidden": n.hidden, "activation": n.activation, "samples": samples, "rwf": n.rwf, "outputs": problem.outputs}
        if n.type == "modified-mlp":
            return modified_mlp_for(problem.domain, encoder_bias=n.encoder_bias, **common)
        if n.type == "fourier":
            return fourier_for(
                problem.domain,
                n.fourier_sigmas,
                n.fourier_features,
                time_sigmas=n.fourier_time_sigmas,
                seed=n.fourier_seed,
                **common,
            )
        return mlp_for(problem.domain, **common)

    def build_scheme(self, problem):
        return scheme_for(self.weighting.scheme, problem, self.weighting.options)

    def train_config(self, seed: int | None = None) -> TrainConfig:
        t, o = self.train, self.optimizer
        return TrainConfig(
            steps=t.steps,
            seed=self.train.seeds[0] if seed is None else seed,
            learning_rate=o.learning_rate,
            decay_rate=o.decay_rate,
            decay_steps=o.decay_steps,
            log_every=t.log_every,
            chunk_logs=t.chunk_logs,
            dtype=t.dtype,
            matmul_precision=t.matmul_precision,
            sampling=self.sampling_mode,
            resample_every=self.resample_every,
            lbfgs=self.lbfgs,
        )

    def build_sharding(self):
        """``DataParallel`` over ``train.devices`` devices, or None when that is one device."""
        devices = self.train.devices
        sharding = None if devices == 1 else DataParallel(None if devices == "all" else devices)
        return None if sharding is None or sharding.count == 1 else sharding

    def build_optimizer(self) -> optax.GradientTransformation:
        """The configured optimizer with its decay schedule, the initial rate a leaf of its
        state (``training.config.with_rate_in_state``)."""
        return with_rate_in_state(getattr(optax, self.optimizer.name), self.optimizer)

    def to_dict(self) -> dict:
        """The resolved configuration as plain data (the shape of the TOML file)."""
        return {
            "problem": {"name": self.problem.name, "parameters": dict(self.problem.parameters)},
            "network": _network_dict(self.network),
            "weighting": {"scheme": self.weighting.scheme, **dict(self.weighting.options)},
            "optimizer": dataclasses.asdict(self.optimizer),
            "sampling": {
                "batch_size": self.batch_size if isinstance(self.batch_size, int) else dict(self.batch_size),
                "mode": self.sampling_mode,
                **({} if self.resample_every is None else {"resample_every": self.resample_every}),
            },
            "train": {**dataclasses.asdict(self.train), "seeds": list(self.train.seeds)},
            "output": {"dir": self.output_dir},
            **(
                {}
                if self.lbfgs is None
                else {"lbfgs": {k: v for k, v in dataclasses.asdict(self.lbfgs).items() if v is not None}}
            ),
        }


def _network_dict(n: NetworkConfig) -> dict:
    """The ``[network]`` table: common keys, ``rwf`` if set, then the type's own keys."""
    d = {"type": n.type, "hidden": list(n.hidden), "activation": n.activation, "normalization": n.normalization}
    if n.rwf is not None:
        d["rwf"] = list(n.rwf)
    for key in NETWORK_TYPE_KEYS[n.type]:
        value = getattr(n, key)
        if value is not None:
            d[key] = list(value) if isinstance(value, tuple) else value
    return d


def scheme_for(name: str, problem, options: Mapping[str, Any] | None = None):
    """The registered scheme ``name`` with ``options`` (statistics by name), balanced against
    the problem's reference term unless the options name another."""
    if name not in SCHEMES:
        raise KeyError(f"unknown scheme {name!r}; valid schemes are {list(SCHEMES)}")
    cls = SCHEMES[name]
    options = dict(options or {})
    for key in ("reference_statistic", "term_statistic"):
        if key in options:
            options[key] = STATISTICS[options[key]]
    if "reference" in _fields(cls) and "reference" not in options:
        options["reference"] = problem.reference
    return cls(**options)


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


SECTIONS = ("problem", "network", "weighting", "optimizer", "sampling", "lbfgs", "train", "output")


def from_dict(data: Mapping[str, Any]) -> RunConfig:
    """Validate plain data (parsed TOML) into a ``RunConfig``; raise ``ConfigError`` if anything is off."""
    for section in data:
        if section not in SECTIONS:
            raise _unknown("section ", section, SECTIONS)
        _expect(f"[{section}]", data[section], dict, "a table")
    problem = _problem(data.get("problem", {}))
    network = _network(data.get("network", {}))
    weighting = _weighting(data.get("weighting", {}))
    optimizer = _optimizer(data.get("optimizer", {}))
    sampling = data.get("sampling", {})
    batch_size = _sampling(sampling, problem)
    mode, resample_every = _sampling_mode(sampling)
    train = _train(data.get("train", {}))
    out = data.get("output", {})
    for key in out:
        if key != "dir":
            raise _unknown("output.", key, ["dir"])
    output_dir = _expect("output.dir", out.get("dir", "runs/run"), str, "a folder path (string)")
    lbfgs = _lbfgs(data["lbfgs"]) if "lbfgs" in data else None
    config = RunConfig(problem, network, weighting, optimizer, batch_size, train, output_dir, mode, resample_every, lbfgs)
    problem_obj = config.build_problem()
    names = problem_obj.domain.names
    if network.fourier_time_sigmas is not None and "t" not in names:
        raise ConfigError(
            f"network.fourier_time_sigmas needs a time coordinate named 't'; problem {problem.name!r} has {list(names)}"
        )
    try:
        scheme = config.build_scheme(problem_obj)
        scheme.init(problem_obj.term_names)
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"[weighting]: {err.args[0] if err.args else err}") from None
    if per_point(scheme) and mode != "fixed":
        raise ConfigError(
            f"weighting.scheme {weighting.scheme!r} attaches a weight to each collocation point, so the points must stay "
            'fixed: add mode = "fixed" to [sampling] (and a batch_size as large as the point set you want)'
        )
    if lbfgs is not None:
        try:
            lbfgs.check_terms(problem_obj.term_names)
        except ValueError as err:
            raise ConfigError(f"[lbfgs]: {err}") from None
    return config


def _problem(d) -> ProblemConfig:
    for key in d:
        if key not in ("name", "parameters"):
            raise _unknown("problem.", key, ["name", "parameters"])
    name = _expect("problem.name", d.get("name", "klein-gordon"), str, "a problem name")
    if name not in PROBLEMS:
        raise ConfigError(f"problem.name {name!r} is not a known problem{_suggest(name, PROBLEMS)}; valid: {sorted(PROBLEMS)}")
    params = _expect("problem.parameters", d.get("parameters", {}), dict, "a table")
    signature = inspect.signature(PROBLEMS[name])
    valid = [p for p in signature.parameters if p != "batch_size"]
    for key, value in params.items():
        if key not in valid:
            raise _unknown("problem.parameters.", key, valid)
        default = signature.parameters[key].default
        kinds = (int,) if isinstance(default, int) and not isinstance(default, bool) else (int, float)
        _expect(f"problem.parameters.{key}", value, kinds, "an integer" if kinds == (int,) else "a number")
    return ProblemConfig(name, dict(params))


def _network(d) -> NetworkConfig:
    valid = _fields(NetworkConfig)
    for key in d:
        if key not in valid:
            raise _unknown("network.", key, valid)
    kind = _expect("network.type", d.get("type", "mlp"), str, "an architecture name")
    if kind not in ARCHITECTURES:
        raise ConfigError(f"network.type {kind!r} is unknown{_suggest(kind, ARCHITECTURES)}; valid: {sorted(ARCHITECTURES)}")
    for key in d:
        owner = next((t for t, keys in NETWORK_TYPE_KEYS.items() if key in keys), kind)
        if owner != kind:
            raise ConfigError(f"network.{key} applies only to type = {owner!r}; this network has type = {kind!r}")
    hidden = _expect("network.hidden", d.get("hidden", [50] * 5), list, "a list of layer widths, e.g. [50, 50, 50]")
    if not hidden:
        raise ConfigError("network.hidden must list at least one hidden layer width, e.g. [50, 50]")
    for i, width in enumerate(hidden):
        _positive_int(f"network.hidden[{i}]", width)
    if kind == "modified-mlp" and len(set(hidden)) != 1:
        raise ConfigError(
            f"network.hidden must list equal widths for type = 'modified-mlp' (each gate mixes two encoders); got {hidden}"
        )
    activation = _expect("network.activation", d.get("activation", "tanh"), str, "an activation name")
    if activation not in ACTIVATIONS:
        raise ConfigError(
            f"network.activation {activation!r} is unknown{_suggest(activation, ACTIVATIONS)}; valid: {sorted(ACTIVATIONS)}"
        )
    norm = _expect("network.normalization", d.get("normalization", "exact"), str, "'exact' or 'sampled'")
    if norm not in ("exact", "sampled"):
        raise ConfigError(f"network.normalization must be 'exact' or 'sampled', got {norm!r}")
    defaults = NetworkConfig()
    return NetworkConfig(
        tuple(hidden),
        activation,
        norm,
        kind,
        rwf=_rwf(d["rwf"]) if "rwf" in d else None,
        encoder_bias=_encoder_bias(d.get("encoder_bias", defaults.encoder_bias)),
        fourier_sigmas=_scales("network.fourier_sigmas", d.get("fourier_sigmas", list(defaults.fourier_sigmas))),
        fourier_features=_positive_int("network.fourier_features", d.get("fourier_features", defaults.fourier_features)),
        fourier_time_sigmas=_scales("network.fourier_time_sigmas", d["fourier_time_sigmas"])
        if "fourier_time_sigmas" in d
        else None,
        fourier_seed=_seed("network.fourier_seed", d.get("fourier_seed", defaults.fourier_seed)),
    )


def _rwf(value) -> tuple[float, float]:
    what = "[mu, sigma] (random weight factorisation; the paper uses [1.0, 0.1])"
    _expect("network.rwf", value, list, what)
    if len(value) != 2:
        raise ConfigError(f"network.rwf must be {what}, got {value!r}")
    for i, v in enumerate(value):
        _expect(f"network.rwf[{i}]", v, (int, float), "a number")
    if value[1] < 0:
        raise ConfigError(f"network.rwf[1] (sigma, the spread of the log-scales) must be >= 0, got {value[1]}")
    return float(value[0]), float(value[1])


def _encoder_bias(value) -> str:
    _expect("network.encoder_bias", value, str, "'zeros' or 'glorot'")
    if value not in ("zeros", "glorot"):
        raise ConfigError(f"network.encoder_bias must be 'zeros' or 'glorot' (published code), got {value!r}")
    return value


def _scales(where: str, value) -> tuple[float, ...]:
    _expect(where, value, list, "a list of scales > 0, e.g. [1.0, 10.0]")
    if not value:
        raise ConfigError(f"{where} must list at least one scale, e.g. [1.0, 10.0]")
    for i, v in enumerate(value):
        _expect(f"{where}[{i}]", v, (int, float), "a number > 0")
        if not v > 0:
            raise ConfigError(f"{where}[{i}] must be > 0, got {v}")
    return tuple(float(v) for v in value)


def _seed(where: str, value) -> int:
    _expect(where, value, int, "a non-negative integer")
    if value < 0:
        raise ConfigError(f"{where} must be a non-negative integer, got {value}")
    return value


def _weighting(d) -> WeightingConfig:
    scheme = _expect("weighting.scheme", d.get("scheme", "lr-annealing"), str, "a scheme name")
    if scheme not in SCHEMES:
        raise ConfigError(f"weighting.scheme {scheme!r} is unknown{_suggest(scheme, SCHEMES)}; valid: {sorted(SCHEMES)}")
    valid = {k: f for k, f in _fields(SCHEMES[scheme]).items() if f.init}
    options = {}
    for key, value in d.items():
        if key == "scheme":
            continue
        if key not in valid:
            raise _unknown("weighting.", key, [*valid, "scheme"])
        if key in ("reference_statistic", "term_statistic") and value not in STATISTICS:
            raise ConfigError(f"weighting.{key} {value!r} is unknown; valid: {sorted(STATISTICS)}")
        options[key] = value
    return WeightingConfig(scheme, options)


def _optimizer(d) -> OptimizerConfig:
    valid = _fields(OptimizerConfig)
    for key in d:
        if key not in valid:
            raise _unknown("optimizer.", key, valid)
    name = _expect("optimizer.name", d.get("name", "adam"), str, "an optax optimizer name")
    if not callable(getattr(optax, name, None)) or name.startswith("_"):
        raise ConfigError(
            f"optimizer.name {name!r} is not an optax optimizer{_suggest(name, ['adam', 'adamw', 'sgd', 'lion', 'rmsprop'])}"
        )
    lr = _expect("optimizer.learning_rate", d.get("learning_rate", 1e-3), (int, float), "a number > 0")
    if not lr > 0:
        raise ConfigError(f"optimizer.learning_rate must be > 0, got {lr}")
    rate = _expect("optimizer.decay_rate", d.get("decay_rate", 0.9), (int, float), "a number in (0, 1]")
    if not 0 < rate <= 1:
        raise ConfigError(f"optimizer.decay_rate must be in (0, 1] (1 = no decay), got {rate}")
    steps = _positive_int("optimizer.decay_steps", d.get("decay_steps", 1000))
    return OptimizerConfig(name, float(lr), float(rate), steps)


def _lbfgs(d) -> LBFGS:
    valid = _fields(LBFGS)
    for key in d:
        if key not in valid:
            raise _unknown("lbfgs.", key, valid)
    kinds = {
        "max_iters": int,
        "memory_size": int,
        "max_linesearch_steps": int,
        "log_every": int,
        "points": int,
        "weights": (str, dict),
        "dtype": str,
    }
    what = {int: "an integer", (str, dict): '"frozen", "unit" or a table {term = weight}'}
    for key, value in d.items():
        _expect(f"lbfgs.{key}", value, kinds.get(key, (int, float)), what.get(kinds.get(key), "a value"))
    try:
        return LBFGS(**d)
    except ValueError as err:
        raise ConfigError(f"[lbfgs]: {err}") from None


SAMPLING_KEYS = ("batch_size", "mode", "resample_every")


def _sampling_mode(d) -> tuple[str, int | None]:
    mode = _expect("sampling.mode", d.get("mode", "random"), str, "'random' or 'fixed'")
    if mode not in ("random", "fixed"):
        raise ConfigError(f"sampling.mode must be 'random' (fresh points every step) or 'fixed' (one set), got {mode!r}")
    every = d.get("resample_every")
    if every is not None:
        _positive_int("sampling.resample_every", every)
        if mode != "fixed":
            raise ConfigError('sampling.resample_every needs mode = "fixed" (random mode draws new points every step)')
    return mode, every


def _sampling(d, problem: ProblemConfig):
    for key in d:
        if key not in SAMPLING_KEYS:
            raise _unknown("sampling.", key, SAMPLING_KEYS)
    size = d.get("batch_size", 128)
    if isinstance(size, dict):
        names = PROBLEMS[problem.name]().term_names
        for term, n in size.items():
            if term not in names:
                raise ConfigError(
                    f"sampling.batch_size.{term}: unknown term{_suggest(term, names)}; valid term names are {list(names)}"
                )
            _positive_int(f"sampling.batch_size.{term}", n)
        return dict(size)
    return _positive_int("sampling.batch_size", size)


def _train(d) -> RunSettings:
    valid = _fields(RunSettings)
    for key in d:
        if key not in valid:
            raise _unknown("train.", key, valid)
    defaults = RunSettings()
    values = {k: d.get(k, getattr(defaults, k)) for k in valid}
    for key in ("steps", "log_every", "chunk_logs", "checkpoint_every"):
        _positive_int(f"train.{key}", values[key])
    seeds = _expect("train.seeds", values["seeds"], (list, tuple), "a list of integer seeds, e.g. [1234, 1, 2]")
    if not seeds:
        raise ConfigError("train.seeds must list at least one seed, e.g. [1234]")
    for i, s in enumerate(seeds):
        _expect(f"train.seeds[{i}]", s, int, "an integer")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"train.seeds lists a seed twice: {list(seeds)}")
    if values["dtype"] not in DTYPES:
        raise ConfigError(f"train.dtype must be one of {sorted(DTYPES)}, got {values['dtype']!r}")
    if values["matmul_precision"] not in ("default", "high", "highest"):
        raise ConfigError(f"train.matmul_precision must be 'default', 'high' or 'highest', got {values['matmul_precision']!r}")
    chunk = values["log_every"] * values["chunk_logs"]
    if values["checkpoint_every"] % chunk:
        raise ConfigError(
            f"train.checkpoint_every ({values['checkpoint_every']}) must be a multiple of log_every * chunk_logs ({chunk}), "
            "the steps of one compiled chunk"
        )
    devices = values["devices"]
    if devices != "all" and (isinstance(devices, bool) or not isinstance(devices, int) or devices < 1):
        raise ConfigError(f'train.devices must be a positive integer or "all" (every visible device), got {devices!r}')
    return RunSettings(**{**values, "seeds": tuple(seeds)})


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.steps=2001"`` -> (["train", "steps"], 2001); the value is read as TOML."""
    if "=" not in text:
        raise ConfigError(f"--set expects key.path=value, e.g. train.steps=2001; got {text!r}")
    key, raw = text.split("=", 1)
    path = key.strip().split(".")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word is a string: --set weighting.scheme=constant
    return path, value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """A copy of ``data`` with each ``key.path=value`` set."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {text!r}: {part!r} is not a table")
        node[path[-1]] = value
    return data


def read_toml(path: str | Path, what: str = "configuration file", error: type[Exception] = ConfigError) -> dict:
    """Parse a TOML file, raising ``error`` naming ``what`` when it is missing, not TOML or not text."""
    path = Path(path)
    if not path.exists():
        raise error(f"{what} {path} does not exist")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise error(f"{what} {path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file; TOML is expected") from None


def load(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Read, override and validate a TOML configuration file."""
    path = Path(path)
    data = read_toml(path)
    try:
        return from_dict(apply_overrides(data, list(overrides)))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def dumps(config: RunConfig) -> str:
    """The resolved configuration as TOML text (simple writer: tables of scalars and lists)."""
    lines = []
    for section, table in config.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
