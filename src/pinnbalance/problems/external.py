"""Problems from the user's own code, named where a registered problem's name goes.

A problem written in a file (docs/own-pde.md) trains from Python with ``fit``; to train it
from the command line (``pinnbalance run``, ``sweep``, ``compare``, ``diagnose``,
``reproduce``, with their checkpoints, resume and run folders) it needs a name there. Any
name of the form ``SOURCE:FACTORY`` is one, nothing to register:

- ``"my_pde.py:poisson_2d"``: the function ``poisson_2d`` of the file ``my_pde.py`` (a path,
  relative to the current directory, as ``--out`` is), loaded under a private module name;
  the file's folder is appended to ``sys.path``, so it may import its neighbours;
- ``"my_package.pdes:poisson_2d"``: the same from an importable module (the current
  directory is searched too, after the installed packages).

``FACTORY`` is a function returning a ``Problem``, every argument with a default; a TOML's
``[problem] parameters`` are its arguments. It may also be a ``Problem`` itself (a module-level
``problem = Problem(...)``), which then takes no parameters. The first use loads the source once per process
and enters the factory into ``PROBLEMS`` under the whole name, so that everything downstream
treats it as a registered problem; a run folder's ``config.toml`` keeps the name as written.

Example:
    >>> from pinnbalance.problems import PROBLEMS
    >>> find_factory("klein-gordon") is PROBLEMS["klein-gordon"]
    True
    >>> find_factory("kg")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pinnbalance.problems.external.ProblemNameError: problem 'kg' is unknown; valid problems: ...; or a function of your own, e.g. 'my_pde.py:poisson_2d' (docs/own-pde.md)
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import inspect
import os
import reprlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from pinnbalance.problems.base import Problem
from pinnbalance.problems.declared import DECLARED, Declared

SEPARATOR = ":"
EXAMPLE = "'my_pde.py:poisson_2d'"


class ProblemNameError(KeyError, ValueError):
    """A problem name that names no registered problem and no loadable function, or a factory
    that returns no ``Problem``; the message says which part failed (the file, the module, the
    function) and how to fix it. A KeyError, as an unknown registry key always was."""

    def __str__(self) -> str:  # the message itself, not KeyError's quoted repr
        return str(self.args[0]) if self.args else ""


def is_external(name: str) -> bool:
    """Whether ``name`` has the ``SOURCE:FACTORY`` form (a source, then a Python name)."""
    source, sep, attr = name.rpartition(SEPARATOR)
    return bool(sep and source and attr.isidentifier())


def short_name(name: str) -> str:
    """``name`` fit for a folder name: an external name's factory part (``poisson_2d``), else itself."""
    return name.rpartition(SEPARATOR)[2] if is_external(name) else name


def find_factory(name, registry: dict | None = None) -> Callable:
    """The factory called ``name`` in ``registry`` (default ``PROBLEMS``), loading a
    ``SOURCE:FACTORY`` name's source first and registering its factory under ``name``.

    Raises ``ProblemNameError`` naming what failed: an unknown plain name (with the valid ones),
    a missing file or module, an exception while loading it (file and line), a missing or
    uncallable function (with the module's functions). Each message starts ``problem 'NAME'``
    (the configuration layer reports it under its key, ``problem.name 'NAME'``)."""
    if registry is None:
        from pinnbalance.problems import PROBLEMS as registry
    if not isinstance(name, str):
        raise ProblemNameError(f"problem must be named by a string, got {name!r}")
    if name in registry:
        return registry[name]
    if not is_external(name):
        close = difflib.get_close_matches(name, list(registry), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ProblemNameError(
            f"problem {name!r} is unknown{hint}; valid problems: {', '.join(registry)}; "
            f"or a function of your own, e.g. {EXAMPLE} (docs/own-pde.md)"
        )
    source, _, attr = name.rpartition(SEPARATOR)
    label = f"problem {name!r}"
    module = _load(source, label)
    factory = getattr(module, attr, None)
    if factory is None:
        own = [n for n, f in vars(module).items() if _defined_in(module, f)]
        close = difflib.get_close_matches(attr, own, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = f"its functions and problems: {', '.join(own)}" if own else "it defines no functions and no problems"
        raise ProblemNameError(f"{label}: {source} has no {attr!r}{hint}; {listed}")
    if isinstance(factory, Problem):  # a module-level problem = Problem(...): its factory returns it
        factory = functools.partial(_the, factory)
    if not callable(factory):
        raise ProblemNameError(
            f"{label}: {source}'s {attr!r} is not callable ({type(factory).__name__}): name a function returning a Problem"
        )
    registry[name] = factory
    return factory


def make_problem(name: str, parameters=None):
    """The problem the factory ``name`` builds with ``parameters`` (``find_factory``), checked to
    be a ``Problem``: a factory of the user's that returns something else gets a ProblemNameError
    here, not an AttributeError deep inside training."""
    problem = find_factory(name)(**dict(parameters or {}))
    if not isinstance(problem, Problem):
        raise ProblemNameError(
            f"problem {name!r}: the factory returned {reprlib.repr(problem)} ({type(problem).__name__}), not a pinnbalance Problem; "
            "it must end with return Problem(...) (docs/own-pde.md)"
        )
    return problem


def declaration(name: str, parameters=None):
    """What a configuration checks its names against (a ``Declared``): the registered problem's
    declaration, else the problem built (``make_problem``) to read its names, which starts a JAX
    backend (``problems.declared`` says why declared ones are not built). Built once per factory
    and parameters: a sweep validates each job's configuration several times. (A switch that
    leaves terms out, e.g. wave's ``hard``, is not declared: names of the terms it removes are
    refused when the problem is built, ``RunConfig.build_problem``.)"""
    if name in DECLARED:
        return DECLARED[name]
    key = (find_factory(name), repr(sorted(dict(parameters or {}).items())))
    if key not in _BUILT:
        _BUILT[key] = Declared.of(make_problem(name, parameters))
    return _BUILT[key]


_BUILT: dict[tuple, Declared] = {}  # declaration's: (factory, its parameters) -> the built problem's names


def _defined_in(module: ModuleType, value) -> bool:
    """Whether ``value`` is a function defined in ``module`` or a ``Problem`` (what a name may pick)."""
    return isinstance(value, Problem) or (inspect.isfunction(value) and value.__module__ == module.__name__)


def _the(problem: Problem) -> Problem:
    """The factory of a problem given as an object (partially applied to it): the object itself."""
    return problem


def _load(source: str, label: str) -> ModuleType:
    """The module ``source`` names: a ``.py`` file (or any path with a separator) or a dotted module."""
    if source.endswith(".py") or "/" in source or os.sep in source:
        return _load_file(Path(source).expanduser(), label)
    if not all(part.isidentifier() for part in source.split(".")):
        raise ProblemNameError(f"{label}: {source!r} is neither a .py file nor a dotted module name such as my_package.pdes")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # the current directory's modules (after the installed ones: they keep their names)
    try:
        return importlib.import_module(source)
    except (Exception, SystemExit) as err:
        missing = getattr(err, "name", None) if isinstance(err, ModuleNotFoundError) else None
        if missing and (missing == source or source.startswith(f"{missing}.")):  # the module itself, not an import in it
            raise ProblemNameError(
                f"{label}: no module {missing!r} in the current directory ({os.getcwd()}) or on sys.path; "
                "give a file instead (my_pde.py:factory) or install the package"
            ) from None
        raise ProblemNameError(f"{label}: importing {source} failed: {_where(err, None)}") from None


def _load_file(path: Path, label: str) -> ModuleType:
    """The module of the file ``path``, loaded once per process under a name of its own (never
    its stem: a ``json.py`` or ``test.py`` must not stand in for the module of that name)."""
    full = path.resolve()
    if not full.is_file():
        where = (
            ""
            if path.is_absolute()
            else (
                f" (relative paths are from the current directory, {os.getcwd()}; a run folder's config.toml keeps the"
                " path as given: resume from the directory the run started in)"
            )
        )
        raise ProblemNameError(f"{label}: no file {path}{where}")
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == full:
            return module  # loaded already (by this, or imported by the user's own code)
    module_name = f"_pinnbalance_problem_{''.join(c if c.isalnum() else '_' for c in full.stem)}_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(module_name, full)
    module = importlib.util.module_from_spec(spec)
    if str(full.parent) not in sys.path:
        sys.path.append(str(full.parent))  # its neighbours import (after the installed modules: they keep their names)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as err:
        del sys.modules[module_name]
        if isinstance(err, SystemExit):  # e.g. a script's argparse at module level, reading pinnbalance's arguments
            raise ProblemNameError(
                f"{label}: loading {path} ran its code and it exited ({_where(err, full)}); "
                'put what should run only as a script under if __name__ == "__main__":'
            ) from None
        if not isinstance(err, Exception):
            raise
        raise ProblemNameError(f"{label}: loading {path} failed: {_where(err, full)}") from None
    return module


def _where(err: Exception, file: Path | None) -> str:
    """``err`` as ``TypeName: message``, after the line that raised it (in ``file``, if given)."""
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, SyntaxError):
        return text  # its message names the file and the line
    frames = [f for f in traceback.extract_tb(err.__traceback__) if not f.filename.startswith("<")]  # not importlib's own
    if file is not None:
        frames = [f for f in frames if Path(f.filename).resolve() == file] or frames
    if frames:
        return f"{Path(frames[-1].filename).name}, line {frames[-1].lineno}: {text}"
    return text
