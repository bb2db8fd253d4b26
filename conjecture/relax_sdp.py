"""Gram-matrix SDP lower bound for signed beta with a fixed sign pattern (rank constraint dropped).

Fix signs s in {+1, -1}^M (k of them negative) and write beta = r u with sum u = 1 (the case sum beta <= 0 gives
Ltilde >= C, above the ETF value). With U = u u^T and Y = U o G (G the Gram matrix of the frame):
    U >= 0, Y >= 0 (Schur product of PSD matrices), diag Y = diag U, sum U = 1,
    s_j s_l U_jl >= 0 and |Y_jl| <= |U_jl| (because |G_jl| <= 1).
For convex kappa, every tangent l_i(t) = kappa(t_i) + kappa'(t_i)(t - t_i) lies below kappa and the chord
c(t) through (-1, kappa(-1)), (1, kappa(1)) lies above it, so for each pair j != l
    u_j u_l kappa(G_jl) >= a_i U_jl + c_i Y_jl  (all tangents i)     when s_j s_l > 0,
    u_j u_l kappa(G_jl) >= a_c U_jl + c_c Y_jl  (the chord)          when s_j s_l < 0,
where (a, c) are intercept and slope. Hence
and the same bounds with the inequalities reversed hold from above (tangent above for s_j s_l < 0, chord below
for s_j s_l > 0). Z = D_u K(G) D_u is PSD with diag Z = kappa(1) diag U and sum Z = u^T K u, so
    A_k = min sum Z  over (U, Y, Z) satisfying all of the above
is <= u^T K(V) u for every frame and every u with the sign pattern, and Ltilde >= C - b^2 / A_k in regime (I)
when A_k > 0. The relaxation is symmetric under permutations, so one SDP per k = 0..M-1 covers all patterns.
For k = 0 with the tangent at rho0 = -1/(M-1) it reproduces the Delsarte bound (tight at the ETF).

References: Goemans & Williamson, J. ACM 42 (1995) (elliptope relaxation); docs/model.md §4 and §5.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from conjecture.kkt import KKTReport, check_kkt
from conjecture.solver_call import SOLVER_ERROR, solve_status
from theory.activations import Activation
from theory.kernels import dual_kernel

TANGENT_POINTS = 9


@dataclass(frozen=True)
class SDPBound:
    """A_k for k negative signs: value (a lower bound on u^T K u / (sum u)^2), the KKT check, solver status."""

    negatives: int
    value: float
    kkt: KKTReport
    applicable: bool
    note: str


def is_convex_on_grid(act: Activation, points: int = 2001) -> bool:
    """kappa' nondecreasing on a grid of [-1, 1] (a numerical screen: the SDP needs convex kappa)."""
    t = np.linspace(-1 + 1e-9, 1 - 1e-9, points)
    d = dual_kernel(act).numpy_prime(t)
    return bool(np.all(np.diff(d) >= -1e-12 * np.max(np.abs(d))))


@dataclass
class _SDP:
    """The sign-pattern SDP of one shape with the kernel data as cvxpy Parameters (DPP: canonicalised once)."""

    problem: cp.Problem
    intercepts: cp.Parameter
    slopes: cp.Parameter
    chord_a: cp.Parameter
    chord_c: cp.Parameter
    lock: threading.Lock = field(default_factory=threading.Lock)


def _build(M: int, negatives: int, n_tangents: int) -> _SDP:
    """The relaxation for M neurons, ``negatives`` negative signs and ``n_tangents`` tangent lines; kappa enters
    only through the tangent intercepts/slopes and the chord (Parameters), so one problem serves every activation."""
    import cvxpy as cp

    inter = cp.Parameter(n_tangents)
    slopes = cp.Parameter(n_tangents)
    chord_a, chord_c = cp.Parameter(), cp.Parameter()
    k1 = 1.0
    s = np.array([-1.0] * negatives + [1.0] * (M - negatives))
    same = np.outer(s, s) > 0
    U = cp.Variable((M, M), symmetric=True)
    Y = cp.Variable((M, M), symmetric=True)
    Z = cp.Variable((M, M), symmetric=True)  # Z = D_u K(G) D_u, PSD (Schur product)
    cons = [U >> 0, Y >> 0, Z >> 0, cp.diag(Y) == cp.diag(U), cp.diag(Z) == k1 * cp.diag(U), cp.sum(U) == 1]
    Smat = np.outer(s, s)
    off = ~np.eye(M, dtype=bool)
    pos = (same & off).astype(float)  # pairs with u_j u_l >= 0
    neg = (~same).astype(float)       # pairs with u_j u_l <= 0
    cons += [cp.multiply(off * Smat, U) >= 0, cp.multiply(off, Y - cp.multiply(Smat, U)) <= 0,
             cp.multiply(off, -Y - cp.multiply(Smat, U)) <= 0]
    chord = chord_a * U + chord_c * Y
    for i in range(n_tangents):
        tang = inter[i] * U + slopes[i] * Y
        if pos.any():  # tangent below kappa: Z_jl >= u_j u_l l_i(G_jl)
            cons.append(cp.multiply(pos, Z - tang) >= 0)
        if neg.any():  # the inequality flips for u_j u_l <= 0
            cons.append(cp.multiply(neg, tang - Z) >= 0)
    if pos.any():  # chord above kappa
        cons.append(cp.multiply(pos, chord - Z) >= 0)
    if neg.any():
        cons.append(cp.multiply(neg, Z - chord) >= 0)
    prob = cp.Problem(cp.Minimize(cp.sum(Z)), cons)
    if not prob.is_dpp():  # a parameter entered non-affinely: the cache would recanonicalise every solve
        raise AssertionError("sign-pattern SDP is not DPP")
    return _SDP(prob, inter, slopes, chord_a, chord_c)


@lru_cache(maxsize=256)
def _problem(M: int, negatives: int, n_tangents: int, solver: str) -> _SDP:
    """One DPP problem per shape and solver, re-solved with new parameter values (cvxpy then skips most of its
    canonicalisation); the lock serialises solves of the shared problem across threads."""
    return _build(M, negatives, n_tangents)


def sdp_bound(act: Activation, M: int, negatives: int, *, solver: str = "CLARABEL", reuse: bool = True) -> SDPBound:
    """Solve the sign-pattern SDP for ``negatives`` negative coefficients and check its KKT conditions.

    ``reuse`` (default): the bound depends on (activation, M, negatives, solver) only, not on d, so it is computed
    once per process (memoised) on the cached DPP problem of its shape, and k negatives share the solve of M - k
    negatives: the constraints see the signs only through s s^T, and flipping every sign is a permutation of the
    pattern. ``reuse=False`` builds and solves a fresh problem (the tests compare the two).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> relu = get_activation("relu")
    >>> b0 = sdp_bound(relu, 3, 0)
    >>> kern = dual_kernel(relu); q = (0.5 + 2 * float(kern.numpy(np.array(-0.5)))) / 3
    >>> b0.kkt.ok, abs(b0.value - q) < 1e-6   # tight at the ETF for beta >= 0
    (True, True)
    """
    if reuse:  # s -> -s maps the pattern with k negatives onto M - k (the same problem, indices permuted)
        mirror = min(negatives, M - negatives) if negatives > 0 else 0
        return replace(_memoised(act, M, mirror, solver), negatives=negatives)
    return _compute(act, M, negatives, solver, reuse=False)


@lru_cache(maxsize=1024)
def _memoised(act: Activation, M: int, negatives: int, solver: str) -> SDPBound:
    return _compute(act, M, negatives, solver, reuse=True)


def _compute(act: Activation, M: int, negatives: int, solver: str, *, reuse: bool) -> SDPBound:
    if not is_convex_on_grid(act):
        return SDPBound(negatives, float("nan"), KKTReport(np.nan, np.nan, np.nan, np.nan, False, "skipped"), False,
                        "kappa is not convex: tangents/chord are not valid under/over-estimators")
    kern = dual_kernel(act)
    # The SDP is homogeneous in kappa: solve it for kappa / kappa(1) (data of order 1 whatever the activation's
    # scale, e.g. leaky_relu(1e6) has kappa(1) ~ 5e11) and multiply the optimal value back.
    unit = float(kern.at_one)
    if not np.isfinite(unit) or unit <= 0:
        return SDPBound(negatives, float("nan"), KKTReport(np.nan, np.nan, np.nan, np.nan, False, "skipped"), False,
                        f"kappa(1) = {unit:g}: no normalised relaxation")
    k1 = 1.0
    km1 = float(kern.numpy(np.array(-1.0))) / unit
    rho0 = -1.0 / (M - 1)
    pts = np.unique(np.concatenate([np.cos(np.pi * np.arange(TANGENT_POINTS) / (TANGENT_POINTS - 1)) * (1 - 1e-9), [rho0 * (1 - 1e-15)]]))
    slopes = kern.numpy_prime(pts) / unit
    ok = np.isfinite(slopes)
    pts, slopes = pts[ok], slopes[ok]
    inter = kern.numpy(pts) / unit - slopes * pts
    chord_c = (k1 - km1) / 2
    chord_a = km1 + chord_c
    sdp = _problem(M, negatives, len(pts), solver) if reuse else _build(M, negatives, len(pts))
    with sdp.lock:
        sdp.intercepts.value, sdp.slopes.value = np.asarray(inter, dtype=float), np.asarray(slopes, dtype=float)
        sdp.chord_a.value, sdp.chord_c.value = float(chord_a), float(chord_c)
        return _solved(sdp.problem, negatives, solver, unit)


def _solved(prob: cp.Problem, negatives: int, solver: str, unit: float) -> SDPBound:
    status = solve_status(prob, solver)
    if status.startswith(SOLVER_ERROR):
        return SDPBound(negatives, float("nan"), KKTReport(np.inf, np.inf, np.inf, np.nan, False, status), True, SOLVER_ERROR)
    if prob.status in ("unbounded", "unbounded_inaccurate"):
        return SDPBound(negatives, -np.inf, KKTReport(0, 0, 0, 0, True, prob.status), True, "relaxation unbounded below: no bound")
    kkt = check_kkt(prob, scale=1.0)
    if prob.status not in ("optimal", "optimal_inaccurate") or prob.value is None or not np.isfinite(prob.value):
        # e.g. 'infeasible': the relaxation is feasible by construction (any u u^T with a frame), so a solver failure
        return SDPBound(negatives, float("nan"), kkt, True, f"solver status {prob.status}: no bound")
    return SDPBound(negatives, float(prob.value) * unit, kkt, True, prob.status)
