"""Run configuration: TOML files mapped onto frozen, validated objects.

Every run is fully described by one TOML file::

    [problem]
    name = "klein-gordon"
    parameters = { alpha = -1.0, beta = 0.0, gamma = 1.0, k = 3 }

    [network]
    hidden = [50, 50, 50, 50, 50]
    activation = "tanh"
    normalization = "exact"          # or "sampled" (100,000 uniform draws, as published)

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

    [train]
    steps = 40001
    seeds = [1234]
    dtype = "float32"
    matmul_precision = "default"
    log_every = 100
    chunk_logs = 10
    checkpoint_every = 5000          # steps; a multiple of log_every * chunk_logs

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

from pinnbalance.nn import ACTIVATIONS, mlp_for
from pinnbalance.problems import PROBLEMS
from pinnbalance.training.config import DTYPES, TrainConfig
from pinnbalance.weighting import SCHEMES, STATISTICS


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
    hidden: tuple[int, ...] = (50, 50, 50, 50, 50)
    activation: str = "tanh"
    normalization: str = "exact"


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

    # ---- building the objects --------------------------------------------------------
    def build_problem(self):
        return PROBLEMS[self.problem.name](**self.problem.parameters).with_batch_sizes(self.batch_size)

    def build_network(self, problem):
        samples = 100_000 if self.network.normalization == "sampled" else None
        return mlp_for(problem.domain, self.network.hidden, self.network.activation, samples=samples)

    def build_scheme(self, problem):
        cls = SCHEMES[self.weighting.scheme]
        options = dict(self.weighting.options)
        for key in ("reference_statistic", "term_statistic"):
            if key in options:
                options[key] = STATISTICS[options[key]]
        if "reference" in _fields(cls) and "reference" not in options:
            options["reference"] = problem.reference
        return cls(**options)

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
        )

    def build_optimizer(self) -> optax.GradientTransformation:
        o = self.optimizer
        schedule = optax.exponential_decay(o.learning_rate, o.decay_steps, o.decay_rate)
        return getattr(optax, o.name)(schedule)

    def to_dict(self) -> dict:
        """The resolved configuration as plain data (the shape of the TOML file)."""
        return {
            "problem": {"name": self.problem.name, "parameters": dict(self.problem.parameters)},
            "network": {
                "hidden": list(self.network.hidden),
                "activation": self.network.activation,
                "normalization": self.network.normalization,
            },
            "weighting": {"scheme": self.weighting.scheme, **dict(self.weighting.options)},
            "optimizer": dataclasses.asdict(self.optimizer),
            "sampling": {"batch_size": self.batch_size if isinstance(self.batch_size, int) else dict(self.batch_size)},
            "train": {**dataclasses.asdict(self.train), "seeds": list(self.train.seeds)},
            "output": {"dir": self.output_dir},
        }


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


SECTIONS = ("problem", "network", "weighting", "optimizer", "sampling", "train", "output")


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
    batch_size = _sampling(data.get("sampling", {}), problem)
    train = _train(data.get("train", {}))
    out = data.get("output", {})
    for key in out:
        if key != "dir":
            raise _unknown("output.", key, ["dir"])
    output_dir = _expect("output.dir", out.get("dir", "runs/run"), str, "a folder path (string)")
    config = RunConfig(problem, network, weighting, optimizer, batch_size, train, output_dir)
    problem_obj = config.build_problem()
    try:
        scheme = config.build_scheme(problem_obj)
        scheme.init(problem_obj.term_names)
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"[weighting]: {err.args[0] if err.args else err}") from None
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
    hidden = _expect("network.hidden", d.get("hidden", [50] * 5), list, "a list of layer widths, e.g. [50, 50, 50]")
    if not hidden:
        raise ConfigError("network.hidden must list at least one hidden layer width, e.g. [50, 50]")
    for i, width in enumerate(hidden):
        _positive_int(f"network.hidden[{i}]", width)
    activation = _expect("network.activation", d.get("activation", "tanh"), str, "an activation name")
    if activation not in ACTIVATIONS:
        raise ConfigError(
            f"network.activation {activation!r} is unknown{_suggest(activation, ACTIVATIONS)}; valid: {sorted(ACTIVATIONS)}"
        )
    norm = _expect("network.normalization", d.get("normalization", "exact"), str, "'exact' or 'sampled'")
    if norm not in ("exact", "sampled"):
        raise ConfigError(f"network.normalization must be 'exact' or 'sampled', got {norm!r}")
    return NetworkConfig(tuple(hidden), activation, norm)


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


def _sampling(d, problem: ProblemConfig):
    for key in d:
        if key != "batch_size":
            raise _unknown("sampling.", key, ["batch_size"])
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


def load(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Read, override and validate a TOML configuration file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file; a TOML configuration is expected") from None
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
