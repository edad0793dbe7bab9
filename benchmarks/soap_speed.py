"""ms per training step of SOAP vs Adam on the same network and loss (float32).

    python benchmarks/soap_speed.py              # -> benchmarks/results/soap_speed.json
    python benchmarks/soap_speed.py --repeats 3 --out /tmp/soap_speed.json

The 2-50-50-50-50-50-1 tanh MLP (10,401 parameters) fits sin(pi x) sin(pi y) at a fixed
batch of 128 points by mean squared error: one step is the gradient plus the optimizer
update. Each repeat times ``--steps`` steps in one compiled ``lax.scan`` (a multiple of the
precondition frequency, so SOAP's refreshes are in their true share), Adam and SOAP
interleaved repeat by repeat; min and median over repeats, compile time apart.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

from pinnbalance.io import write_json
from pinnbalance.nn.mlp import MLP, count_params
from pinnbalance.optim import soap

RESULTS = Path(__file__).resolve().parent / "results" / "soap_speed.json"
LAYERS = (2, 50, 50, 50, 50, 50, 1)


def trainer(net, opt, x, y, steps):
    """A compiled ``(params, state) -> (params, state)`` running ``steps`` steps."""
    loss = lambda p: jnp.mean((jax.vmap(lambda z: net.apply(p, z))(x) - y) ** 2)

    def body(carry, _):
        params, state = carry
        updates, state = opt.update(jax.grad(loss)(params), state, params)
        return (optax.apply_updates(params, updates), state), None

    return jax.jit(lambda params, state: jax.lax.scan(body, (params, state), None, length=steps)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    net = MLP(LAYERS)
    params = net.init(jax.random.key(0))
    x = jax.random.uniform(jax.random.key(1), (128, 2), minval=-1.0, maxval=1.0)
    y = jnp.sin(jnp.pi * x[:, 0]) * jnp.sin(jnp.pi * x[:, 1])
    optimizers = {"adam": optax.adam(1e-3), "soap": soap(1e-3, precondition_frequency=10)}
    runs, compile_s, times = {}, {}, {name: [] for name in optimizers}
    for name, opt in optimizers.items():
        run, carry = trainer(net, opt, x, y, args.steps), (params, opt.init(params))
        start = time.perf_counter()
        carry = jax.block_until_ready(run(*carry))  # compile + first block
        compile_s[name] = time.perf_counter() - start
        runs[name] = (run, carry)
    for _ in range(args.repeats):
        for name, (run, carry) in runs.items():
            start = time.perf_counter()
            carry = jax.block_until_ready(run(*carry))
            times[name].append(1000 * (time.perf_counter() - start) / args.steps)
            runs[name] = (run, carry)
    ms = {name: {"min": min(t), "median": statistics.median(t), "repeats_ms": t} for name, t in times.items()}
    result = {
        "what": "ms per step (gradient + optimizer update), 2-50x5-1 tanh MLP, batch 128, float32",
        "parameters": count_params(params),
        "steps_per_repeat": args.steps,
        "soap_precondition_frequency": 10,
        "ms_per_step": ms,
        "soap_over_adam": {k: ms["soap"][k] / ms["adam"][k] for k in ("min", "median")},
        "compile_and_first_block_s": compile_s,
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0].device_kind),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "optax": optax.__version__,
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    }
    write_json(args.out, result)
    print({k: result[k] for k in ("ms_per_step", "soap_over_adam")})


if __name__ == "__main__":
    main()
