"""Declarative PDE problems with named loss terms."""

from pinnbalance.problems.base import Problem, Term, check_batch_sizes, check_names, residuals, sample_batch
from pinnbalance.problems.burgers_1d import burgers_1d
from pinnbalance.problems.cavity import lid_driven_cavity
from pinnbalance.problems.declared import DECLARED, Declared
from pinnbalance.problems.domain import Box, stacked, uniform
from pinnbalance.problems.external import ProblemNameError, declaration, find_factory, make_problem
from pinnbalance.problems.hard import HardConstraint
from pinnbalance.problems.heat_inverse import heat_inverse
from pinnbalance.problems.helmholtz import helmholtz
from pinnbalance.problems.klein_gordon import klein_gordon
from pinnbalance.problems.ns_2d_lid import ns_2d_lid
from pinnbalance.problems.observations import (
    ObservationError,
    Observations,
    data_term,
    load_observations,
    observations_from_arrays,
)
from pinnbalance.problems.poisson_2d_holes import poisson_2d_holes
from pinnbalance.problems.poisson_inverse import poisson_inverse
from pinnbalance.problems.reference import load_reference
from pinnbalance.problems.systems import Equation
from pinnbalance.problems.unknowns import FieldUnknown, Scalar
from pinnbalance.problems.wave import wave
from pinnbalance.problems.wave_1d import wave_1d

PROBLEMS = {"klein-gordon": klein_gordon, "helmholtz": helmholtz, "wave": wave, "cavity": lid_driven_cavity}
PROBLEMS |= {
    "burgers-1d": burgers_1d,
    "poisson-2d-holes": poisson_2d_holes,
    "ns-2d-lid": ns_2d_lid,
    "wave-1d": wave_1d,
}  # PINNacle
PROBLEMS["poisson-inverse"] = poisson_inverse  # an inverse problem: the diffusivity k is trained (problems.unknowns)
PROBLEMS["heat-inverse"] = heat_inverse  # PINNacle's HInv: the conductivity field a(x, y) is trained

__all__ = [
    "DECLARED",
    "PROBLEMS",
    "Box",
    "Declared",
    "Equation",
    "FieldUnknown",
    "HardConstraint",
    "ObservationError",
    "Observations",
    "Problem",
    "ProblemNameError",
    "Scalar",
    "Term",
    "burgers_1d",
    "check_batch_sizes",
    "check_names",
    "data_term",
    "declaration",
    "find_factory",
    "heat_inverse",
    "helmholtz",
    "klein_gordon",
    "lid_driven_cavity",
    "load_observations",
    "load_reference",
    "make_problem",
    "ns_2d_lid",
    "observations_from_arrays",
    "poisson_2d_holes",
    "poisson_inverse",
    "residuals",
    "sample_batch",
    "stacked",
    "uniform",
    "wave",
    "wave_1d",
]
