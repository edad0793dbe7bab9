"""Declarative PDE problems with named loss terms."""

from pinnbalance.problems.base import Problem, Term, check_names, residuals, sample_batch
from pinnbalance.problems.domain import Box, stacked, uniform
from pinnbalance.problems.klein_gordon import klein_gordon

PROBLEMS = {"klein-gordon": klein_gordon}

__all__ = ["PROBLEMS", "Box", "Problem", "Term", "check_names", "klein_gordon", "residuals", "sample_batch", "stacked", "uniform"]
