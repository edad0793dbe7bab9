"""A finite-difference reference solution of the steady lid-driven cavity, and Ghia's tables.

Steady incompressible Navier-Stokes on the unit square, lid y = 1 moving with u = 1,
no slip elsewhere, in stream function - vorticity form (u = psi_y, v = -psi_x,
omega = v_x - u_y):

    psi_xx + psi_yy = -omega,
    u omega_x + v omega_y = (1/Re) (omega_xx + omega_yy),

with psi = 0 on the walls and the wall vorticity from Thom's formula (the Taylor expansion
of psi one node into the fluid, using psi_n = wall velocity and psi_tt = 0 along the wall):

    omega_wall = -2 psi_adjacent / h^2 - 2 U_wall / h.

Second-order central differences everywhere on an n x n uniform grid (walls included);
the cell Reynolds number Re h is 0.78 at Re = 100, n = 129, so central convection is
stable. The coupled nonlinear system for (psi, omega) at every node is solved by Newton's
method with a sparse LU of the exact Jacobian (kept for cheap chord steps while the steps
shrink tenfold). A grid with an even number of cells above 64 starts from the solution on
the grid with half the cells (nested iteration); a coarser one from zero, so its first
step is the Stokes flow, or above Re = 100 from the flow at half the Reynolds number
(continuation). Measured on two (busy) CPU cores: about 1 s for n = 129, 3 s for n = 199
(the solve behind the default 100 x 100 reference), 5 s for n = 257. Only Re = 100 is
checked against published data (Re = 400 and 1000 converge on n = 129 with psi_min
-0.1128 and -0.1155, unchecked); a solve that does not converge raises instead of
returning a wrong field.

Measured against Ghia, Ghia & Shin (1982) at Re = 100 (max abs difference on their 17
centre-line points): 0.0084 at n = 129, 0.0090 at n = 257, while the n = 129 and n = 257
solutions differ from each other by under 1e-3 there (second-order convergence: the
65/129 gap is 4.06 times the 129/257 gap). The remaining gap is Ghia's own discretisation
error: the centre-line extremes of the n = 257 solution are u_min = -0.2139, v_max = 0.1794,
v_min = -0.2536, against Ghia's tabulated -0.21090, 0.17527, -0.24533, each of theirs
smaller in magnitude. So 0.01 is the agreement to expect, not 1e-3.

Example:
    >>> flow = solve_cavity(100.0, 65)
    >>> flow.psi.shape, round(float(flow.psi.min()), 3)
    ((65, 65), -0.103)
    >>> ghia_error(flow) < 0.01
    True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.interpolate import CubicSpline, RectBivariateSpline

# Ghia, U., Ghia, K. N. & Shin, C. T. (1982). High-Re solutions for incompressible flow
# using the Navier-Stokes equations and a multigrid method. J. Comput. Phys. 48, 387-411.
# Re = 100 columns of Table I (u along the vertical centre line x = 0.5) and Table II
# (v along the horizontal centre line y = 0.5), typed in; checked against several
# independent public transcriptions, which agree digit for digit.
GHIA_RE100_Y = (1.0000, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5000,
                0.4531, 0.2813, 0.1719, 0.1016, 0.0703, 0.0625, 0.0547, 0.0000)  # fmt: skip
GHIA_RE100_U = (1.00000, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581,
                -0.21090, -0.15662, -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.00000)  # fmt: skip
GHIA_RE100_X = (1.0000, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5000,
                0.2344, 0.2266, 0.1563, 0.0938, 0.0781, 0.0703, 0.0625, 0.0000)  # fmt: skip
GHIA_RE100_V = (0.00000, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454,
                0.17527, 0.17507, 0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.00000)  # fmt: skip

LID_VELOCITY = 1.0
DEFAULT_N = 129
COARSEST = 64  # cells per side up to which Newton starts without a coarser grid
RE_FROM_REST = 100.0  # Reynolds number up to which Newton starts from rest (zero)


@dataclass(frozen=True)
class CavityFlow:
    """A steady cavity flow on the ``n x n`` grid ``x_i = i h, y_j = j h`` (walls included).

    Every field is indexed ``[i, j]`` (``x`` first, as ``Box.grid`` orders its points) and
    read-only (instances are cached and shared). On the walls ``u`` and ``v`` are the
    boundary values: u = 1 along the whole lid, its two corners included (the convention
    of the published reference data), 0 elsewhere.
    """

    re: float
    x: np.ndarray
    y: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    u: np.ndarray
    v: np.ndarray
    newton_steps: int

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def speed(self) -> np.ndarray:
        """The velocity magnitude ``sqrt(u^2 + v^2)`` on the grid."""
        return np.hypot(self.u, self.v)


@dataclass(frozen=True)
class _Operators:
    """Full-grid sparse difference operators and node masks for one grid size."""

    h: float
    dx: sp.csr_matrix  # d/dx, central, zero rows on the x walls
    dy: sp.csr_matrix
    lap: sp.csr_matrix  # 5-point Laplacian, zero rows on the walls
    thom: sp.csr_matrix  # wall rows: omega_wall = thom @ psi + lid
    lid: np.ndarray
    interior: np.ndarray  # masks over the flattened grid (index i * n + j)
    boundary: np.ndarray
    wall: np.ndarray  # boundary without the four corners
    corner: np.ndarray


@functools.lru_cache(maxsize=8)
def _operators(n: int) -> _Operators:
    h = 1.0 / (n - 1)
    d1 = sp.diags([-1.0, 1.0], [-1, 1], shape=(n, n), format="lil") / (2 * h)
    d2 = sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n, n), format="lil") / h**2
    for d in (d1, d2):
        d[0, :] = 0.0
        d[n - 1, :] = 0.0
    eye = sp.identity(n, format="csr")
    dx, dy = sp.kron(d1.tocsr(), eye, "csr"), sp.kron(eye, d1.tocsr(), "csr")
    lap = (sp.kron(d2.tocsr(), eye) + sp.kron(eye, d2.tocsr())).tocsr()

    index = np.arange(n * n).reshape(n, n)
    inner = np.arange(1, n - 1)
    # (wall nodes, their neighbours one step into the fluid, wall tangential velocity)
    sides = [
        (index[inner, n - 1], index[inner, n - 2], LID_VELOCITY),  # lid y = 1
        (index[inner, 0], index[inner, 1], 0.0),  # bottom y = 0
        (index[0, inner], index[1, inner], 0.0),  # left x = 0
        (index[n - 1, inner], index[n - 2, inner], 0.0),  # right x = 1
    ]
    rows = np.concatenate([s[0] for s in sides])
    cols = np.concatenate([s[1] for s in sides])
    thom = sp.csr_matrix((np.full(rows.size, -2.0 / h**2), (rows, cols)), shape=(n * n, n * n))
    lid = np.zeros(n * n)
    lid[sides[0][0]] = -2.0 * LID_VELOCITY / h

    boundary = np.zeros((n, n), bool)
    boundary[[0, n - 1], :] = True
    boundary[:, [0, n - 1]] = True
    corner = np.zeros((n, n), bool)
    corner[[0, 0, n - 1, n - 1], [0, n - 1, 0, n - 1]] = True
    return _Operators(
        h, dx, dy, lap, thom, lid, (~boundary).ravel(), boundary.ravel(), (boundary & ~corner).ravel(), corner.ravel()
    )


def _residual(ops: _Operators, psi: np.ndarray, omega: np.ndarray, re: float) -> np.ndarray:
    """Discrete equations at every node: Poisson and transport inside, psi = 0 and Thom on the walls."""
    u, v = ops.dy @ psi, -(ops.dx @ psi)
    poisson = np.where(ops.interior, ops.lap @ psi + omega, psi)
    transport = u * (ops.dx @ omega) + v * (ops.dy @ omega) - (ops.lap @ omega) / re
    wall = omega - ops.thom @ psi - ops.lid
    vorticity = np.where(ops.interior, transport, np.where(ops.wall, wall, omega))  # corners: omega = 0 (unused)
    return np.concatenate([poisson, vorticity])


def _jacobian(ops: _Operators, psi: np.ndarray, omega: np.ndarray, re: float) -> sp.csc_matrix:
    """The exact Jacobian of ``_residual`` with respect to ``(psi, omega)``."""
    inside, walls = sp.diags(ops.interior.astype(float)), sp.diags(ops.wall.astype(float))
    u, v = ops.dy @ psi, -(ops.dx @ psi)
    d_poisson_psi = inside @ ops.lap + sp.diags(ops.boundary.astype(float))
    d_transport_psi = inside @ (sp.diags(ops.dx @ omega) @ ops.dy - sp.diags(ops.dy @ omega) @ ops.dx) - walls @ ops.thom
    walls_and_corners = sp.diags((~ops.interior).astype(float))  # d(omega - Thom)/d omega, d(omega)/d omega
    d_transport_omega = inside @ (sp.diags(u) @ ops.dx + sp.diags(v) @ ops.dy - ops.lap / re) + walls_and_corners
    return sp.bmat([[d_poisson_psi, inside], [d_transport_psi, d_transport_omega]], format="csc")


def _newton(
    ops: _Operators, re: float, psi: np.ndarray, omega: np.ndarray, max_steps: int = 40, rtol: float = 1e-11
) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton's method that keeps its LU factorisation while the steps shrink at least tenfold
    (a chord step is a cheap back-solve), and refactorises when they do not."""
    m = ops.interior.size
    lu, previous = None, np.inf
    for step in range(1, max_steps + 1):
        if lu is None:
            lu = spla.splu(_jacobian(ops, psi, omega, re))
        delta = lu.solve(-_residual(ops, psi, omega, re))
        size = np.abs(delta).max()
        if not np.isfinite(size):
            break
        psi, omega = psi + delta[:m], omega + delta[m:]
        if size <= rtol * max(1.0, np.abs(omega).max()):
            return psi, omega, step
        if size > 0.1 * previous:
            lu = None
        previous = size
    raise RuntimeError(
        f"cavity solver: Newton's method did not converge at Re = {re} on a {math.isqrt(m)}^2 grid in {max_steps} "
        "steps; it is checked against data at Re = 100 only (try a finer grid or a lower Re)"
    )


def _initial_guess(re: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where Newton starts: on a grid with an even number of cells above ``COARSEST``, the
    solution on the grid with half the cells, interpolated (nested iteration: the fine-grid
    Newton then starts within O(h^2) of its solution); else, above ``RE_FROM_REST``, the
    solution at half the Reynolds number on the same grid (continuation); else zero, so
    that the first step is the Stokes flow."""
    if n - 1 > COARSEST and (n - 1) % 2 == 0:
        coarse = solve_cavity(re, (n - 1) // 2 + 1)
        fine = np.linspace(0.0, 1.0, n)
        return tuple(RectBivariateSpline(coarse.x, coarse.y, f)(fine, fine).ravel() for f in (coarse.psi, coarse.omega))
    if re > RE_FROM_REST:
        slower = solve_cavity(max(RE_FROM_REST, re / 2), n)
        return slower.psi.ravel().copy(), slower.omega.ravel().copy()
    return np.zeros(n * n), np.zeros(n * n)


@functools.lru_cache(maxsize=8)
def solve_cavity(re: float = 100.0, n: int = DEFAULT_N) -> CavityFlow:
    """The steady cavity flow at Reynolds number ``re`` on an ``n x n`` grid (cached per process).

    Velocities are second-order central differences of psi inside, boundary values on the
    walls. Raises ``RuntimeError`` if Newton's method does not converge.
    """
    if int(n) != n or n < 5:
        raise ValueError(f"cavity solver: grid size n must be an integer >= 5 (e.g. 129), got {n}")
    if not re > 0:
        raise ValueError(f"cavity solver: Reynolds number must be positive, got {re}")
    n, re = int(n), float(re)
    ops = _operators(n)
    psi, omega, steps = _newton(ops, re, *_initial_guess(re, n))
    psi, omega = psi.reshape(n, n), omega.reshape(n, n)
    psi[[0, n - 1], :] = psi[:, [0, n - 1]] = 0.0  # the wall rows hold psi = 0 up to rounding; make it exact
    u = np.gradient(psi, ops.h, axis=1)
    v = -np.gradient(psi, ops.h, axis=0)
    u[[0, n - 1], :] = 0.0
    u[:, 0] = 0.0
    u[:, n - 1] = LID_VELOCITY  # the whole lid, corners included
    v[[0, n - 1], :] = 0.0
    v[:, [0, n - 1]] = 0.0
    grid = np.linspace(0.0, 1.0, n)
    fields = [grid, grid.copy(), psi, omega, u, v]
    for a in fields:
        a.setflags(write=False)
    return CavityFlow(re, *fields, newton_steps=steps)


def centreline_differences(flow: CavityFlow) -> tuple[np.ndarray, np.ndarray]:
    """Solver minus Ghia at Ghia's 17 points: ``u(0.5, y_k) - u_k`` and ``v(x_k, 0.5) - v_k``.

    The solver's centre lines are interpolated with cubic splines (an odd ``n`` puts a
    grid line on x = 0.5 and y = 0.5). Ghia's tables are for Re = 100 only.
    """
    if flow.re != 100.0:
        raise ValueError(f"Ghia's tables typed in here are for Re = 100; this flow has Re = {flow.re}")
    if flow.n % 2 == 0:
        raise ValueError(f"centre lines need a grid line at 0.5: use an odd grid size n (e.g. 129), got {flow.n}")
    mid = flow.n // 2
    u_line = CubicSpline(flow.y, flow.u[mid, :])(np.asarray(GHIA_RE100_Y))
    v_line = CubicSpline(flow.x, flow.v[:, mid])(np.asarray(GHIA_RE100_X))
    return u_line - np.asarray(GHIA_RE100_U), v_line - np.asarray(GHIA_RE100_V)


def ghia_error(flow: CavityFlow) -> float:
    """Max abs difference of the solver's centre-line velocities from Ghia et al. (1982), Re = 100."""
    du, dv = centreline_differences(flow)
    return float(max(np.abs(du).max(), np.abs(dv).max()))


def solver_size(m: int, min_intervals: int = DEFAULT_N - 1) -> int:
    """The smallest grid ``k (m - 1) + 1`` with at least ``min_intervals`` cells per side, so
    that an ``m x m`` evaluation grid is a subset of the solver's nodes (no interpolation).

    Example:
        >>> solver_size(100), solver_size(129), solver_size(65)
        (199, 129, 129)
    """
    return (m - 1) * max(1, -(-min_intervals // (m - 1))) + 1


def reference_speed(re: float = 100.0, m: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The velocity magnitude on the ``m x m`` grid of the unit square (walls included).

    Returns ``(points (m^2, 2), values (m^2,))`` as float64 numpy arrays, points in
    ``Box.grid`` order (x-major). The flow is solved on ``solver_size(m)`` nodes per side,
    a refinement of the evaluation grid, and read off at the shared nodes.
    """
    if int(m) != m or m < 2:
        raise ValueError(f"reference grid size must be an integer >= 2 (e.g. 100), got {m}")
    m = int(m)
    n = solver_size(m)
    flow = solve_cavity(re, n)
    stride = (n - 1) // (m - 1)
    speed = flow.speed()[::stride, ::stride]
    xs, ys = np.meshgrid(flow.x[::stride], flow.y[::stride], indexing="ij")
    points = np.stack([xs.ravel(), ys.ravel()], axis=-1)
    return points, speed.ravel().copy()
