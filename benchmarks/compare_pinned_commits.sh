#!/usr/bin/env bash
# Issue 16's check that the training-core rebuild kept behaviour bit for bit: the pinned float64
# trainings (tests/training/pinned.py) are run at two commits on this machine, each commit with its
# own pinned.py and its own source, and every history array is compared with np.array_equal.
#   bash benchmarks/compare_pinned_commits.sh [OLD [NEW]]    # default: 9f38835 (the pinning commit) and HEAD
# Prints "N arrays in both, M bit-identical" and any array that differs; exits 1 if one does.
set -euo pipefail
old="${1:-9f38835}"
new="${2:-HEAD}"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; git -C "$root" worktree remove --force "$tmp/new" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
for side in old new; do
    commit="${!side}"
    git -C "$root" worktree add --detach "$tmp/$side" "$commit" >/dev/null
    (cd "$tmp/$side" && PYTHONPATH="$tmp/$side/src" python tests/training/pinned.py "$tmp/$side.npz")
done
python - "$tmp/old.npz" "$tmp/new.npz" "$old" "$new" <<'P'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
common = sorted(set(a) & set(b))
same = [k for k in common if a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=True)]
print(f"{sys.argv[3]} vs {sys.argv[4]}: {len(common)} arrays in both, {len(same)} bit-identical; only in one: {sorted(set(a) ^ set(b))}")
for k in sorted(set(common) - set(same)):
    print("differs:", k)
sys.exit(0 if len(same) == len(common) else 1)
P
