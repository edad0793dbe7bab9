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
    exact: bool = True  # an exact solution u(z) (least-squares initialisation fits it)
    unknowns: tuple[str, ...] = ()  # its unknowns (problems.unknowns), which [unknowns.NAME] may set
    fields: tuple[str, ...] = ()  # those of them that are fields (FieldUnknown), the others scalars

    @classmethod
    def of(cls, problem) -> Declared:
        """The declaration of a built ``problem`` (a ``Problem``)."""
        fields = tuple(n for n, s in problem.unknowns.items() if type(s).__name__ == "FieldUnknown")
        names, coords, exact = tuple(problem.term_names), tuple(problem.domain.names), problem.exact is not None
        return cls(names, coords, problem.outputs, problem.reference, exact=exact, unknowns=(*problem.unknowns,), fields=fields)


NS_TERMS = ("mom_x", "mom_y", "continuity", "lid_u", "lid_v", "wall_u", "wall_v", "gauge")

DECLARED = {
    "klein-gordon": Declared(("res", "ics", "bcs"), ("t", "x")),
    "helmholtz": Declared(("res", "bcs"), ("x", "y")),
    "wave": Declared(("res", "u", "ut"), ("t", "x")),
    "cavity": Declared(("res", "bcs"), ("x", "y"), outputs=2, exact=False),
    "burgers-1d": Declared(("res", "ic", "bc"), ("x", "t"), exact=False),  # PINNacle (docs/pinnacle.md)
    "poisson-2d-holes": Declared(("res", "outer", "holes"), ("x", "y"), exact=False),
    "ns-2d-lid": Declared(NS_TERMS, ("x", "y"), outputs=3, reference="mom_x", exact=False),
    "wave-1d": Declared(("res", "ic", "ic_t", "bc"), ("x", "t")),
    "poisson-inverse": Declared(("res", "bcs", "data"), ("x", "y"), unknowns=("k",)),
    "heat-inverse": Declared(("res", "a_bc", "data"), ("x", "y", "t"), exact=False, unknowns=("a",), fields=("a",)),
}
