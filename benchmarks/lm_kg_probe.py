"""Levenberg-Marquardt from scratch on Klein-Gordon: relative L2 error against wall time.

    python benchmarks/lm_kg_probe.py 100                    # 100 iterations, 2-30-30-30-1, float64
    python benchmarks/lm_kg_probe.py 50 --hidden 20,20 --points 400,100,100 --solver kernel
    python benchmarks/lm_kg_probe.py 1000 --seconds 60       # stop after a minute of wall time

Draws one fixed set of points per term, prints the cost estimate, then drives the pure
``lm_init`` / ``lm_step`` pair in jitted chunks of ``--every`` iterations and prints, after
each chunk: iterations, wall seconds (compilation included), weighted loss, damping, the
trials rejected so far, and the relative L2 error on a 100 x 100 grid. Unit weights.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)

from pinnbalance.lm import REASONS, LevenbergMarquardt, check_cost, estimate, lm_init, lm_step, row_counts  # noqa: E402
from pinnbalance.lm.solve import choose_solver  # noqa: E402
from pinnbalance.metrics import evaluation_grid, predict, relative_l2  # noqa: E402
from pinnbalance.nn import count_params, mlp_for  # noqa: E402
from pinnbalance.problems import klein_gordon, sample_batch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("iterations", type=int, help="LM iterations (at most)")
    parser.add_argument("--hidden", default="30,30,30", help="hidden widths, comma-separated (default 30,30,30)")
    parser.add_argument("--points", default="1000,200,200", help="points for res,ics,bcs (default 1000,200,200)")
    parser.add_argument("--solver", default="auto", choices=["dense", "kernel", "auto"])
    parser.add_argument("--every", type=int, default=10, help="iterations per compiled chunk and printed line")
    parser.add_argument("--seconds", type=float, default=None, help="stop after the chunk that passes this wall time")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    problem = klein_gordon().with_batch_sizes(dict(zip(("res", "ics", "bcs"), (int(n) for n in args.points.split(",")))))
    network = mlp_for(problem.domain, hidden=tuple(int(w) for w in args.hidden.split(",")))
    params = network.init(jax.random.PRNGKey(args.seed), jnp.float64)
    points = sample_batch(problem, jax.random.PRNGKey(args.seed + 1), jnp.float64)
    weights = {n: jnp.float64(1.0) for n in problem.term_names}
    grid, exact = evaluation_grid(problem, 100, jnp.float64)
    settings = LevenbergMarquardt(max_iters=args.iterations, solver=args.solver, log_every=args.every)

    counts = row_counts(problem, network, params, points)
    rows, n_params = sum(n * c for n, c in counts.values()), count_params(params)
    cost = estimate(rows, n_params, "float64", choose_solver(args.solver, rows, n_params))
    check_cost(cost, settings, network=network, counts=counts)
    print(f"Klein-Gordon, MLP {network.layers}: N={rows} rows, P={n_params} parameters, {cost.solver} solver")
    print(f"estimate: {cost.describe()}")

    def chunk(state, length):
        step = lambda s, _: (
            jax.lax.cond(s.reason == 0, lambda s: lm_step(problem, network, s, points, weights, settings), lambda s: s, s),
            None,
        )  # noqa: E731
        state = jax.lax.scan(step, state, None, length=length)[0]
        return state, relative_l2(predict(network, state.params, grid, problem), exact)

    run = jax.jit(chunk, static_argnums=1)
    begin = time.perf_counter()
    state = jax.jit(lambda p: lm_init(problem, network, p, points, weights, settings))(params)
    print(f"{'iter':>6} {'seconds':>8} {'loss':>11} {'damping':>10} {'rejected':>8} {'rel. L2':>10}")
    done = 0
    while done < args.iterations and int(state.reason) == 0:
        length = min(args.every, args.iterations - done)
        state, l2 = run(state, length)
        done += length
        seconds = time.perf_counter() - begin
        print(
            f"{int(state.iteration):6d} {seconds:8.1f} {float(state.loss):11.4e} {float(state.damping):10.3e} {int(state.rejected):8d} {float(l2):10.4e}",
            flush=True,
        )
        if args.seconds is not None and seconds > args.seconds:
            break
    print(f"stopped: {REASONS[int(state.reason)] if int(state.reason) else 'iterations or time budget'}")


if __name__ == "__main__":
    main()
