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

import cvxpy as cp
import numpy as np

from conjecture.solver_call import solve_status
from theory.errors import InputError

# A QP result is accepted when the KKT residuals and the duality gap are below this, relative to
# max(||K||, ||b||^2): interior-point accuracy is ~1e-8, so 1e-6 flags only genuinely wrong answers.
QP_RTOL = 1e-6


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
    """Solve the beta-QP with cvxpy and verify the answer through its KKT conditions and the dual bound.

    ``override`` replaces the solver by a function (K, b) -> (beta, lambda): fault injection for tests.

    Examples
    --------
    >>> K = np.array([[0.5, 0.1], [0.1, 0.5]]); b = np.array([0.2, -0.3])
    >>> res = solve_beta_qp(K, b, 1.0, nonneg=True)
    >>> res.verified, round(res.beta[1], 8)
    (True, 0.0)
    """
    K = np.asarray(K, dtype=float)
    b = np.asarray(b, dtype=float)
    if K.shape != (b.size, b.size) or not np.all(np.isfinite(K)) or not np.all(np.isfinite(b)):
        raise InputError("K", "expected a finite square matrix matching b", got=K.shape)
    M = b.size
    status = "override"
    if override is None:
        beta_v = cp.Variable(M)
        Ksym = cp.psd_wrap((K + K.T) / 2)
        obj = cp.Minimize(C - 2 * b @ beta_v + cp.quad_form(beta_v, Ksym))
        cons = [beta_v >= 0] if nonneg else []
        prob = cp.Problem(obj, cons)
        status = solve_status(prob, solver)
        beta = np.array(beta_v.value, dtype=float) if beta_v.value is not None else np.full(M, np.nan)
        lam = np.array(cons[0].dual_value, dtype=float) if (nonneg and cons[0].dual_value is not None) else np.zeros(M)
    else:
        beta, lam = (np.asarray(x, dtype=float) for x in override(K, b))
    scale = max(float(np.linalg.norm(K, 2)), float(b @ b), 1e-300)
    tol = QP_RTOL * scale
    if not np.all(np.isfinite(beta)) or not np.all(np.isfinite(lam)):
        nan = float("nan")
        return QPResult(nonneg, nan, tuple(beta), tuple(lam), nan, nan, nan, nan, -np.inf, np.inf, tol, False, status)
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
        small = w <= 1e-14 * w[-1]
        dual_bound = float(C - np.sum(coef[~small] ** 2 / w[~small])) if np.all(np.abs(coef[small]) <= 1e-12) else -np.inf
    gap = value - dual_bound
    verified = max(station, pinf, dinf, slack) <= tol and gap <= tol and gap >= -tol
    return QPResult(nonneg, value, tuple(float(x) for x in beta), tuple(float(x) for x in lam), station, pinf, dinf, slack, dual_bound, gap, tol, verified, status)
