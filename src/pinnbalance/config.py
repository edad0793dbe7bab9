"""Run configuration: TOML files mapped onto the library's own frozen, validated objects.

Every run is fully described by one TOML file::

    [problem]
    name = "klein-gordon"
    parameters = { alpha = -1.0, beta = 0.0, gamma = 1.0, k = 3 }

    [network]                        # the architecture's options (see pinnbalance.nn)
    type = "mlp"                     # or "modified-mlp", "fourier", "piratenet"
    hidden = [50, 50, 50, 50, 50]    # piratenet: one (equal) width per residual block
    activation = "tanh"
    normalization = "exact"          # or "sampled" (100,000 uniform draws, as published), or "none" (raw inputs, as DeepXDE)
    # rwf = [1.0, 0.1]               # random weight factorisation (mu, sigma), any type
    # encoder_bias = "zeros"         # modified-mlp: or "glorot" (published code)
    # fourier_sigmas = [1.0, 10.0]   # fourier: one embedding per scale
    # fourier_features = 100         # fourier: rows of each B (embedding size 2 x this)
    # fourier_time_sigmas = [1.0]    # fourier: spatio-temporal variant (coordinate "t")
    # fourier_seed = 0               # fourier: seed of the fixed frequency draws
    # piratenet_sigma = 1.0          # piratenet: also piratenet_features = 128, piratenet_seed = 0
    # init = "least-squares"         # piratenet: output layer fitted to the exact solution at the
                                     # init_terms' points (default: all but the reference term),
                                     # init_points per term (1024); training.physics_init

    [weighting]                      # the scheme's fields (see `pinnbalance list`)
    scheme = "lr-annealing"          # or "constant", "grad-norm", "grad-norm-2026", "ntk", ...
    grad_of = "weighted"

    [optimizer]
    name = "adam"                    # "soap" or any optax optimizer taking a learning rate first
    learning_rate = 1e-3
    decay_rate = 0.9                 # lr * decay_rate ** (step / decay_steps)
    decay_steps = 1000
    # b1 = 0.95                      # any other keyword argument of the optimizer, e.g. soap's
                                     # b1, b2, eps, weight_decay, precondition_frequency, max_precond_dim

    [causal]                         # optional: causal weighting of one term (weighting.causal.Causal)
    slices = 32                      # M time slices of the term's points
    eps = [0.01, 0.1, 1.0, 10.0, 100.0]  # the schedule (a single number: a constant eps; written back
                                     # as eps = 0.01 and eps_schedule = [0.1, ...], Causal's fields)
    # delta = 0.99                   # move to the next eps when min_i w_i > delta
    # steps_per_eps = 10000          # ... or after this many steps at one eps (the paper's N_iter)
    # time = "t"                     # the time coordinate of the problem's domain
    # term = "res"                   # the term made causal (default: the reference term)

    [sampling]
    batch_size = 128                 # or a table per term: { res = 256, ics = 128, bcs = 128 }
    mode = "random"                  # or "fixed": one point set for the whole run (full batch)
    # resample_every = 1000          # fixed mode: redraw the set every N steps

    [lbfgs]                          # optional: L-BFGS after the first-order steps
    max_iters = 5000                 # also grad_tol, loss_tol, memory_size, max_linesearch_steps,
    weights = "frozen"               # log_every, points, dtype; weights "frozen" (default), "unit"
                                     # or fixed weights per term: { bcs = 1e4 } (others 1)

    [lm]                             # optional: Levenberg-Marquardt after the others (pinnbalance.lm);
    max_iters = 500                  # with train.steps = 0 it trains from scratch; also damping, solver,
    points = 2000                    # weights, dtype (float64), log_every, max_memory_gb, ...

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

    [ensemble]                       # optional: K trainings (lanes of one program) whose seeds derive from
    members = 6                      # train.seeds' ONE seed; their mean prediction and spread (ensemble.py)

    [unknowns.k]                     # an inverse problem's declared scalar unknown k (problems.unknowns.Scalar),
    init = 2.0                       # e.g. problem "poisson-inverse": its initial value,
    positive = true                  # trained as exp(raw), so it stays > 0 (init must then be > 0),
    learning_rate = 1e-2             # its own rate (default: [optimizer]'s); keys left out keep the problem's

    [unknowns.a]                     # a declared field unknown a (problems.unknowns.FieldUnknown), e.g.
    kind = "field"                   # problem "heat-inverse" (kind: optional, must be the declared one),
    inputs = ["x", "y"]              # the coordinates it sees, a network of hidden widths and activation
    hidden = [50, 50, 50]            # (rebuilt on the domain's bounding box in them), positive and
    activation = "tanh"              # learning_rate as for a scalar (unknown_tables)

The sections map onto the library's objects: ``[train]``, ``[optimizer]`` and ``[sampling]`` onto
``TrainConfig``, ``[weighting]`` onto the scheme's class, ``[network]`` onto the architecture's
builder; ``[lbfgs]``, ``[lm]``, ``[causal]`` and ``[problem]`` are tables of one object's
keywords (``LBFGS``, ``LevenbergMarquardt``, ``weighting.causal.Causal``, ``ProblemConfig``),
all read by one function (``_object``), and each ``[unknowns.NAME]`` is checked against
its kind's keys (``unknown_tables``: scalars and fields); ``train.seeds``,
``train.checkpoint_every``, ``train.devices``, ``sampling.batch_size`` and ``output.dir`` are the
run's own (``RunConfig``).
Validation is constructing those objects (their own checks, re-raised with the key's dotted
name), after a type check driven by their field annotations; unknown keys get a "did you
mean". Term names, coordinates and unknowns are checked against the problem's declaration
(``problems.declared``): nothing is built, so loading a configuration starts no JAX backend
(``[causal]`` by ``Causal.check``, ``[unknowns.NAME]`` by ``unknown_tables.check_tables``;
``build_problem`` applies them: ``unknown_tables.with_tables``, then ``Problem.with_unknowns``,
which checks the problem's own values again, and ``causal_problem``). This module and the CLI
are the only places where names become objects.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import inspect
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinnbalance.ensemble import Ensemble
from pinnbalance.io import read_toml, toml_text
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.nn import ACTIVATIONS, fourier_for, mlp_for, modified_mlp_for, piratenet_for
from pinnbalance.problems import Box, check_batch_sizes, check_names, declaration, find_factory, make_problem
from pinnbalance.training.config import TrainConfig, optimizer_constructor, positive_int
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.training.physics_init import LeastSquaresInit
from pinnbalance.training.sharding import DataParallel
from pinnbalance.unknown_tables import UnknownTable, check_tables, with_tables
from pinnbalance.weighting import SCHEMES, STATISTICS
from pinnbalance.weighting.causal import Causal, causal_problem


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the field and the fix."""


BUILDERS = {"mlp": mlp_for, "modified-mlp": modified_mlp_for, "fourier": fourier_for, "piratenet": piratenet_for}
PREFIXES = {"fourier": "fourier_", "piratenet": "piratenet_"}  # a type's own keywords as [network] keys: prefixed for these
SHARED = ("box", "hidden", "activation", "outputs", "samples", "rwf", "time_coordinate")  # every type's (time: always "t")
NORMALIZATION = {"exact": None, "sampled": 100_000, "none": 0}  # the box's moments, from N uniform draws, or raw inputs (0)
NAMED = {"reference": "reference term", "initial": "weight", "weights": "weight", "terms": "self-adaptive term"}
STATISTIC_KEYS = ("reference_statistic", "term_statistic")  # scheme fields given by name (weighting.STATISTICS)
KEYS = {  # TOML key -> the field holding it: TrainConfig's, else RunConfig's own (the run-level keys)
    **{f"train.{k}": k for k in ("steps", "seeds", "dtype", "matmul_precision", "log_every", "chunk_logs", "checkpoint_every")},
    **{"train.devices": "devices", "optimizer.name": "optimizer_name", "optimizer.learning_rate": "learning_rate"},
    **{"optimizer.decay_rate": "decay_rate", "optimizer.decay_steps": "decay_steps", "sampling.batch_size": "batch_size"},
    **{"sampling.mode": "sampling", "sampling.resample_every": "resample_every", "output.dir": "output_dir"},
}
OBJECTS = {"lbfgs": LBFGS, "lm": LevenbergMarquardt, "causal": Causal}  # sections that are one object's keywords
SECTIONS = ("problem", "network", "weighting", "optimizer", "sampling", "train", "output", "unknowns", "ensemble", *OBJECTS)
TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
KINDS = {"int": (int,), "float": (int, float), "str": (str,), "Literal": (str,), "bool": (bool,), "Mapping": (dict,)}
KINDS |= {"tuple": (list, tuple), "Sequence": (list, tuple)}  # annotation -> the TOML values that fit
WHAT = {"int": "an integer", "float": "a number", "str": "a string", "Literal": "a string", "bool": "true or false"}


def _suggest(word: str, options) -> str:
    return f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(str(word), list(options), n=1)) else ""


def _choose(where: str, name, registry):
    """``name`` if it is a string and a key of ``registry``, else a ConfigError with a "did you mean"."""
    if _typed(where, name, "str") not in registry:
        raise ConfigError(f"{where} {name!r} is unknown{_suggest(name, registry)}; valid: {sorted(registry)}")
    return name


def _typed(where: str, value, annotation, default=None):
    """``value`` (parsed TOML) checked against a field's ``annotation`` (``"int | None"``,
    ``"tuple[float, ...]"``, ``"Mapping[str, int]"``); lists become tuples, integers floats where
    floats are asked for. A type this does not know (``Statistic``, ``ArrayLike``) falls back to
    the default's type, else is left to the object's own checks."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    alts = [a.strip() for a in re.split(r"\|(?![^\[]*\])", re.sub(r"\b\w+\.", "", text)) if a.strip() != "None"]
    if not alts or any(re.match(r"\w*", a).group() not in KINDS for a in alts):
        if not isinstance(default, (bool, int, float, str)):
            return value
        alts = [type(default).__name__]
    for alt in alts:
        head, _, inner = alt.partition("[")
        if not isinstance(value, KINDS[head]) or (isinstance(value, bool) and head != "bool"):
            continue
        args = [a.strip() for a in re.split(r",(?![^\[]*\])", inner[:-1])] if inner else []
        if head in ("tuple", "Sequence") and args:
            return tuple(_typed(f"{where}[{i}]", v, args[0]) for i, v in enumerate(value))
        if head == "Mapping" and args:
            return {k: _typed(f"{where}.{k}", v, args[-1]) for k, v in value.items()}
        return float(value) if head == "float" else value
    what = " or ".join(dict.fromkeys(WHAT.get(a.partition("[")[0], "a table" if "Mapping" in a else "a list") for a in alts))
    raise ConfigError(f"{where} must be {what}, got {value!r}")


def _fields(obj, skip=(), keyword_only: bool = True) -> dict[str, tuple]:
    """``{name: (annotation, default)}`` of the parameters of a function or a class (a
    dataclass: its fields) that can be given by keyword (only positional-or-keyword ones unless
    ``keyword_only``); a parameter without a default has default None."""
    kinds = ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY") if keyword_only else ("POSITIONAL_OR_KEYWORD",)
    params = [p for p in inspect.signature(obj).parameters.values() if p.kind.name in kinds and p.name not in skip]
    return {p.name: (p.annotation, None if p.default is p.empty else p.default) for p in params}


def _own_keys(kind: str) -> dict[str, str]:
    """``{[network] key: builder keyword}`` of the keywords only some types take (``SHARED``: all), read
    from the builder of type ``kind``: ``{"fourier_sigmas": "sigmas", ...}``, ``{"encoder_bias": "encoder_bias"}``."""
    return {PREFIXES.get(kind, "") + name: name for name in _fields(BUILDERS[kind]) if name not in SHARED}


def _table(where: str, table: Mapping, fields: Mapping[str, tuple]) -> dict:
    """The table's values checked against ``fields`` (``{key: (annotation, default)}``)."""
    for key in _typed(where if "." in where else f"[{where}]", table, "Mapping"):
        if key not in fields:
            raise ConfigError(f"unknown key {where}.{key!r}{_suggest(key, fields)}; valid keys are {sorted(fields)}")
    return {key: _typed(f"{where}.{key}", value, *fields[key]) for key, value in table.items()}


def _built(section: str, build, paths=()):
    """``build()``, its ValueError/TypeError/KeyError raised as a ConfigError naming the key: a
    message that starts with a field (``steps must ...``, ``TrainConfig.steps must ...``) gets its
    key path from ``paths`` in its place (``{start: key path}``, or field names: ``section.name``),
    any other the prefix ``[section]: `` (``section: `` when ``section`` is itself a key path,
    ``weighting.initial``)."""
    paths = paths if isinstance(paths, Mapping) else {name: f"{section}.{name}" for name in paths}
    try:
        return build()
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        text = str(err.args[0]) if err.args else repr(err)
        bare = re.sub(r"^[A-Z]\w*\.", "", text)
        for name in sorted(paths, key=len, reverse=True):
            if re.match(rf"{re.escape(name)}\b", bare):
                raise ConfigError(paths[name] + bare[len(name) :]) from None
        raise ConfigError(f"{section if '.' in section else f'[{section}]'}: {text}") from None


def _object(where: str, cls, table: Mapping):
    """``cls(**table)``: one section (``[lbfgs]``, ``[lm]``, ``[causal]``) as the library object
    whose keywords it holds, its keys and value types checked against ``cls``'s fields and
    ``cls``'s own errors raised under ``where.<key>``."""
    values = _table(where, table, fields := _fields(cls))
    return _built(where, lambda: cls(**values), list(fields))


@dataclass(frozen=True)
class ProblemConfig:
    """``[problem]``: a registered problem's name and the values of its factory's parameters,
    e.g. ``name = "klein-gordon"`` with ``parameters = { alpha = -1.0, k = 3 }``; or a function of
    the user's own, ``name = "my_pde.py:poisson_2d"`` (``problems.external``: loaded, then registered)."""

    name: str = "klein-gordon"
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):  # the parameters: the factory's positional-or-keyword ones (exact= and such: no TOML values)
        fields = _fields(_built("problem", lambda: find_factory(self.name), {"problem": "problem.name"}), ("batch_size",), False)
        object.__setattr__(self, "parameters", _table("problem.parameters", self.parameters, fields))


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the architecture (``type``, a key of ``BUILDERS``), the options every type
    takes, and the type's own (``options``: its TOML keys, every default written out)."""

    type: str = "mlp"
    hidden: tuple[int, ...] = (50, 50, 50, 50, 50)
    activation: str = "tanh"
    normalization: str = "exact"
    rwf: tuple[float, float] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    init: str = "random"  # or "least-squares" (piratenet): training.physics_init
    init_terms: tuple[str, ...] | None = None  # least-squares: the terms fitted (None: all but the reference)
    init_points: int = 1024  # least-squares: points drawn per term

    def least_squares(self) -> LeastSquaresInit | None:
        """The least-squares initialisation ``init`` asks for, or None."""
        return LeastSquaresInit(self.init_terms, self.init_points) if self.init == "least-squares" else None

    def build(self, box, outputs: int = 1, samples: int | None = None):
        """The network for inputs in ``box`` (normalised: exact moments, or ``samples`` uniform draws)."""
        options = {_own_keys(self.type)[k]: v for k, v in self.options.items()}
        kwargs = dict(hidden=self.hidden, activation=self.activation, outputs=outputs, samples=samples, rwf=self.rwf)
        return BUILDERS[self.type](box, **kwargs, **options)


@dataclass(frozen=True)
class WeightingConfig:
    """``[weighting]``: a registered scheme and its fields (statistics by name)."""

    scheme: str = "lr-annealing"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    """A whole run: what to solve, with what, how to train (``train``: ``[train]``, ``[optimizer]``,
    ``[sampling]``, ``[lbfgs]`` and ``[lm]``), the run-level keys and where to write. Constructing one
    checks what the library objects cannot alone, names against the problem's declaration; it
    builds the network and the scheme on stand-ins to run their own checks, never the problem."""

    problem: ProblemConfig = field(default_factory=ProblemConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    weighting: WeightingConfig = field(default_factory=WeightingConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    batch_size: int | Mapping[str, int] = 128
    seeds: tuple[int, ...] = (1234,)
    checkpoint_every: int = 5000
    devices: int | str = 1  # or "all"; training.sharding.DataParallel: batch (one seed) or seeds split
    output_dir: str = "runs/run"
    causal: Causal | None = None  # [causal]: causal weighting of a time-dependent term (weighting.causal)
    unknowns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # [unknowns.NAME]: unknown_tables.UnknownTable keys
    ensemble: Ensemble | None = None  # [ensemble]: then ``seeds`` are its members' (TOML's train.seeds: its one seed)

    def __post_init__(self):
        """The run-level keys, then everything against the problem's declaration (no problem is
        built): the network on a stand-in box, the scheme, then the names each section gives
        (terms, coordinates, unknowns), each library check's error raised under its key path."""
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or (self.ensemble and self.seeds != self.ensemble.seeds):
            raise ConfigError(f"train.seeds must be distinct, at least one ([ensemble]: its members'); got {list(self.seeds)}")
        chunk = self.train.log_every * self.train.chunk_logs
        if not positive_int(self.checkpoint_every) or self.checkpoint_every % chunk:
            raise ConfigError(
                f"train.checkpoint_every ({self.checkpoint_every}) must be a positive multiple of log_every * chunk_logs ({chunk}), the steps of one compiled chunk"
            )
        if self.devices != "all" and not positive_int(self.devices):
            raise ConfigError(f'train.devices must be a positive integer or "all" (every visible device), got {self.devices!r}')
        n, declared = self.network, _built("problem", lambda: declaration(**vars(self.problem)), {"problem": "problem.name"})
        box = Box((0.0,) * len(declared.coordinates), (1.0,) * len(declared.coordinates), declared.coordinates)  # a stand-in
        paths = {"hidden": "network.hidden", "rwf": "network.rwf"} | {k: f"network.{t}" for t, k in _own_keys(n.type).items()}
        _built("network", lambda: n.build(box, declared.outputs), paths)
        scheme, terms, train = self.build_scheme(declared), declared.term_names, self.train  # what the sections name:
        _built("sampling.batch_size", lambda: check_batch_sizes(self.batch_size, terms), {"batch_size": "sampling.batch_size"})
        for key, what in NAMED.items():
            _built(f"weighting.{key}", lambda: check_names(getattr(scheme, key, None) or (), terms, what))
        _built("sampling", lambda: train.sampling_spec().check_scheme(scheme))
        for section in (s for s in ("lbfgs", "lm") if getattr(train, s) is not None):  # the second-order phases
            _built(section, lambda: getattr(train, section).check_terms(terms), ["weights"])
        if self.causal is not None:  # its term and time coordinate, and a scheme it combines with
            _built("causal", lambda: self.causal.check(terms, declared.coordinates, scheme), ["term", "time"])
        if self.network.init != "random":  # the least-squares fit: its settings, terms, and an exact solution to fit
            paths = {"points": "network.init_points", "terms": "network.init_terms", "unknown": "network.init_terms: unknown"}
            _built("network.init", lambda: self.network.least_squares().term_names(declared), paths)
        _built("unknowns", lambda: check_tables(self.unknowns, declared), {k: k for k in ("unknowns", "unknown key")})

    # ---- building the objects --------------------------------------------------------
    def build_problem(self):
        """The problem (building it draws JAX arrays, which starts a backend: choose devices first)."""
        problem = _built("problem", lambda: with_tables(make_problem(**vars(self.problem)), self.unknowns))
        problem = problem if self.causal is None else causal_problem(problem, self.causal)  # [causal]: the term's causal loss
        return _built("sampling.batch_size", lambda: problem.with_batch_sizes(self.batch_size))  # terms a switch left out

    def build_network(self, problem):
        return self.network.build(problem.domain, problem.outputs, NORMALIZATION[self.network.normalization])

    def build_scheme(self, problem):
        """The scheme (its own checks raised naming ``weighting.<field>``); ``problem``: a ``Problem`` or a ``Declared``."""
        fields = list(_fields(SCHEMES[self.weighting.scheme]))
        return _built("weighting", lambda: scheme_for(self.weighting.scheme, problem, self.weighting.options), fields)

    def train_config(self, seed: int | None = None) -> TrainConfig:
        """``train`` with the first seed (or ``seed``)."""
        seed = self.seeds[0] if seed is None else seed
        return dataclasses.replace(self.train, seed=seed, least_squares=self.network.least_squares())

    def build_sharding(self):
        """``DataParallel`` over ``train.devices`` devices, or None when that is one device."""
        sharding = None if self.devices == 1 else DataParallel(None if self.devices == "all" else self.devices)
        return None if sharding is None or sharding.count == 1 else sharding

    def to_dict(self) -> dict:
        """The resolved configuration as plain data (the shape of the TOML file; lists, dicts, scalars)."""
        n, t, d = self.network, self.train, {"problem": {"name": self.problem.name, "parameters": self.problem.parameters}}
        # [network]: the keys every type takes (in field order), rwf if set, then the type's own keys
        # (the initialisation keys only when asked for: older run folders' configs stay equal)
        skip = ("options", "init", "init_terms", "init_points") if n.init == "random" else ("options",)
        d["network"] = {k: v for k, v in dataclasses.asdict(n).items() if k not in skip and v is not None} | dict(n.options)
        d["weighting"] = {"scheme": self.weighting.scheme, **self.weighting.options}
        d |= {section: {} for section in ("optimizer", "sampling", "train", "output")}  # filled from KEYS
        for key, name in KEYS.items():
            if (value := getattr(t if name in TRAIN_FIELDS else self, name)) is not None:
                d[key.split(".")[0]][key.split(".")[1]] = value
        d["optimizer"] |= t.optimizer_options
        objects = {"lbfgs": t.lbfgs, "lm": t.lm, "causal": self.causal, "unknowns": self.unknowns}  # OBJECTS' sections
        for section, obj in ((s, dataclasses.asdict(o) if dataclasses.is_dataclass(o) else o) for s, o in objects.items() if o):
            d[section] = {k: v for k, v in obj.items() if v is not None}
        if self.ensemble is not None:  # the TOML's own form: the one seed the members' derive from
            d["train"]["seeds"], d["ensemble"] = [self.ensemble.seed], {"members": self.ensemble.members}
        return json.loads(json.dumps(d))  # plain data: JSON's types (tuples as lists), as summary.json holds it


def scheme_for(name: str, problem, options: Mapping[str, Any] | None = None):
    """The registered scheme ``name`` with ``options`` (statistics by name), balanced against
    the problem's reference term unless the options name another."""
    cls, options = SCHEMES[_choose("weighting.scheme", name, SCHEMES)], dict(options or {})
    statistics = {k: STATISTICS[_choose(f"weighting.{k}", options[k], STATISTICS)] for k in STATISTIC_KEYS if k in options}
    reference = {"reference": problem.reference} if "reference" in _fields(cls) else {}  # unless the options name one
    return cls(**reference | options | statistics)


def _network(table) -> NetworkConfig:
    kind = _choose("network.type", table.get("type", "mlp"), BUILDERS)
    own = {key: _fields(BUILDERS[kind])[name] for key, name in _own_keys(kind).items()}
    for key in table:
        if owners := [repr(t) for t in BUILDERS if key in _own_keys(t) and key not in own]:
            raise ConfigError(f"network.{key} applies only to type = {' or '.join(owners)}; this network has type = {kind!r}")
    values = _table("network", table, {**_fields(NetworkConfig, skip=("options",)), **own})
    _choose("network.activation", values.get("activation", "tanh"), ACTIVATIONS)
    _choose("network.normalization", values.get("normalization", "exact"), NORMALIZATION)
    if _choose("network.init", values.get("init", "random"), ("random", "least-squares")) != "random" and kind != "piratenet":
        raise ConfigError(f'network.init = {values["init"]!r} applies to type = "piratenet" only, not {kind!r}')
    options = {key: values.pop(key, default) for key, (_, default) in own.items()}  # what remains: the common keys
    return NetworkConfig(**values, options={k: v for k, v in options.items() if v is not None})


def _train(data, phases: Mapping) -> tuple[TrainConfig, dict]:
    """``[train]``, ``[optimizer]``, ``[sampling]`` and ``[output]`` as a ``TrainConfig`` and the
    run-level keyword arguments of ``RunConfig``; ``[optimizer]`` keys beyond ``KEYS`` are the
    optimizer's own keyword arguments."""
    name = _typed("optimizer.name", data.get("optimizer", {}).get("name", "adam"), "str")
    constructor = _built("optimizer", lambda: optimizer_constructor(name), {"optimizer": "optimizer.name"})
    fields, given = {**_fields(TrainConfig), **_fields(RunConfig)}, {}
    for section in ("train", "optimizer", "sampling", "output"):
        own = {key.split(".")[1]: fields[f] for key, f in KEYS.items() if key.startswith(f"{section}.")}
        extra = _fields(constructor, skip=("learning_rate",)) if section == "optimizer" else {}
        given |= {f"{section}.{k}": v for k, v in _table(section, data.get(section, {}), {**extra, **own}).items()}
    options = {k.split(".")[1]: v for k, v in given.items() if k not in KEYS}
    train = {KEYS[k]: v for k, v in given.items() if KEYS.get(k) in TRAIN_FIELDS}
    run = {KEYS[k]: v for k, v in given.items() if k in KEYS and KEYS[k] not in TRAIN_FIELDS}
    paths = {f: k for k, f in KEYS.items()} | {k: f"optimizer.{k}" for k in options} | {"sampling mode": "sampling.mode"}
    seed = (run.get("seeds") or (1234,))[0]
    return _built("train", lambda: TrainConfig(seed=seed, optimizer_options=options, **phases, **train), paths), run


def from_dict(data: Mapping[str, Any]) -> RunConfig:
    """Validate plain data (parsed TOML) into a ``RunConfig``; raise ``ConfigError`` if anything is
    off. Nothing is built and no JAX backend starts (term names come from the declarations)."""
    for section in data:
        if section not in SECTIONS:
            raise ConfigError(f"unknown key section {section!r}{_suggest(section, SECTIONS)}; valid keys are {sorted(SECTIONS)}")
        _typed(f"[{section}]", data[section], "Mapping")
    objects = {s: _object(s, cls, data[s]) for s, cls in OBJECTS.items() if s in data}
    unknowns = {n: _table(f"unknowns.{n}", t, _fields(UnknownTable)) for n, t in data.get("unknowns", {}).items()}
    causal, (train, run) = objects.pop("causal", None), _train(data, objects)
    problem, network = _object("problem", ProblemConfig, data.get("problem", {})), _network(data.get("network", {}))
    if "ensemble" in data:  # [ensemble]: the members' seeds stand for train.seeds' one (trained as several seeds are)
        table = _table("ensemble", data["ensemble"], {"members": ("int", None)})  # its keys and types
        run["ensemble"] = _built("ensemble", lambda: Ensemble.of_run(run.get("seeds", RunConfig.seeds), **table), ["members"])
        run["seeds"] = run["ensemble"].seeds
    scheme = _choose("weighting.scheme", (weighting := data.get("weighting", {})).get("scheme", "lr-annealing"), SCHEMES)
    options = _table("weighting", weighting, {"scheme": ("str", None), **_fields(SCHEMES[scheme])})
    weighting = WeightingConfig(options.pop("scheme", scheme), options)  # [weighting]: the scheme and its fields
    return RunConfig(problem, network, weighting, train, **run, causal=causal, unknowns=unknowns)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.steps=2001"`` -> (["train", "steps"], 2001); the value is read as TOML."""
    key, equals, raw = text.partition("=")
    if not equals:
        raise ConfigError(f"--set expects key.path=value, e.g. train.steps=2001; got {text!r}")
    try:
        return key.strip().split("."), tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip().split("."), raw.strip()  # a bare word is a string: --set weighting.scheme=constant


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """A copy of ``data`` with each ``key.path=value`` set (``data`` itself, nested tables included, is left as it was)."""
    data = copy.deepcopy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            if not isinstance(node := node.setdefault(part, {}), dict):
                raise ConfigError(f"--set {text!r}: {part!r} is not a table")
        node[path[-1]] = value
    return data


def load(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Read, override and validate a TOML configuration file (no JAX backend starts)."""
    data = read_toml(path, "configuration file", ConfigError)
    try:
        return from_dict(apply_overrides(data, list(overrides)))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def dumps(config: RunConfig) -> str:
    """The resolved configuration as TOML text (``io.toml_text``: tables of scalars, lists and inline tables)."""
    return toml_text(config.to_dict())
