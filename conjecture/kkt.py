"""Optimality-condition checks of a solved cvxpy problem, independent of the solver's status string.

For every constraint: primal residual (violation), dual feasibility (sign / PSD of the multiplier) and
complementary slackness (<multiplier, slack>). Tolerances are relative to the data scale.

References: Boyd & Vandenberghe, "Convex Optimization" (2004), sec. 5.5.3 (KKT conditions), sec. 5.9 (SDP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Interior-point solvers stop at relative residuals ~1e-8; 1e-6 relative leaves a margin of 100 for the
# conversion to cvxpy's constraint form while still catching a wrong or truncated solution.
KKT_RTOL = 1e-6


@dataclass(frozen=True)
class KKTReport:
    """Worst primal residual, worst dual infeasibility, worst |complementary slackness|, tolerance, verdict."""

    primal: float
    dual: float
    slackness: float
    tolerance: float
    ok: bool
    note: str


def check_kkt(problem, scale: float = 1.0, rtol: float = KKT_RTOL) -> KKTReport:
    """KKT residuals of a solved problem (cp.Problem after .solve()).

    Examples
    --------
    >>> import cvxpy as cp
    >>> x = cp.Variable(2)
    >>> prob = cp.Problem(cp.Minimize(cp.sum_squares(x - np.array([1.0, -1.0]))), [x >= 0])
    >>> _ = prob.solve(solver="CLARABEL")
    >>> check_kkt(prob).ok
    True
    """
    import cvxpy as cp

    tol = rtol * max(scale, 1.0)
    if problem.status not in ("optimal", "optimal_inaccurate"):
        return KKTReport(np.inf, np.inf, np.inf, tol, False, f"solver status {problem.status}")
    primal = dual = slack = 0.0
    for con in problem.constraints:
        lam = con.dual_value
        if lam is None:
            return KKTReport(np.inf, np.inf, np.inf, tol, False, "missing dual values")
        if isinstance(con, cp.constraints.PSD):
            X = np.asarray(con.expr.value, dtype=float)
            L = np.asarray(lam, dtype=float)
            primal = max(primal, max(0.0, -float(np.linalg.eigvalsh((X + X.T) / 2)[0])))
            dual = max(dual, max(0.0, -float(np.linalg.eigvalsh((L + L.T) / 2)[0])))
            slack = max(slack, abs(float(np.sum(X * L))))
        elif isinstance(con, cp.constraints.Zero) or isinstance(con, cp.constraints.Equality):
            r = np.asarray(con.residual, dtype=float)
            primal = max(primal, float(np.max(np.abs(r))) if r.size else 0.0)
        else:  # Inequality a <= b, stored as expr = a - b <= 0
            v = np.asarray(con.expr.value, dtype=float)
            lam = np.asarray(lam, dtype=float)
            primal = max(primal, float(np.max(np.maximum(v, 0))) if v.size else 0.0)
            dual = max(dual, float(np.max(np.maximum(-lam, 0))) if lam.size else 0.0)
            slack = max(slack, float(np.max(np.abs(lam * v))) if v.size else 0.0)
    ok = primal <= tol and dual <= tol and slack <= tol
    return KKTReport(primal, dual, slack, tol, ok, problem.status)
