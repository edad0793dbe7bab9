"""The ``[causal]`` section of a run configuration: causal weighting of one time-dependent term.

::

    [causal]
    slices = 32                        # M time slices of the residual's points
    eps = [0.01, 0.1, 1.0, 10.0, 100.0]  # the schedule (a single number: a constant eps)
    delta = 0.99                       # move to the next eps when min_i w_i > delta
    # steps_per_eps = 10000            # ... or after this many steps at one eps (the paper's N_iter)
    # time = "t"                       # the time coordinate of the problem's domain
    # term = "res"                     # the term made causal (default: the reference term)

Maps onto ``weighting.causal.Causal`` and ``causal_problem`` (``build_problem`` applies it);
the trainer follows the schedule (``training.causal_schedule``). Checked against the
problem's declaration (term and coordinate names) without building anything, so loading a
configuration still starts no JAX backend.

Example:
    >>> c = CausalConfig(slices=8, eps=(0.1, 1.0))
    >>> c.build().eps_values, c.to_dict()["eps"]
    ((0.1, 1.0), [0.1, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

from pinnbalance.weighting.causal import Causal, causal_problem


@dataclass(frozen=True)
class CausalConfig:
    """``[causal]``: ``Causal``'s fields with the eps list as one key, and the causal ``term``."""

    slices: int = 32
    eps: float | tuple[float, ...] = (1.0,)
    delta: float = 0.99
    time: str = "t"
    steps_per_eps: int | None = None
    term: str | None = None

    def __post_init__(self):
        if isinstance(self.eps, (int, float)):
            object.__setattr__(self, "eps", (float(self.eps),))
        if not self.eps:
            raise ValueError("eps must list at least one causality parameter, e.g. [0.01, 0.1, 1.0, 10.0, 100.0]")
        self.build()  # Causal's own checks (slices, increasing eps, delta, steps_per_eps)

    def build(self) -> Causal:
        """The ``Causal`` settings: ``eps[0]`` first, then ``eps[1:]`` as the schedule."""
        eps = tuple(float(e) for e in self.eps)
        return Causal(self.slices, eps[0], eps[1:], self.delta, self.time, self.steps_per_eps)

    def check(self, declared) -> None:
        """The term and the time coordinate against a problem's declaration (``problems.declared``)."""
        if self.term is not None and self.term not in declared.term_names:
            raise KeyError(f"term {self.term!r} is not a term of the problem; valid term names are {list(declared.term_names)}")
        if self.time not in declared.coordinates:
            raise KeyError(
                f"time {self.time!r} is not a coordinate of the problem's domain; its coordinates are {list(declared.coordinates)}"
            )

    def apply(self, problem):
        """``problem`` with causal weighting on ``term`` (``weighting.causal.causal_problem``)."""
        return causal_problem(problem, self.build(), self.term)

    def to_dict(self) -> dict:
        """The section as TOML data, every default written out (None left out)."""
        d = {"slices": self.slices, "eps": [float(e) for e in self.eps], "delta": self.delta, "time": self.time}
        return d | {k: v for k, v in (("steps_per_eps", self.steps_per_eps), ("term", self.term)) if v is not None}
