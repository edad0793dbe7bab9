"""What a registered problem declares without being built: term names, coordinates, outputs.

Building a problem draws JAX arrays (its samplers' bounds; the cavity also solves its
reference flow), and the first JAX array starts a backend, after which the number of
(simulated) devices is fixed. A run configuration is checked before that, against these
declarations (``pinnbalance.config``), so that ``train.devices`` still takes effect.
``tests/problems/test_declared.py`` checks each declaration against the built problem.

Example:
    >>> DECLARED["klein-gordon"].term_names
    ('res', 'ics', 'bcs')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Declared:
    """A problem's names as a configuration sees them (the same attributes as ``Problem``'s)."""

    term_names: tuple[str, ...]
    coordinates: tuple[str, ...]  # the domain's coordinate names, in order
    outputs: int = 1  # network outputs the residuals expect
    reference: str = "res"  # the term adaptive schemes balance the others against
    unknowns: tuple[str, ...] = ()  # its scalar unknowns (problems.unknowns), which [unknowns.NAME] may set

    @classmethod
    def of(cls, problem) -> Declared:
        """The declaration of a built ``problem`` (a ``Problem``)."""
        scalars = tuple(n for n, s in problem.unknowns.items() if type(s).__name__ == "Scalar")
        return cls(tuple(problem.term_names), tuple(problem.domain.names), problem.outputs, problem.reference, scalars)


DECLARED = {
    "klein-gordon": Declared(("res", "ics", "bcs"), ("t", "x")),
    "helmholtz": Declared(("res", "bcs"), ("x", "y")),
    "wave": Declared(("res", "u", "ut"), ("t", "x")),
    "cavity": Declared(("res", "bcs"), ("x", "y"), outputs=2),
    "poisson-inverse": Declared(("res", "bcs", "data"), ("x", "y"), unknowns=("k",)),
}
