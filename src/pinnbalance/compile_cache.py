"""A compiled program kept on disk, so the next run on this machine need not compile it again.

Every training compiles its chunk programs (seconds each: about 3 s on a 2-core CPU, 7-9 s
on an H200 for the Klein-Gordon set-up). A second run with the same problem, network,
method, batch sizes and step plan compiles the very same programs, whatever its seed. JAX
can keep compiled programs in a directory (its persistent compilation cache, keyed by the
program, the compile options, the backend and the JAX version); the command line points it
at one per user, so reruns, other seeds and sweep jobs on one machine start training at once.

Where the cache lives, by precedence:

1. a directory JAX was already given (``JAX_COMPILATION_CACHE_DIR``, or
   ``jax.config.update("jax_compilation_cache_dir", ...)``): JAX's own set-up, left as it is;
2. ``PINNBALANCE_COMPILE_CACHE=off`` (or ``0``, ``no``, ``false``): no cache;
3. ``PINNBALANCE_COMPILE_CACHE=DIR``;
4. ``$XDG_CACHE_HOME/pinnbalance/xla``, else ``~/.cache/pinnbalance/xla``.

The library itself changes no global setting on import; ``enable_compile_cache()`` does,
and must run before the process compiles anything (JAX sets its cache up once).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import jax

ENV = "PINNBALANCE_COMPILE_CACHE"
OFF = ("off", "0", "no", "false")
MAX_BYTES = 2 * 2**30  # least recently used programs are dropped beyond this size (needs filelock)


def cache_dir() -> Path | None:
    """The directory ``enable_compile_cache()`` would use (None: caching is off)."""
    given = jax.config.jax_compilation_cache_dir
    if given:
        return Path(given)
    setting = os.environ.get(ENV, "").strip()
    if setting.lower() in OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinnbalance" / "xla"


def enable_compile_cache(path: str | os.PathLike | None = None) -> Path | None:
    """Keep compiled programs in ``path`` (default: ``cache_dir()``); return the directory used.

    A directory that cannot be created or written gives a warning and no cache: a cache
    never stops a training.

    Example:
        >>> from pinnbalance.compile_cache import enable_compile_cache
        >>> enable_compile_cache("/tmp/pinnbalance-xla")  # doctest: +SKIP
        PosixPath('/tmp/pinnbalance-xla')
    """
    if path is None and jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)  # the user's own set-up, left as it is
    folder = Path(path).expanduser() if path is not None else cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        warnings.warn(
            f"compile cache {folder} is not usable ({err}); training goes on without it. "
            f"Set {ENV} to a writable directory, or to 'off'.",
            stacklevel=2,
        )
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    if importlib.util.find_spec("filelock") is not None:
        # JAX evicts old programs under a file lock; without the package every compile would
        # warn "Please install the `filelock` package" (it is a dependency: only a --no-deps
        # install lacks it), so the cache then grows without a limit instead.
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return folder
