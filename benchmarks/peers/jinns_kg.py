"""Peer benchmark: jinns (JAX) on the nonlinear Klein-Gordon problem of Wang, Teng & Perdikaris (2021).

Same problem and set-up as pinnbalance's Klein-Gordon run, written with jinns' public API:

    u_tt - u_xx + u^3 = f(t, x) on [0, 1]^2,  u* = x cos(5 pi t) + (t x)^3
    u(0, x) = x,  u_t(0, x) = 0,  u(t, 0) = 0,  u(t, 1) = cos(5 pi t) + t^3
    MLP 2 -> 50 x5 (tanh) -> 1, Glorot-normal weights, zero biases, inputs z-scored on [0, 1]^2
    Adam, lr 1e-3 * 0.9^(step / 1000), batches of 128 per term

Methods: M1 = all loss weights 1; M2 = jinns' own "lr_annealing" loss-weight update.
Timing: warm-up steps (untimed, own compilation), then the N-step training loop is compiled
ahead of time (untimed) and run R times; ms per step = wall time of one run / N.

Run it with the peers venv (see setup.sh):

    /tmp/pinnbalance-peers-venv/bin/python benchmarks/peers/jinns_kg.py --out jinns.json
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jinns
import optax
from jinns.parameters import Params

BATCH = 128
LAYERS = (2, 50, 50, 50, 50, 50, 1)
EXPECTED_PARAMS = 10_401
LR, DECAY_RATE, DECAY_STEPS = 1e-3, 0.9, 1000
IN_MEAN, IN_STD = 0.5, math.sqrt(1.0 / 12.0)  # mean and std of U(0, 1): same normalisation as pinnbalance


# ---------------------------------------------------------------- the problem
def exact(t, x):
    return x * jnp.cos(5 * jnp.pi * t) + (t * x) ** 3


def forcing(t, x):
    """f = u*_tt - u*_xx + u*^3 written out: u_tt = -25 pi^2 x cos(5 pi t) + 6 t x^3, u_xx = 6 x t^3."""
    u_tt = -25 * jnp.pi**2 * x * jnp.cos(5 * jnp.pi * t) + 6 * t * x**3
    u_xx = 6 * x * t**3
    return u_tt - u_xx + exact(t, x) ** 3


class KleinGordon(jinns.loss.PDENonStatio):
    """Residual u_tt - u_xx + u^3 - f at one point t_x = (t, x) (jinns' usual nested-grad idiom)."""

    def equation(self, t_x, u, params):
        u_ = lambda z: jnp.squeeze(u(z, params))
        du = jax.grad(u_)
        u_tt = jax.grad(lambda z: du(z)[0])(t_x)[0]
        u_xx = jax.grad(lambda z: du(z)[1])(t_x)[1]
        value = u_(t_x)
        return jnp.atleast_1d(u_tt - u_xx + value**3 - forcing(t_x[0], t_x[1]))


class KGBoundary(jinns.loss.BoundaryConditionAbstract):
    """Dirichlet data on x = 0 and x = 1, plus the initial-velocity condition u_t(0, x) = 0.

    jinns' initial condition only compares u(t0, x) with a function of x, so u_t(0, x) = 0 is
    a third equation of this boundary object, at x = the t-coordinates of the boundary batch
    (uniform on [0, 1], so uniform x). ``inputs`` has shape (2, n_facet=2): column 0 is
    (t, 0), column 1 is (t, 1).
    """

    def equation_u(self, inputs, u, params):
        u_ = lambda z: jnp.squeeze(u(z, params))
        left, right = inputs[:, 0], inputs[:, 1]
        t = inputs[0, 0]
        z0 = jnp.stack([jnp.zeros_like(t), t])  # (t=0, x=t_sample)
        u_t0 = jax.grad(u_)(z0)[0]
        return (u(left, params), u(right, params), jnp.atleast_1d(u_t0))

    def equation_f(self, inputs, params, gridify=False):
        t = inputs[0, 1]
        return (jnp.zeros((1,)), jnp.atleast_1d(jnp.cos(5 * jnp.pi * t) + t**3), jnp.zeros((1,)))


# ---------------------------------------------------------------- network
def glorot_mlp(key):
    """jinns MLP 2-50x5-1 (tanh) with untruncated Glorot-normal weights and zero biases."""
    eqx_list = []
    for i, (n_in, n_out) in enumerate(zip(LAYERS[:-1], LAYERS[1:])):
        eqx_list.append((eqx.nn.Linear, n_in, n_out))
        if i < len(LAYERS) - 2:
            eqx_list.append((jax.nn.tanh,))
    key, k_net = jax.random.split(key)
    mlp = jinns.nn.MLP(key=k_net, eqx_list=tuple(eqx_list))
    linears = lambda m: [layer for layer in m.layers if isinstance(layer, eqx.nn.Linear)]
    keys = jax.random.split(key, len(linears(mlp)))
    weights = [
        math.sqrt(2.0 / (lin.in_features + lin.out_features)) * jax.random.normal(k, lin.weight.shape)
        for k, lin in zip(keys, linears(mlp))
    ]
    biases = [jnp.zeros_like(lin.bias) for lin in linears(mlp)]
    mlp = eqx.tree_at(lambda m: [lin.weight for lin in linears(m)], mlp, weights)
    mlp = eqx.tree_at(lambda m: [lin.bias for lin in linears(m)], mlp, biases)
    return mlp


def count_params(tree) -> int:
    return sum(int(leaf.size) for leaf in jax.tree.leaves(eqx.filter(tree, eqx.is_inexact_array)))


# ---------------------------------------------------------------- one method
def build(method: str, seed: int, pool_batches: int, sampling: str):
    key = jax.random.PRNGKey(seed)
    k_net, k_data, k_solve = jax.random.split(key, 3)
    u, nn_params = jinns.nn.PINN_MLP.create(
        eq_type="PDENonStatio",
        eqx_network=glorot_mlp(k_net),
        input_transform=lambda t_x, p: (t_x - IN_MEAN) / IN_STD,
    )
    params = Params(nn_params=nn_params, eq_params={})

    if sampling == "pool":
        # jinns draws one fixed set and walks through it in mini-batches, reshuffling per epoch.
        # The set holds enough points for every step of the run, so no point is seen twice:
        # each step gets 128 unseen i.i.d. uniform points (statistically a fresh batch).
        rows = BATCH * pool_batches
        data = jinns.data.CubicMeshPDENonStatio(
            key=k_data,
            n=rows,
            nb=2 * rows,
            ni=rows,
            domain_batch_size=BATCH,
            border_batch_size=BATCH,
            initial_batch_size=BATCH,
            dim=1,
            min_pts=(0.0,),
            max_pts=(1.0,),
            tmin=0.0,
            tmax=1.0,
            method="uniform",
        )
    else:  # "fixed": one set of 128 points per term, reused every step
        data = jinns.data.CubicMeshPDENonStatio(
            key=k_data,
            n=BATCH,
            nb=2 * BATCH,
            ni=BATCH,
            domain_batch_size=None,
            border_batch_size=None,
            initial_batch_size=None,
            dim=1,
            min_pts=(0.0,),
            max_pts=(1.0,),
            tmin=0.0,
            tmax=1.0,
            method="uniform",
        )

    loss = jinns.loss.LossPDENonStatio(
        u=u,
        dynamic_loss=KleinGordon(),
        boundary_condition=KGBoundary(),
        initial_condition_fun=lambda x: x,  # u(0, x) = x
        t0=0.0,
        loss_weights=jinns.loss.LossWeightsPDENonStatio(dyn_loss=1.0, boundary_loss=1.0, initial_condition=1.0),
        update_weight_method="lr_annealing" if method == "M2" else None,
        params=params,
    )
    schedule = optax.exponential_decay(LR, transition_steps=DECAY_STEPS, decay_rate=DECAY_RATE)
    tx = optax.adam(learning_rate=schedule)
    return u, params, data, loss, tx, k_solve


def make_runner(n_iter: int, tx):
    """``n_iter`` steps of jinns.solve inside one jit (solve's own AOT timing is switched off)."""

    def run(params, opt_state, loss, data, key):
        out = jinns.solve(
            n_iter=n_iter,
            init_params=params,
            data=data,
            loss=loss,
            optimizer=tx,
            opt_state=opt_state,
            verbose=False,
            ahead_of_time=False,
            key=key,
        )
        params, train_loss, loss_terms, data, loss, opt_state = out[:6]
        last_terms = jax.tree.map(lambda a: a[-1], loss_terms)
        return params, opt_state, loss, data, train_loss[-1], last_terms

    return eqx.filter_jit(run)


def rel_l2(u, params, n=100):
    g = jnp.linspace(0.0, 1.0, n)
    T, X = jnp.meshgrid(g, g, indexing="ij")
    z = jnp.stack([T.ravel(), X.ravel()], axis=1)
    pred = jax.vmap(lambda p: u(p, params))(z)[:, 0]
    ref = exact(z[:, 0], z[:, 1])
    return float(jnp.linalg.norm(pred - ref) / jnp.linalg.norm(ref))


def _scalars(components):
    """{term: float} from a jinns components module (a one-element tuple/array becomes its value)."""
    out = {}
    for name, value in components.items():
        flat = [float(v) for leaf in jax.tree.leaves(value) for v in jnp.ravel(leaf)]
        out[name] = flat[0] if len(flat) == 1 else flat
    return out


def time_method(method, args):
    # batches consumed: every solve call also draws one batch before its loop
    pool_batches = (args.warmup + 1) + args.repeats * (args.steps + 1) + 2
    u, params, data, loss, tx, key = build(method, args.seed, pool_batches, args.sampling)
    n_params = count_params(params.nn_params)
    print(f"[jinns {method}] parameters: {n_params}" + ("" if n_params == EXPECTED_PARAMS else f"  (EXPECTED {EXPECTED_PARAMS})"))
    if n_params != EXPECTED_PARAMS:
        raise SystemExit(f"network has {n_params} parameters, expected {EXPECTED_PARAMS}")
    opt_state = tx.init(params)

    t0 = time.perf_counter()
    if args.warmup > 0:
        key, k = jax.random.split(key)
        params, opt_state, loss, data, _, _ = make_runner(args.warmup, tx)(params, opt_state, loss, data, k)
        jax.block_until_ready(params)
    warmup_s = time.perf_counter() - t0

    runner = make_runner(args.steps, tx)
    key, k = jax.random.split(key)
    t0 = time.perf_counter()
    compiled = runner.lower(params, opt_state, loss, data, k).compile()
    compile_s = time.perf_counter() - t0

    ms = []
    for r in range(args.repeats):
        key, k = jax.random.split(key)
        t0 = time.perf_counter()
        params, opt_state, loss, data, total, terms = compiled(params, opt_state, loss, data, k)
        jax.block_until_ready((params, total))
        dt = time.perf_counter() - t0
        ms.append(1e3 * dt / args.steps)
        print(f"[jinns {method}] repeat {r + 1}/{args.repeats}: {ms[-1]:.3f} ms/step (loss {float(total):.3e})")

    result = {
        "method": method,
        "description": "all loss weights 1" if method == "M1" else "jinns update_weight_method='lr_annealing'",
        "ms_per_step": ms,
        "min_ms_per_step": min(ms),
        "median_ms_per_step": statistics.median(ms),
        "warmup_s_incl_compile": warmup_s,
        "compile_s": compile_s,
        "final_total_loss": float(total),
        "final_loss_terms": _scalars(terms),
        "final_loss_weights": _scalars(loss.loss_weights),
        "steps_trained": args.warmup + args.repeats * args.steps,
    }
    if not args.no_error:
        result["rel_l2_100x100"] = rel_l2(u, params)
        print(f"[jinns {method}] relative L2 after {result['steps_trained']} steps: {result['rel_l2_100x100']:.3e}")
    return n_params, result


NOTES = {
    "common": [
        "Problem, network (2-50x5-1 tanh, untruncated Glorot-normal weights, zero biases, inputs z-scored with "
        "mean 0.5 and std 1/sqrt(12) through PINN_MLP's input_transform), Adam (optax) with "
        "optax.exponential_decay(1e-3, 1000, 0.9) = 1e-3*0.9^(step/1000) exactly as specified; float32.",
        "Training goes through jinns.solve (wrapped in eqx.filter_jit with ahead_of_time=False so the N-step loop "
        "is compiled once, before timing); jinns.solve computes each loss term and its gradient separately "
        "(values_and_grads with one jacrev per term) and stores per-step loss histories: that is part of its cost.",
        "Loss terms: jinns' 'dyn_loss' = mean residual^2 on 128 interior points; 'initial_condition' = "
        "mean (u(0,x)-x)^2 on 128 points; 'boundary_loss' = mean u(t,0)^2 + mean (u(t,1)-g(t))^2 + mean u_t(0,x)^2. "
        "With all weights 1 the total equals pinnbalance's res + ics + bcs, but u_t(0,x)=0 is grouped with the "
        "boundary term, not the initial-condition term (jinns' initial condition only handles u(t0,x)=u0(x)); it is "
        "imposed as a third equation of a custom BoundaryConditionAbstract, at x = the boundary batch's t-values.",
        "jinns' boundary batch uses the SAME 128 t-values on x=0 and on x=1 (its border set shares times across "
        "facets); pinnbalance draws the two boundary batches independently.",
        "Second derivatives with jinns' own idiom (nested jax.grad per point, vmapped by jinns).",
    ],
    "pool": "Sampling: jinns has no per-step resampling; its CubicMeshPDENonStatio draws a fixed set and serves "
    "mini-batches of 128 from it. The set here holds 128 x (every step of the run) uniform points per term, so no "
    "point is reused: each step sees 128 unseen i.i.d. uniform points, statistically the same as a fresh batch.",
    "fixed": "Sampling: a FIXED set of 128 points per term (drawn once, batch sizes None), reused every step; "
    "pinnbalance draws fresh batches every step.",
    "M2": "M2 = jinns' 'lr_annealing' (Wang et al. Algorithm 1 as implemented in jinns): it updates every step "
    "(pinnbalance M2: every 10 steps), new = 0.1*old + 0.9*lambda_hat (jinns decay_factor=0.9 on the NEW value; "
    "pinnbalance keeps 0.9 of the OLD value), lambda_hat = max|grad L_res| over all leaves / mean over leaves of "
    "|mean(grad L_i)| (pinnbalance: max|.| over weight matrices / mean|.| over weight matrices, gradients of the "
    "weighted terms), and weights the groups dyn_loss(fixed 1) / boundary_loss / initial_condition as described above.",
}


def write_json_atomic(path, obj):
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000, help="timed steps per repeat")
    ap.add_argument("--warmup", type=int, default=200, help="untimed warm-up steps")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="jinns_kg.json")
    ap.add_argument("--methods", default="M1,M2", help="comma list of M1 (weights 1) and M2 (lr_annealing)")
    ap.add_argument("--sampling", choices=("pool", "fixed"), default="pool")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-error", action="store_true", help="skip the relative L2 error")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0:
        ap.error("need --steps >= 1, --repeats >= 1, --warmup >= 0")

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    lr_annealing_available = hasattr(jinns.loss, "lr_annealing")
    skipped = {}
    if "M2" in methods and not lr_annealing_available:
        methods.remove("M2")
        skipped["M2"] = "jinns.loss.lr_annealing not in this jinns version"

    results, n_params = {}, None
    for m in methods:
        if m not in ("M1", "M2"):
            ap.error(f"unknown method {m}")
        n_params, results[m] = time_method(m, args)

    notes = list(NOTES["common"]) + [NOTES[args.sampling]]
    if "M2" in results:
        notes.append(NOTES["M2"])
    notes.append(
        "Timing: ms/step = wall time of one compiled N-step jinns.solve call / N (includes its one extra "
        "batch draw before the loop); warm-up and compilation are excluded. The first repeat also carries the "
        "compiled program's first-execution overhead (about 0.1 s on the 2-core test machine), so read min/median. "
        "JAX/XLA runs with its default CPU thread pool."
    )
    out = {
        "library": "jinns",
        "library_version": md.version("jinns"),
        "backend": "jax",
        "backend_version": jax.__version__,
        "versions": {name: md.version(name) for name in ("jinns", "jax", "jaxlib", "equinox", "optax")},
        "device": str(jax.devices()[0]),
        "platform": {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()},
        "problem": "klein-gordon (Wang, Teng & Perdikaris 2021)",
        "n_params": n_params,
        "batch_size_per_term": BATCH,
        "sampling": args.sampling,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "seed": args.seed,
        "methods_timed": list(results),
        "methods_skipped": skipped,
        "results": results,
        "notes": " ".join(notes),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    write_json_atomic(args.out, out)
    for m, r in results.items():
        print(f"jinns {m}: min {r['min_ms_per_step']:.3f} ms/step, median {r['median_ms_per_step']:.3f} ms/step")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
