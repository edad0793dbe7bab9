"""Adam, then L-BFGS: refine a trained state with a quasi-Newton phase on fixed points.

After the first-order phase, L-BFGS (``optax.lbfgs`` with a zoom line search) minimises
the weighted loss on ONE fixed point set: the state's own set under fixed sampling, else a
set of ``points`` points per term (default: each term's batch size) drawn once from the
state's key. Weight policy during this
phase (``weights``):

- ``"frozen"`` (default): the weights the first phase ended with (per-point weights too),
  since a loss whose weights move under it breaks L-BFGS's curvature pairs;
- ``"unit"``: every weight 1 (the plain sum of the term losses);
- a mapping ``{term: weight}`` (e.g. ``{bcs = 1e4}`` in TOML): these fixed weights, 1 for terms
  it does not name. The annealed weights balance GRADIENTS, which suits first-order steps;
  the converged solution may ask for another balance (e.g. a larger boundary weight when
  the boundary error dominates the solution's error).

On few fixed points L-BFGS can overfit them: check the loss on fresh points (on Helmholtz,
1,024 points per term left the residual on fresh points ~80x the training one; 4,096 did not).

It stops at the first of: ``max_iters`` iterations; the gradient's global norm below
``grad_tol``; a relative loss decrease below ``loss_tol`` over one iteration (no progress,
e.g. a failed line search); a non-finite loss. The reason is returned and recorded. Every
``log_every`` iterations the unweighted term losses, the weights and the relative L2 error
are recorded in the history, numbered after the first phase's steps.

``dtype = "float64"`` runs this phase in double precision (parameters, points and weights cast
up, the parameters cast back to the run's dtype afterwards): late in training a float32 loss
often cannot resolve the decrease a line search asks for, and L-BFGS stops with "no
progress" after a few iterations. It needs 64-bit JAX (``jax_enable_x64``): the command line
turns it on; a script calls ``pinnbalance.runtime.enable_x64()`` first (``fit`` checks, before
training, and says so). A non-finite loss stops the phase with the last finite parameters, and
the run's status is "diverged".

The iterations run on device in scanned chunks of ``log_every``; once a stop condition
holds the remaining iterations of the chunk are skipped (``lax.cond``), so the result does
not depend on the chunk length. After each chunk ``refine`` calls its ``on_chunk`` hook, where
``training.lbfgs_phase`` runs the training's callbacks (progress, stop requests, checkpoints),
and ``resume`` goes on from a carry such a checkpoint holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pinnbalance.compiler_options import compiler_options
from pinnbalance.losses import term_loss
from pinnbalance.metrics import predict, relative_l2
from pinnbalance.problems.base import Problem, sample_batch
from pinnbalance.training import weight_policy
from pinnbalance.training.precision import cast_floats, phase_dtype
from pinnbalance.training.step import global_norm
from pinnbalance.unknown_records import unknown_record
from pinnbalance.weighting.interface import traits

POLICIES = weight_policy.POLICIES  # re-exported: the policy names
# the last, "held-out loss", is the LM phase's only (lm.holdout)
REASONS = ("running", "max_iters", "grad_tol", "no progress", "non-finite loss", "held-out loss")


@dataclass(frozen=True)
class LBFGS(weight_policy.PolicyWeights):
    """Settings of the L-BFGS phase (see the module docstring)."""

    max_iters: int = 5000
    grad_tol: float = 1e-8
    loss_tol: float = 0.0
    memory_size: int = 50
    max_linesearch_steps: int = 30
    weights: str | Mapping[str, float] = "frozen"
    log_every: int = 100
    points: int | None = None
    dtype: str | None = None  # None: the run's dtype; "float64": this phase in double precision

    def __post_init__(self):
        for name in ("max_iters", "memory_size", "max_linesearch_steps", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LBFGS.{name} must be a positive integer, got {value!r}")
        for name in ("grad_tol", "loss_tol"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"LBFGS.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.points is not None and (not isinstance(self.points, int) or isinstance(self.points, bool) or self.points < 1):
            raise ValueError(f"LBFGS.points must be a positive integer (points per term) or None, got {self.points!r}")
        if self.dtype not in (None, "float32", "float64"):
            raise ValueError(f"LBFGS.dtype must be 'float32', 'float64' or None (the run's dtype), got {self.dtype!r}")
        weight_policy.check_policy("LBFGS", self.weights, "the weight policy during L-BFGS")

    __hash__ = weight_policy.settings_hash  # weights may be a dict

    def optimizer(self) -> optax.GradientTransformationExtraArgs:
        search = optax.scale_by_zoom_linesearch(max_linesearch_steps=self.max_linesearch_steps)
        return optax.lbfgs(memory_size=self.memory_size, linesearch=search)


def phase_loss(problem: Problem, network, scheme, wstate, points, policy):
    """``params -> weighted loss`` on ``points`` under the weight policy."""
    per_point = traits(scheme).per_point
    lam = wstate.memory["lambda"] if per_point and policy == "frozen" else {}

    def weight(n):
        if isinstance(policy, dict):
            return policy.get(n, 1.0)
        if policy == "unit" or per_point:
            return 1.0  # per-point schemes carry their weights in lam (terms without any: 1)
        return wstate.weights[n]

    def loss(params):
        return sum(
            weight(n) * term_loss(problem, network, params, points[n], n, scheme.point_mask(lam[n]) if n in lam else None)
            for n in problem.term_names
        )

    return loss


def refine(
    problem: Problem,
    network,
    scheme,
    state,
    settings: LBFGS,
    grid,
    exact,
    dtype,
    vmapped: bool = False,
    one_seed_at_a_time: bool | None = None,
    *,
    on_chunk=None,
    resume=None,
):
    """Run the L-BFGS phase from ``state``; return ``(state, records, reasons, iterations)``.

    ``records`` is a list of per-chunk dicts in the shape of the first phase's records;
    with ``vmapped`` every seed of the stacked state runs its own L-BFGS, either vmapped or
    ``one_seed_at_a_time`` (the same compiled program, seed after seed, chunk by chunk; the
    results are stacked as the vmapped ones). Under ``vmap`` the seeds' line searches run in
    lockstep, each iteration as long as the longest, and a CPU gains nothing from the
    batching, so the default (None) takes the seeds one at a time on CPU and vmapped elsewhere.

    ``on_chunk(carry, record, position) -> bool`` is called after every chunk of ``log_every``
    iterations with every run's carry ``(params, optax state, iterations, reason, last loss)``
    (stacked as vmapped runs' are), the chunk's record and the iterations done; returning True
    ends the phase there, with the parameters reached (reason "running"). ``resume = (carry,
    position)``, a carry that ``on_chunk`` was given, goes on from it as if never stopped.
    """
    if one_seed_at_a_time is None:
        one_seed_at_a_time = jax.default_backend() == "cpu"
    settings.check_terms(problem.term_names)
    run_dtype = dtype
    state, grid, exact, dtype = _phase_inputs(state, settings, grid, exact, dtype)
    opt = settings.optimizer()
    batched = vmapped and not one_seed_at_a_time
    run_chunk = _compiled(_phase_chunk(problem, network, scheme, settings, opt, dtype), batched, grid, exact)
    seeds = jax.tree_util.tree_leaves(state.params)[0].shape[0] if vmapped and one_seed_at_a_time else None
    states = _split(state, seeds)
    if resume is None:
        carry, position = (jax.vmap(start_carry(opt, dtype)) if batched else start_carry(opt, dtype)), 0
        carries = [carry(s) for s in states]
    else:
        carries, position = _split(resume[0], seeds), resume[1]
    carries, records = _iterate_chunks(run_chunk, states, carries, settings, position=position, on_chunk=on_chunk, seeds=seeds)
    params, _, iters, reasons, _ = _joined(carries, seeds, jnp)
    back = lambda tree: cast_floats(tree, run_dtype)  # noqa: E731
    weights = state.weights._replace(weights=settings.fixed_weights(state.weights.weights))  # what this phase used
    end = state._replace(params=back(params), points=back(state.points), weights=back(weights), step=state.step + iters)
    reasons = [REASONS[int(r)] for r in np.atleast_1d(np.asarray(reasons))]
    return end, records, reasons, [int(i) for i in np.atleast_1d(np.asarray(iters))]


def start_carry(opt, dtype):
    """``state -> carry``: the carry ``(params, optax state, iterations, reason, last loss)`` of one
    run entering the phase (``state`` already in the phase's dtype)."""

    def start(s):
        return (s.params, opt.init(s.params), jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32), jnp.asarray(jnp.inf, dtype))

    return start


def _phase_inputs(state, settings: LBFGS, grid, exact, dtype):
    """``(state, grid, exact, dtype)`` in the phase's dtype (``settings.dtype``, else the run's)."""
    if settings.dtype is None:
        return state, grid, exact, dtype
    dtype = phase_dtype(settings, dtype)
    state = state._replace(
        params=cast_floats(state.params, dtype),
        points=cast_floats(state.points, dtype),
        weights=cast_floats(state.weights, dtype),
    )
    return state, grid.astype(dtype), exact.astype(dtype), dtype


def _compiled(chunk, batched: bool, grid, exact):
    """``run_chunk(state, carry, length)``: ``chunk`` compiled once per ``length`` (vmapped over the
    runs when ``batched``), the grid and the exact values passed as arguments, not folded into
    the program as constants."""
    axes = (0, 0, None, None, None)
    compiled = jax.jit(
        lambda s, c, length, grid, exact: (jax.vmap(chunk, axes) if batched else chunk)(s, c, length, grid, exact),
        static_argnums=2,
        compiler_options=compiler_options(),
    )
    return lambda s, c, length: compiled(s, c, length, grid, exact)


def _iterate_chunks(run_chunk, states, carries, settings: LBFGS, *, position: int, on_chunk, seeds):
    """Chunks of ``settings.log_every`` iterations from ``position`` until every run stopped, or
    ``max_iters``, or ``on_chunk`` asked to stop; returns the carries and the records.

    ``states``/``carries`` hold the one program's run (single or vmapped), or (``seeds``) one
    entry per seed taken one at a time: each chunk runs every seed still going, and a seed that
    stopped repeats its last record (as a stopped vmapped seed records its frozen state)."""
    records, last = [], [None] * len(carries)
    while position < settings.max_iters and not all(stopped(c) for c in carries):
        length = min(settings.log_every, settings.max_iters - position)
        for i, (s, c) in enumerate(zip(states, carries)):
            if last[i] is None or not stopped(c):
                carries[i], rec = run_chunk(s, c, length)
                last[i] = jax.device_get(rec)
        position += length
        records.append(_joined(last, seeds, np))
        if on_chunk is not None and on_chunk(_joined(carries, seeds, jnp), records[-1], position):
            break
    return carries, records


def stopped(carry) -> bool:
    """Whether every run of ``carry`` (a carry ``refine`` hands ``on_chunk``) has a stop reason."""
    return bool(np.all(np.asarray(carry[3]) != 0))


def _joined(parts: list, seeds: int | None, xp):
    """The one program's tree (``seeds`` None), or the seeds' trees stacked as a vmapped run's."""
    return parts[0] if seeds is None else jax.tree_util.tree_map(lambda *xs: xp.stack(xs), *parts)


def _split(tree, seeds: int | None) -> list:
    """``tree`` (a state or a carry) as ``_iterate_chunks`` takes it: whole, or one per seed."""
    return [tree] if seeds is None else [jax.tree_util.tree_map(lambda x, i=i: x[i], tree) for i in range(seeds)]


def _phase_chunk(problem: Problem, network, scheme, settings: LBFGS, opt, dtype):
    """``chunk(state, carry, length, grid, exact) -> (carry, record)``: ``length`` L-BFGS
    iterations of one run (skipped once it stopped), then its record in the first phase's
    shape, its error measured on ``grid`` against ``exact``."""
    names = problem.term_names
    draw_from = problem if settings.points is None else problem.with_batch_sizes(settings.points)

    def setup(s):
        points = s.points if s.points else sample_batch(draw_from, jax.random.fold_in(s.key, 11), dtype)
        wstate = s.weights._replace(weights=settings.fixed_weights(s.weights.weights))
        loss = phase_loss(problem, network, scheme, wstate, points, settings.weights)
        return points, wstate, loss

    def chunk(s, carry, length, grid, exact):
        points, wstate, loss = setup(s)
        iterate = _iteration(loss, opt, settings)

        def body(c, _):
            c = jax.lax.cond(c[3] == 0, iterate, lambda c: c, c)
            return c, None

        carry = jax.lax.scan(body, carry, None, length=length)[0]
        params = carry[0]
        rec = {
            "step": s.step + carry[2],
            "losses": {n: term_loss(problem, network, params, points[n], n) for n in names},
            "grad_norms": {
                n: global_norm(jax.grad(lambda p, n=n: term_loss(problem, network, p, points[n], n))(params)) for n in names
            },
            "weights": dict(wstate.weights),
            "l2": relative_l2(predict(network, params, grid, problem), exact),
            **unknown_record(problem, network, params, grid),  # nothing without unknowns
        }
        return carry, rec

    return chunk


def _iteration(loss, opt, settings: LBFGS):
    """One L-BFGS iteration on the carry ``(params, opt_state, iterations, reason, last value)``;
    ``reason`` becomes non-zero (an index of ``REASONS``) when a stop condition holds."""
    value_and_grad = optax.value_and_grad_from_state(loss)

    def iterate(c):
        params, opt_state, it, reason, last = c
        value, grad = value_and_grad(params, state=opt_state)
        updates, opt_state = opt.update(grad, opt_state, params, value=value, grad=grad, value_fn=loss)
        new_value = optax.tree_utils.tree_get(opt_state, "value")
        finite = jnp.isfinite(new_value)  # a non-finite step stops the phase; its parameters are not kept
        params = jax.tree_util.tree_map(
            lambda new, old: jnp.where(finite, new, old), optax.apply_updates(params, updates), params
        )
        gnorm = global_norm(optax.tree_utils.tree_get(opt_state, "grad"))
        stalled = jnp.abs(value - new_value) <= settings.loss_tol * jnp.maximum(jnp.abs(value), 1.0)
        it = it + 1
        reason = jnp.select(
            [~jnp.isfinite(new_value), gnorm < settings.grad_tol, stalled, it >= settings.max_iters],
            [4, 2, 3, 1],
            0,
        ).astype(jnp.int32)
        return params, opt_state, it, reason, new_value

    return iterate
