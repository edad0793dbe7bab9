"""The on-disk cache of compiled programs: where it goes, and that a second process uses it."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import pytest

from pinnbalance.compile_cache import ENV, cache_dir, enable_compile_cache


@pytest.fixture
def no_jax_dir():
    """JAX's own cache-directory setting cleared for the test, restored after it."""
    before = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", None)
    yield
    jax.config.update("jax_compilation_cache_dir", before)


@pytest.mark.parametrize("value", ["off", "OFF", "0", "no", "false"])
def test_off_means_no_cache(monkeypatch, no_jax_dir, value):
    monkeypatch.setenv(ENV, value)
    assert cache_dir() is None
    assert enable_compile_cache() is None


def test_where_the_cache_goes(monkeypatch, no_jax_dir, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "pinnbalance" / "xla"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "pinnbalance" / "xla"
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "given"))  # a directory JAX already has wins
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "given"
    size = jax.config.jax_compilation_cache_max_size
    assert enable_compile_cache() == tmp_path / "given" and jax.config.jax_compilation_cache_max_size == size


def test_an_unusable_directory_warns_and_trains_without_cache(tmp_path, no_jax_dir):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.warns(UserWarning, match="not usable.*PINNBALANCE_COMPILE_CACHE"):
        assert enable_compile_cache(blocker / "xla") is None
    assert jax.config.jax_compilation_cache_dir is None


TRAIN = textwrap.dedent(
    """
    import json, sys
    import jax
    from jax import monitoring
    from pinnbalance import LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
    from pinnbalance.compile_cache import enable_compile_cache

    hits = []
    monitoring.register_event_listener(lambda name, **kw: hits.append(name) if name.endswith("cache_hits") else None)
    enable_compile_cache(sys.argv[1])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # keep even quick compiles
    problem = klein_gordon(batch_size=16)
    config = TrainConfig(steps=25, log_every=10, chunk_logs=2, eval_grid=10)
    result = fit(problem, mlp_for(problem.domain, (8, 8)), LearningRateAnnealing(), config, progress=False)
    print(json.dumps({"hits": len(hits), "l2": result.history["l2"].tolist(),
                      "weights": result.weights}))
    """
)


def test_a_second_process_loads_the_programs_the_first_compiled(tmp_path):
    """Two processes train the same short run with one cache directory: the first finds
    nothing and fills it, the second loads its chunk programs from it (JAX's cache-hit
    events) and trains to the same numbers."""

    def train():
        out = subprocess.run([sys.executable, "-c", TRAIN, str(tmp_path / "xla")], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = train()
    assert first["hits"] == 0
    assert any((tmp_path / "xla").iterdir())
    second = train()
    assert second["hits"] >= 2  # both chunk shapes: (2, 10) and the final (1, 5)
    assert second["l2"] == first["l2"] and second["weights"] == first["weights"]
