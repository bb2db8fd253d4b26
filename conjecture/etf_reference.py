"""The value the conjecture compares against: F at the simplex ETF (best orientation), two independent ways.

Regime (I):  F_ETF = C - b^2 M / (kappa(1) + (M-1) kappa(rho0)),  b = abar c_d, rho0 = -1/(M-1)
             (closed form, theory.etf_values), checked against F at the exact ETF coordinates in mpmath
             (linear solve K beta = b at dps + 20 digits).
Regime (II): b_j = a0 + mu1 <m, v_j> (a0 = abar mu_0^2, mu1 = mu_1^2); at the ETF sum_j v_j = 0 and
             K^{-1} = I/(kappa(1) - kappa(rho0)) on 1^perp, so
             F_ETF(orientation) = C - a0^2 M / (kappa(1) + (M-1) kappa(rho0)) - mu1^2 ||P m||^2 M / ((M-1)(kappa(1) - kappa(rho0))),
             P the projection on the ETF's span; the best orientation puts m in the span (||P m|| = ||m||).
             Checked against F at the exact ETF with m in its span, in mpmath.
Regime (III): no closed form; the best of sampled orientations (an upper estimate of the ETF family minimum).

References: docs/model.md §4 and §5; theory.etf_values (regime I closed form).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from conjecture.hessian import value_and_gradient_mp
from theory.etf import simplex_etf, simplex_etf_exact
from theory.kernels import dual_kernel


@dataclass(frozen=True)
class ETFReference:
    """F at the ETF: closed form and independent evaluation (decimal strings at ``dps``), digits agreeing."""

    closed_form: str
    direct: str
    digits_agree: float
    dps: int
    method: str

    @property
    def value(self) -> float:
        return float(self.closed_form)


def _digits(a, b) -> float:
    diff = abs(a - b)
    if diff == 0:
        return float("inf")
    if a == 0:  # F_ETF = 0 exactly (e.g. M = 2, d = 1): absolute digits
        return float(-mpmath.log10(diff))
    return float(-mpmath.log10(diff / abs(a)))


def exact_etf_rows(M: int, d: int, dps: int, rotate_first_axis_into_span: bool = False):
    """The exact simplex ETF rows (theory.etf.simplex_etf_exact) evaluated to ``dps`` digits as mpf lists."""
    V = simplex_etf_exact(M, d)
    with mpmath.workdps(dps):
        return [[mpmath.mpf(str(V[j, k].evalf(dps + 5))) for k in range(d)] for j in range(M)]


def etf_reference(summary, regime: str, M: int, d: int, dps: int = 30) -> ETFReference:
    """F at the simplex ETF for regimes I and II, closed form and direct evaluation."""
    act = summary.activation
    kern = dual_kernel(act)
    work = dps + 20
    with mpmath.workdps(work):
        rho0 = mpmath.mpf(-1) / (M - 1)
        k1, kr = kern.mp(1, work), kern.mp(rho0, work)
        lam = k1 + (M - 1) * kr
        if regime == "I":
            from theory.etf_values import etf_values

            ev = etf_values(act, M, d, dps=work)
            # theory's closed form assumes the law's abar; rescale to this summary's abar (F is quadratic in abar)
            scale = (mpmath.mpf(summary.abar) / ev.abar) ** 2
            closed = ev.ltilde_star * scale
            method = "theory.etf_values closed form vs exact ETF in mpmath (linear solve)"
        else:
            mu0 = mpmath.mpf(act.hermite_coefficient(0).evalf(work + 5) ** 2)
            mu1 = mpmath.mpf(act.hermite_coefficient(1).evalf(work + 5) ** 2)
            m2 = mpmath.fsum(mpmath.mpf(x) ** 2 for x in summary.tilt)
            a0 = mpmath.mpf(summary.abar) * mu0
            closed = summary.constant_mp(work) - a0 * a0 * M / lam - mu1 * mu1 * m2 * M / ((M - 1) * (k1 - kr))
            method = "closed form (best orientation, m in the span) vs exact ETF with m in its span, mpmath"
        rows = exact_etf_rows(M, d, work)
        if regime == "II":
            rows = _rotate_into(rows, [mpmath.mpf(x) for x in summary.tilt], work)
        direct, _, _ = value_and_gradient_mp(rows, summary, work)
        return ETFReference(mpmath.nstr(closed, dps, strip_zeros=False), mpmath.nstr(direct, dps, strip_zeros=False),
                            min(_digits(closed, direct), float(work)), dps, method)


def _rotate_into(rows, m, dps):
    """Rotate the ETF rows so that the direction of m lies in their span (a Householder reflection taking the
    unit vector of sum_j (sign) along the first ETF row to m/||m||); m = 0 leaves the rows unchanged."""
    with mpmath.workdps(dps):
        nm = mpmath.sqrt(mpmath.fsum(x * x for x in m))
        if nm == 0:
            return rows
        target = [x / nm for x in m]
        src = rows[0]  # a unit vector in the span
        w = [a - b for a, b in zip(src, target)]
        nw2 = mpmath.fsum(x * x for x in w)
        if nw2 == 0:
            return rows
        out = []
        for r in rows:
            c = 2 * mpmath.fsum(a * b for a, b in zip(r, w)) / nw2
            out.append([a - c * b for a, b in zip(r, w)])
        return out


def best_etf_orientation(cost, M: int, d: int, rng: np.random.Generator, samples: int = 256, polish_best: int = 4) -> dict:
    """Regime (III): min over rotations R of F(ETF R^T): ``samples`` Haar-random orientations, then BFGS over
    R = expm(A), A skew (d(d-1)/2 parameters, finite-difference gradient) from the ``polish_best`` best ones.

    A local search over SO(d): the result is an upper estimate of the ETF family's minimum (reported as such).
    """
    from scipy.linalg import expm
    from scipy.optimize import minimize

    from conjecture.frames import random_rotation

    base = simplex_etf(M, d)
    rots = [random_rotation(rng, d) for _ in range(samples)] + [np.eye(d)]
    vals = cost.evaluate(np.array([base @ R.T for R in rots])).value
    iu = np.triu_indices(d, 1)

    def frame(a, R0):
        A = np.zeros((d, d))
        A[iu] = a
        return base @ (expm(A - A.T) @ R0).T

    best = (float(np.min(vals)), base @ rots[int(np.argmin(vals))].T)
    for i in np.argsort(vals)[:polish_best]:
        R0 = rots[int(i)]
        res = minimize(lambda a: float(cost.evaluate(frame(a, R0)[None]).value[0]), np.zeros(len(iu[0])), method="BFGS",
                       options={"gtol": 1e-13, "maxiter": 500})
        if res.fun < best[0]:
            best = (float(res.fun), frame(res.x, R0))
    x = best[1]
    return {"value": best[0], "sampled_min": float(np.min(vals)), "samples": samples,
            "row_fourth_moments": np.round(np.sum(x**4, axis=1), 8).tolist(), "frame": np.round(x, 10).tolist(),
            "method": "min over Haar-random ETF orientations, then BFGS over SO(d) (local: an upper estimate)"}
