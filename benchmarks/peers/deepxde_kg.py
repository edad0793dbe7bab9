"""Peer benchmark: DeepXDE (PyTorch backend) on the nonlinear Klein-Gordon problem of Wang, Teng & Perdikaris (2021).

Same problem and set-up as pinnbalance's Klein-Gordon run, written with DeepXDE's public API:

    u_tt - u_xx + u^3 = f(t, x) on [0, 1]^2,  u* = x cos(5 pi t) + (t x)^3
    u(0, x) = x,  u_t(0, x) = 0,  u(t, 0) = 0,  u(t, 1) = cos(5 pi t) + t^3
    MLP 2 -> 50 x5 (tanh) -> 1, Glorot-normal weights, zero biases, inputs z-scored on [0, 1]^2
    Adam, lr 1e-3 * 0.9^(step / 1000), 128 points per term, resampled every step

Method: M1 = all loss weights 1 (DeepXDE has no built-in adaptive loss weighting).
Timing: warm-up steps (untimed), then R runs of N steps; a callback stamps the time at the start
of step 0 and of step N (the run does N + 1 steps, so DeepXDE's end-of-train loss evaluation
falls outside the window); ms per step = that interval / N.

Run it with the peers venv (see setup.sh):

    DDE_BACKEND=pytorch /tmp/pinnbalance-peers-venv/bin/python benchmarks/peers/deepxde_kg.py --out deepxde.json
"""

from __future__ import annotations

import os

os.environ.setdefault("DDE_BACKEND", "pytorch")  # must be set before deepxde is imported

import argparse
import importlib.metadata as md
import json
import math
import platform
import statistics
import sys
import tempfile
import time

import deepxde as dde
import numpy as np
import torch

BATCH = 128
LAYERS = [2, 50, 50, 50, 50, 50, 1]
EXPECTED_PARAMS = 10_401
LR, DECAY_RATE, DECAY_STEPS = 1e-3, 0.9, 1000
IN_MEAN, IN_STD = 0.5, math.sqrt(1.0 / 12.0)  # mean and std of U(0, 1): same normalisation as pinnbalance

# DeepXDE's GeometryXTime orders the inputs as (x, t): column 0 is x, column 1 is t.
X, T = 0, 1


def exact_np(xt):
    x, t = xt[:, X : X + 1], xt[:, T : T + 1]
    return x * np.cos(5 * np.pi * t) + (t * x) ** 3


def pde(xt, u):
    """Residual u_tt - u_xx + u^3 - f, with f written out from the exact solution."""
    x, t = xt[:, X : X + 1], xt[:, T : T + 1]
    u_tt = dde.grad.hessian(u, xt, i=T, j=T)
    u_xx = dde.grad.hessian(u, xt, i=X, j=X)
    exact = x * torch.cos(5 * math.pi * t) + (t * x) ** 3
    f = (-25 * math.pi**2 * x * torch.cos(5 * math.pi * t) + 6 * t * x**3) - 6 * x * t**3 + exact**3
    return u_tt - u_xx + u**3 - f


class StepTimer(dde.callbacks.Callback):
    """Stamps perf_counter at the start of step 0 and of step ``n`` of one model.train call."""

    def __init__(self, n):
        super().__init__()
        self.n, self.i, self.t_start, self.t_end = n, 0, None, None

    def on_epoch_begin(self):
        if self.i == 0:
            self.t_start = time.perf_counter()
        elif self.i == self.n:
            self.t_end = time.perf_counter()
        self.i += 1


class UnitInterval(dde.geometry.Interval):
    """[0, 1] whose random boundary draw puts exactly half the points on x=0 and half on x=1.

    Stock Interval puts each boundary point on a random side, so the per-BC point counts change
    at every redraw and PDEPointResampler(bc_points=True) refuses to run. Interior draws are
    kept strictly inside (float32 rounding can otherwise land a point exactly on x=1, p ~ 3e-8).
    """

    def random_points(self, n, random="pseudo"):
        return np.clip(super().random_points(n, random), 0.0, _BELOW_ONE)

    def random_boundary_points(self, n, random="pseudo"):
        half = n // 2
        return np.vstack([np.full((half, 1), self.l), np.full((n - half, 1), self.r)]).astype(dde.config.real(np))


class UnitSquareXTime(dde.geometry.GeometryXTime):
    """GeometryXTime with interior draws kept off x=1 (see UnitInterval)."""

    def random_points(self, n, random="pseudo"):
        pts = super().random_points(n, random)
        pts[:, X] = np.clip(pts[:, X], 0.0, _BELOW_ONE)
        return pts


_BELOW_ONE = np.nextafter(np.float32(1.0), np.float32(0.0))


def build(seed, sampling):
    dde.config.set_random_seed(seed)
    timedomain = dde.geometry.TimeDomain(0.0, 1.0)
    if sampling == "all":
        geomtime = UnitSquareXTime(UnitInterval(0.0, 1.0), timedomain)
    else:
        geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(0.0, 1.0), timedomain)

    # Point filters use exact equality: boundary and initial points are exactly on x=0, x=1, t=0,
    # while DeepXDE's own tolerance (1e-6 in float32) would now and then count an interior point
    # as a boundary point, change the per-BC counts and stop the resampler.
    bc_left = dde.icbc.DirichletBC(geomtime, lambda xt: np.zeros((len(xt), 1)), lambda xt, _: xt[X] == 0.0)
    bc_right = dde.icbc.DirichletBC(
        geomtime, lambda xt: np.cos(5 * np.pi * xt[:, T : T + 1]) + xt[:, T : T + 1] ** 3, lambda xt, _: xt[X] == 1.0
    )
    ic_u = dde.icbc.IC(geomtime, lambda xt: xt[:, X : X + 1], lambda xt, _: xt[T] == 0.0)
    ic_ut = dde.icbc.OperatorBC(geomtime, lambda xt, u, _: dde.grad.jacobian(u, xt, i=0, j=T), lambda xt, _: xt[T] == 0.0)
    data = dde.data.TimePDE(
        geomtime,
        pde,
        [bc_left, bc_right, ic_u, ic_ut],
        num_domain=BATCH,
        num_boundary=2 * BATCH,
        num_initial=BATCH,
        train_distribution="pseudo",  # i.i.d. uniform ("uniform" would be an equispaced grid)
    )
    net = dde.nn.FNN(LAYERS, "tanh", "Glorot normal")
    net.apply_feature_transform(lambda xt: (xt - IN_MEAN) / IN_STD)
    model = dde.Model(data, net)
    model.compile(
        "adam",
        lr=LR,
        decay=("lambda", lambda step: DECAY_RATE ** (step / DECAY_STEPS)),
        # loss_weights=None: all five DeepXDE loss terms weighted 1
    )
    return data, net, model


def rel_l2(model, n=100):
    g = np.linspace(0.0, 1.0, n, dtype=np.float32)
    tt, xx = np.meshgrid(g, g, indexing="ij")
    xt = np.stack([xx.ravel(), tt.ravel()], axis=1)
    pred = model.predict(xt)
    ref = exact_np(xt)
    return float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))


SAMPLING_NOTES = {
    "all": "Sampling: DeepXDE has no per-step batch option for PDE data; dde.callbacks.PDEPointResampler(period=1, "
    "pde_points=True, bc_points=True) redraws every point (numpy) after every step, inside the timed window. "
    "To make that possible the geometry is subclassed (UnitInterval / UnitSquareXTime): boundary draws put "
    "exactly 128 points on x=0 and 128 on x=1 (stock DeepXDE puts each point on a random side, and the changing "
    "per-BC counts make the resampler raise), and interior x is clipped below 1 (float32 rounding); the BC/IC "
    "point filters use exact equality instead of DeepXDE's 1e-6 tolerance. Points per step: "
    "{bc_points[0]} (x=0), {bc_points[1]} (x=1), {bc_points[2]} (u at t=0), {bc_points[3]} (u_t at t=0).",
    "pde": "Sampling: stock DeepXDE geometry; dde.callbacks.PDEPointResampler(period=1, pde_points=True, "
    "bc_points=False) redraws the residual points (numpy) after every step, inside the timed window, while the "
    "BC/IC points are a FIXED set drawn once (DeepXDE's default for bc_points). The stock Interval puts each of "
    "the 256 boundary points on x=0 or x=1 at random: {bc_points[0]} on x=0 and {bc_points[1]} on x=1 here, not "
    "128 each; {bc_points[2]} and {bc_points[3]} initial points.",
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
    ap.add_argument("--out", default="deepxde_kg.json")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument(
        "--sampling",
        choices=("all", "pde"),
        default="all",
        help="all: every point redrawn every step (exact 128 per term, subclassed geometry); "
        "pde: stock DeepXDE geometry, residual points redrawn every step, BC/IC points fixed",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch.set_num_threads (default 1; 0 leaves torch's default). On a busy 2-core machine torch's "
        "OpenMP pool with 2 threads was 5-200x slower than 1 thread for this small network",
    )
    ap.add_argument("--no-error", action="store_true", help="skip the relative L2 error")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0:
        ap.error("need --steps >= 1, --repeats >= 1, --warmup >= 0")
    if dde.backend.backend_name != "pytorch":
        raise SystemExit(f"DeepXDE backend is {dde.backend.backend_name!r}; run with DDE_BACKEND=pytorch")
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    data, net, model = build(args.seed, args.sampling)
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(f"[deepxde M1] parameters: {n_params}" + ("" if n_params == EXPECTED_PARAMS else f"  (EXPECTED {EXPECTED_PARAMS})"))
    if n_params != EXPECTED_PARAMS:
        raise SystemExit(f"network has {n_params} parameters, expected {EXPECTED_PARAMS}")

    # the resampler redraws after every step: all points ("all") or the residual points only ("pde")
    resampler = lambda: dde.callbacks.PDEPointResampler(period=1, pde_points=True, bc_points=args.sampling == "all")
    never = 10**9  # display_every: no periodic test-loss evaluation inside the timed steps

    t0 = time.perf_counter()
    if args.warmup > 0:
        model.train(iterations=args.warmup, display_every=never, callbacks=[resampler()], verbose=0)
    warmup_s = time.perf_counter() - t0

    ms = []
    rows = []
    for r in range(args.repeats):
        timer = StepTimer(args.steps)
        # N + 1 steps: the window is the start of step 0 .. the start of step N, so DeepXDE's
        # end-of-train test evaluation (after the last step) is outside it.
        model.train(iterations=args.steps + 1, display_every=never, callbacks=[timer, resampler()], verbose=0)
        ms.append(1e3 * (timer.t_end - timer.t_start) / args.steps)
        rows.append(
            {
                "rows_forward": int(len(data.train_x)),
                "bc_points": [int(n) for n in data.num_bcs],
                "residual_points": int(len(data.train_x_all)),
            }
        )
        loss = model.train_state.loss_train
        print(f"[deepxde M1] repeat {r + 1}/{args.repeats}: {ms[-1]:.3f} ms/step (loss {float(np.sum(loss)):.3e})")

    steps_trained = args.warmup + args.repeats * (args.steps + 1)
    terms = [float(v) for v in model.train_state.loss_train]
    result = {
        "method": "M1",
        "description": "all loss weights 1",
        "ms_per_step": ms,
        "min_ms_per_step": min(ms),
        "median_ms_per_step": statistics.median(ms),
        "warmup_s": warmup_s,
        "final_total_loss": float(sum(terms)),
        "final_loss_terms": dict(zip(["pde", "bc_x0", "bc_x1", "ic_u", "ic_ut"], terms)),
        "steps_trained": steps_trained,
        "points_last_step": rows[-1],
    }
    if not args.no_error:
        result["rel_l2_100x100"] = rel_l2(model)
        print(f"[deepxde M1] relative L2 after {steps_trained} steps: {result['rel_l2_100x100']:.3e}")

    last = rows[-1]
    notes = [
        "Network (2-50x5-1 tanh, dde.nn.FNN with 'Glorot normal' = torch xavier_normal_ weights and zero biases, "
        "inputs z-scored with mean 0.5 and std 1/sqrt(12) via net.apply_feature_transform), Adam with "
        "decay=('lambda', 0.9**(step/1000)) = 1e-3*0.9^(step/1000) exactly as specified; float32.",
        SAMPLING_NOTES[args.sampling].format(**last),
        "Loss: five MSE terms weighted 1 (PDE, u(t,0), u(t,1)-g(t), u(0,x)-x, u_t(0,x)); their sum equals "
        "pinnbalance's res + ics + bcs, EXCEPT that DeepXDE evaluates the PDE residual on all its training points: "
        f"the 128 interior + 256 boundary + 128 initial points ({last['residual_points']} residual points, not 128), "
        f"and runs the network and its second derivatives on {last['rows_forward']} input rows per step (the BC "
        "points are evaluated again in front of them). This is how dde.data.TimePDE works; it makes each DeepXDE "
        "step do several times the derivative work of pinnbalance's and changes the residual term's sampling.",
        "Timing: one callback stamps the start of step 0 and of step N in a model.train(N + 1) call, so the window "
        "holds N full steps (forward, backward, Adam, LR scheduler, resampling) and excludes DeepXDE's "
        "start/end-of-train loss evaluations; warm-up excluded. PyTorch eager mode (no torch.compile).",
        f"torch threads: {torch.get_num_threads()} (set with --threads; with 2 OpenMP threads on the busy 2-core "
        "test machine a step was 5-200x slower, so 1 is the default).",
    ]
    out = {
        "library": "deepxde",
        "library_version": md.version("deepxde"),
        "backend": "pytorch",
        "backend_version": torch.__version__,
        "versions": {name: md.version(name) for name in ("deepxde", "torch", "numpy")},
        "device": "cpu",
        "torch_num_threads": torch.get_num_threads(),
        "platform": {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()},
        "problem": "klein-gordon (Wang, Teng & Perdikaris 2021)",
        "n_params": n_params,
        "batch_size_per_term": BATCH,
        "sampling": args.sampling,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "seed": args.seed,
        "methods_timed": ["M1"],
        "methods_skipped": {"M2": "DeepXDE has no learning-rate-annealing loss weighting in its public API"},
        "results": {"M1": result},
        "notes": " ".join(notes),
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }
    write_json_atomic(args.out, out)
    print(f"deepxde M1: min {result['min_ms_per_step']:.3f} ms/step, median {result['median_ms_per_step']:.3f} ms/step")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
