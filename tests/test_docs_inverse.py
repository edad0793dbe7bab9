"""docs/inverse.md: its two examples run as printed and recover the unknowns to the stated
tolerances (checked again here against the closed forms), and its TOML table validates."""

import contextlib
import io
import re
import tomllib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import config as cfg

GUIDE = Path(__file__).parents[1] / "docs" / "inverse.md"


def block(heading: str, language: str = "python") -> str:
    """The first ``language`` block under ``## heading``, padded so tracebacks give the guide's lines."""
    text = GUIDE.read_text()
    start = text.index(f"## {heading}\n")
    match = re.compile(rf"^```{language}\n(.*?)^```$", re.M | re.S).search(text, start)
    assert match, f"no {language} block under '## {heading}'"
    return "\n" * text[: match.start(1)].count("\n") + match.group(1)


def run(code: str, namespace: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(GUIDE), "exec"), namespace)
    return out.getvalue()


@pytest.fixture(scope="module")
def scalar():
    namespace: dict = {"__name__": "__main__"}
    return namespace, run(block("A scalar: the diffusivity of -k u'' = f"), namespace)


def test_the_scalar_example_recovers_k(scalar):
    namespace, printed = scalar
    k = float(jnp.exp(namespace["result"].params["unknowns"]["k"]))
    assert abs(k - 0.5) / 0.5 < 1e-3, printed
    assert f"k = {k:.5f}" in printed
    assert namespace["result"].history["unknown/k"][-1] == pytest.approx(k, rel=1e-12)  # the history's last record


def test_the_field_example_recovers_a(scalar):
    namespace = dict(scalar[0])  # the scalar block's imports and box
    printed = run(block("A field: the conductivity a(x) of -(a u')' = f"), namespace)
    error = namespace["result"].history["unknown_l2/a"][-1]
    assert error < 3e-2, printed
    # independently: a = exp(network(x)) against 1 + x^2 at fresh points
    spec, params = namespace["problem"].unknowns["a"], namespace["result"].params["unknowns"]["a"]
    x = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (500, 1)))
    a = jnp.exp(jax.vmap(lambda p: spec.network.apply(params, p))(x))
    assert float(jnp.linalg.norm(a - (1 + x[:, 0] ** 2)) / jnp.linalg.norm(1 + x[:, 0] ** 2)) < 3e-2


def test_the_toml_table_sets_the_packaged_unknown():
    data = tomllib.loads(block("From the command line", "toml"))
    config = cfg.from_dict(data)
    assert config.unknowns == {"k": {"init": 2.0, "positive": True, "learning_rate": 1e-2}}
    assert config.build_problem().unknowns["k"].init == 2.0
