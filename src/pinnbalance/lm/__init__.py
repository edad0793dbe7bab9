"""Levenberg-Marquardt: second-order least-squares training of a PINN loss on fixed points.

The weighted PINN loss ``sum_i w_i L_i`` is ``||r(theta)||^2`` for a residual vector r whose
rows are scaled by ``sqrt(w_i / n_i)`` (``residuals``); Levenberg-Marquardt minimises it with
damped Gauss-Newton steps ``(J^T J + mu I) h = -J^T r`` (``solve``), accepting a step only if
the loss goes down and moving mu by Nielsen's gain-ratio rule (``damping``). ``cost``
estimates memory and time of an iteration before training; ``loop`` holds the pure
``lm_init`` / ``lm_step`` pair and the compiled driver ``train_lm``; ``settings`` the
``LevenbergMarquardt`` description. One module per idea:

    settings -> residuals -> solve, damping -> loop;  cost (checked by loop before training)
    causal (causal weighting's slice weights on the causal term's rows, an iteration at a time)

References: K. Levenberg (1944), D. W. Marquardt (1963); H. B. Nielsen (1999), "Damping
parameter in Marquardt's method", IMM-REP-1999-05; K. Madsen, H. B. Nielsen, O. Tingleff
(2004), "Methods for non-linear least squares problems", section 3.2.
"""

from pinnbalance.lm.cost import Cost, LMCostWarning, LMMemoryError, check_cost, estimate, measured_flop_rate, memory_budget
from pinnbalance.lm.damping import update_damping
from pinnbalance.lm.loop import REASONS, LMState, init_state, lm_init, lm_step, record, train_lm, update
from pinnbalance.lm.residuals import jacobian, residual_vector, row_counts, row_scales
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.lm.solve import DenseSolver, KernelSolver, choose_solver, predicted_decrease

__all__ = [
    "REASONS",
    "Cost",
    "DenseSolver",
    "KernelSolver",
    "LMCostWarning",
    "LMMemoryError",
    "LMState",
    "LevenbergMarquardt",
    "check_cost",
    "choose_solver",
    "estimate",
    "init_state",
    "jacobian",
    "lm_init",
    "lm_step",
    "measured_flop_rate",
    "memory_budget",
    "predicted_decrease",
    "record",
    "residual_vector",
    "row_counts",
    "row_scales",
    "train_lm",
    "update",
    "update_damping",
]
