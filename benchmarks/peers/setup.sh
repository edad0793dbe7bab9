#!/usr/bin/env bash
# Create a separate virtual environment for the peer-library benchmarks
# (DeepXDE on PyTorch, jinns on its own JAX). It never touches the project's venv.
#
#   bash benchmarks/peers/setup.sh            # venv at /tmp/pinnbalance-peers-venv
#   PEERS_VENV=/some/dir bash benchmarks/peers/setup.sh
#
# Each install is a separate pip call, so one failure does not stop the others;
# the script reports what failed and exits non-zero if anything did.
set -u

VENV="${PEERS_VENV:-/tmp/pinnbalance-peers-venv}"
PY="${PYTHON:-python3}"
failed=()

if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating venv at $VENV"
    "$PY" -m venv "$VENV" || { echo "could not create venv at $VENV" >&2; exit 1; }
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install --upgrade pip wheel || echo "(pip upgrade failed; continuing with the venv's pip)"

# torch pinned exactly: the CPU build of 2.13.0 is served locally; an unpinned
# torch would pull a multi-GB CUDA build.
echo "== torch"
"${PIP[@]}" install "torch==2.13.0" || failed+=("torch")

# DeepXDE (backend chosen at run time with DDE_BACKEND=pytorch). The constraint
# keeps pip from swapping the pinned torch for another build.
echo "== deepxde"
"${PIP[@]}" install deepxde "torch==2.13.0" || failed+=("deepxde")

# jinns brings its own jax/jaxlib/equinox/optax; pip resolves them in this venv.
echo "== jinns"
"${PIP[@]}" install jinns || failed+=("jinns")

echo "== installed versions"
"$VENV/bin/python" - <<'PYEOF'
import importlib.metadata as md
for name in ("torch", "deepxde", "jinns", "jax", "jaxlib", "equinox", "optax"):
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name}: not installed")
PYEOF

if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED installs: ${failed[*]}" >&2
    exit 1
fi
echo "peers venv ready: $VENV"
echo "  DDE_BACKEND=pytorch $VENV/bin/python benchmarks/peers/deepxde_kg.py --out deepxde.json"
echo "  $VENV/bin/python benchmarks/peers/jinns_kg.py --out jinns.json"
