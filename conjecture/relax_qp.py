"""The beta-QP for a fixed frame: min_beta Ltilde(beta, V) = C - 2 b^T beta + beta^T K beta, beta free or beta >= 0.

Validity is checked, not trusted: the KKT conditions (stationarity 2 K beta - 2 b - lambda = 0, lambda >= 0,
beta >= 0, lambda_j beta_j = 0) are recomputed from the returned (beta, lambda), and the Lagrangian dual value
    g(lambda) = C - (b + lambda/2)^T K^{-1} (b + lambda/2)    (lambda >= 0 clipped)
is a lower bound on the constrained minimum for ANY lambda >= 0 (weak duality), so primal - g is a verified gap.

References: Boyd & Vandenberghe (2004), sec. 5.2 (Lagrange dual), 5.5.3 (KKT); docs/model.md §4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from conjecture.solver_call import solve_status
from theory.errors import InputError

# A QP result is accepted when the KKT residuals and the duality gap are below this, relative to
# max(||K||, ||b||^2): interior-point accuracy is ~1e-8, so 1e-6 flags only genuinely wrong answers.
QP_RTOL = 1e-6
# Eigenvalues of K below this fraction of the largest count as zero when the free QP is solved in closed form
# (float64 eigenvalues carry an absolute error ~1e-16 ||K||; 1e-14 leaves a margin of 100).
SINGULAR_RCOND = 1e-14


@dataclass(frozen=True)
class QPResult:
    """Primal value and beta, multiplier lambda, KKT residuals, verified dual bound and gap, acceptance."""

    nonneg: bool
    value: float
    beta: tuple[float, ...]
    multiplier: tuple[float, ...]
    stationarity: float
    primal_infeas: float
    dual_infeas: float
    slackness: float
    dual_bound: float
    gap: float
    tolerance: float
    verified: bool
    status: str


def solve_beta_qp(K: np.ndarray, b: np.ndarray, C: float, *, nonneg: bool, solver: str = "CLARABEL",
                  override: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None) -> QPResult:
    """Solve the beta-QP and verify the answer through its KKT conditions and the dual bound.

    beta >= 0: cvxpy with ``solver``; when that answer fails the check, one active-set polish (solve the
    stationarity equations on the support the solver found) is tried and kept only if IT passes the check.
    beta free: no solver is needed (SCS, for one, refuses a problem without constraints): the KKT system is the
    linear system K beta = b, solved by an eigendecomposition with one step of iterative refinement, and the
    answer is checked by the same stationarity residual and dual bound. A K that is singular with b outside its
    range (the QP is unbounded below) leaves a large residual and the result is not verified.
    ``override`` replaces the solver by a function (K, b) -> (beta, lambda): fault injection for tests (never polished).

    Examples
    --------
    >>> K = np.array([[0.5, 0.1], [0.1, 0.5]]); b = np.array([0.2, -0.3])
    >>> res = solve_beta_qp(K, b, 1.0, nonneg=True)
    >>> res.verified, round(res.beta[1], 8)
    (True, 0.0)
    >>> free = solve_beta_qp(K, b, 1.0, nonneg=False, solver="SCS")
    >>> free.verified, free.status, [round(x, 10) for x in free.beta]
    (True, 'optimal (closed form: K beta = b)', [0.5416666667, -0.7083333333])
    """
    K = np.asarray(K, dtype=float)
    b = np.asarray(b, dtype=float)
    if K.ndim != 2 or K.shape != (b.size, b.size) or b.size == 0 or not np.all(np.isfinite(K)) or not np.all(np.isfinite(b)):
        raise InputError("K", "expected a finite nonempty square matrix matching b", got=K.shape)
    M = b.size
    if override is not None:
        beta, lam = (np.asarray(x, dtype=float) for x in override(K, b))
        return _checked(K, b, C, beta, lam, nonneg, "override")
    if not nonneg:
        beta, status = _stationary_point(K, b)
        return _checked(K, b, C, beta, np.zeros(M), nonneg, status)
    import cvxpy as cp

    beta_v = cp.Variable(M)
    Ksym = cp.psd_wrap((K + K.T) / 2)
    cons = [beta_v >= 0]
    prob = cp.Problem(cp.Minimize(C - 2 * b @ beta_v + cp.quad_form(beta_v, Ksym)), cons)
    status = solve_status(prob, solver)
    beta = np.array(beta_v.value, dtype=float) if beta_v.value is not None else np.full(M, np.nan)
    lam = np.array(cons[0].dual_value, dtype=float) if cons[0].dual_value is not None else np.zeros(M)
    if beta.shape != (M,) or lam.shape != (M,):
        beta, lam = np.full(M, np.nan), np.zeros(M)
    raw = _checked(K, b, C, beta, lam, nonneg, status)
    if raw.verified or not np.all(np.isfinite(beta)) or not np.all(np.isfinite(lam)):
        return raw
    polished = _polish_active_set(K, b, beta, lam)
    if polished is None:
        return raw
    again = _checked(K, b, C, polished[0], polished[1], nonneg, f"{status}; active-set polished")
    return again if again.verified else raw


def _stationary_point(K: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, str]:
    """beta with K beta = b (stationarity of the free QP), via eigh and one refinement step; and a status."""
    Ks = (K + K.T) / 2
    w, Q = np.linalg.eigh(Ks)
    top = float(np.max(np.abs(w))) if w.size else 0.0
    if top == 0.0:
        return np.zeros(b.size) if not np.any(b) else np.full(b.size, np.nan), "K = 0: unbounded below unless b = 0"
    keep = w > SINGULAR_RCOND * top
    if np.any(w < -SINGULAR_RCOND * top):
        status = "K is not positive semidefinite: the free QP is unbounded below"
    elif np.all(keep):
        status = "optimal (closed form: K beta = b)"
    else:
        status = "K singular: minimum-norm stationary point (unbounded below unless b lies in range(K))"

    def apply_inverse(r):
        coef = Q.T @ r
        return Q[:, keep] @ (coef[keep] / w[keep])

    beta = apply_inverse(b)
    beta = beta + apply_inverse(b - Ks @ beta)  # one step of iterative refinement
    return beta, status


def _polish_active_set(K: np.ndarray, b: np.ndarray, beta: np.ndarray, lam: np.ndarray):
    """(beta, lambda) solving the KKT equations exactly on the solver's support, or None.

    The support F holds the j whose beta_j outweighs its multiplier (2 K_jj beta_j > lambda_j, both in the units
    of the stationarity equation); then K_FF beta_F = b_F, beta_j = 0 off F, lambda = 2 K beta - 2 b (zero on F).
    The caller accepts the result only if the full KKT check passes.
    """
    Ks = (K + K.T) / 2
    free = 2 * np.diag(Ks) * beta > lam
    out = np.zeros(b.size)
    if np.any(free):
        try:
            sub = np.linalg.solve(Ks[np.ix_(free, free)], b[free])
        except np.linalg.LinAlgError:
            return None
        sub = sub + np.linalg.lstsq(Ks[np.ix_(free, free)], b[free] - Ks[np.ix_(free, free)] @ sub, rcond=None)[0]
        out[free] = sub
    mult = 2 * Ks @ out - 2 * b
    mult[free] = 0.0
    if not (np.all(np.isfinite(out)) and np.all(np.isfinite(mult))):
        return None
    return out, mult


def _checked(K: np.ndarray, b: np.ndarray, C: float, beta: np.ndarray, lam: np.ndarray, nonneg: bool, status: str) -> QPResult:
    """Recompute the KKT residuals and the weak-duality bound of (beta, lambda); never trusts ``status``."""
    M = b.size
    scale = max(float(np.linalg.norm(K, 2)), float(b @ b), 1e-300)
    tol = QP_RTOL * scale
    if beta.shape != (M,) or lam.shape != (M,) or not np.all(np.isfinite(beta)) or not np.all(np.isfinite(lam)):
        nan = float("nan")
        beta = np.full(M, np.nan) if beta.shape != (M,) else beta
        lam = np.zeros(M) if lam.shape != (M,) else lam
        return QPResult(nonneg, nan, tuple(float(x) for x in beta), tuple(float(x) for x in lam), nan, nan, nan, nan,
                        -np.inf, np.inf, tol, False, status)
    # cvxpy's multiplier for beta >= 0 is for the objective as written (2 K beta - 2 b = lambda)
    lam_c = np.maximum(lam, 0.0) if nonneg else np.zeros(M)
    value = float(C - 2 * b @ beta + beta @ K @ beta)
    station = float(np.max(np.abs(2 * K @ beta - 2 * b - lam_c)))
    pinf = float(np.max(np.maximum(-beta, 0))) if nonneg else 0.0
    dinf = float(np.max(np.maximum(-lam, 0))) if nonneg else 0.0
    slack = float(np.max(np.abs(lam_c * beta))) if nonneg else 0.0
    shifted = b + lam_c / 2
    w, Q = np.linalg.eigh((K + K.T) / 2)
    if w[0] > 1e-14 * w[-1]:
        dual_bound = float(C - shifted @ (Q @ ((Q.T @ shifted) / w)))
    else:  # K singular: g(lambda) is finite only if shifted lies in range(K); otherwise no bound
        coef = Q.T @ shifted
        small = w <= 1e-14 * abs(w[-1])
        dual_bound = float(C - np.sum(coef[~small] ** 2 / w[~small])) if np.all(np.abs(coef[small]) <= 1e-12) else -np.inf
    gap = value - dual_bound
    finite = np.isfinite(value) and np.isfinite(gap)
    verified = bool(finite and max(station, pinf, dinf, slack) <= tol and -tol <= gap <= tol)
    return QPResult(nonneg, value, tuple(float(x) for x in beta), tuple(float(x) for x in lam), station, pinf, dinf, slack,
                    dual_bound, gap, tol, verified, status)
