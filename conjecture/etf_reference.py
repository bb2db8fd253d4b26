"""The value the conjecture compares against: F at the simplex ETF (best orientation), two independent ways.

Regime (I):  F_ETF = C - b^2 M / (kappa(1) + (M-1) kappa(rho0)),  b = abar c_d, rho0 = -1/(M-1)
             (closed form, theory.etf_values), checked against F at the exact ETF coordinates in ball
             arithmetic (certified arb_mat.solve of K beta = b at dps + 20 digits; its radius is reported).
Regime (II): b_j = a0 + mu1 <m, v_j> (a0 = abar mu_0^2, mu1 = mu_1^2); at the ETF sum_j v_j = 0 and
             K^{-1} = I/(kappa(1) - kappa(rho0)) on 1^perp, so
             F_ETF(orientation) = C - a0^2 M / (kappa(1) + (M-1) kappa(rho0)) - mu1^2 ||P m||^2 M / ((M-1)(kappa(1) - kappa(rho0))),
             P the projection on the ETF's span; the best orientation puts m in the span (||P m|| = ||m||).
             Checked against F at the exact ETF with m in its span, in ball arithmetic.
Regime (III): no closed form; the best of sampled orientations (an upper estimate of the ETF family minimum).

References: docs/model.md §4 and §5; theory.etf_values (regime I closed form).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
from flint import arb_mat

from conjecture.hessian import value_and_gradient_mp
from numerics.arb_linalg import (SingularError, certified_digits, column, from_mpf, kernel_matrix_arb, precision,
                                 radius_str, simplex_etf_arb, solve, to_mpf, total)
from theory.etf import simplex_etf
from theory.etf_values import etf_closed_form_mp
from theory.kernels import dual_kernel
from theory.regimes import sphere_average_value
from theory.summaries import mu_sq_mp


@dataclass(frozen=True)
class ETFReference:
    """F at the ETF: closed form and independent evaluation (decimal strings at ``dps``), digits agreeing.

    ``direct_ball`` is the certified enclosure of the direct evaluation (arb; '' when K was singular and the
    mpmath pseudo-inverse was used), ``direct_radius`` its radius and ``certified_digits`` the digits it guarantees."""

    closed_form: str
    direct: str
    digits_agree: float
    dps: int
    method: str
    direct_ball: str = ""
    direct_radius: str = ""
    certified_digits: float | None = None

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


def exact_etf_rows(M: int, d: int, dps: int):
    """The exact simplex ETF rows (Helmert basis, sqrt of rationals: numerics.arb_linalg.simplex_etf_arb, the
    rows of theory.etf.simplex_etf_exact) rounded to ``dps`` digits as mpf lists."""
    with precision(dps + 10):
        V = simplex_etf_arb(M, d)
        return [[to_mpf(V[j, k], dps) for k in range(d)] for j in range(M)]


# C and b enter the ball computation from mpmath values at ``work`` digits (10 or more guard digits behind
# them): they are enclosed with this relative radius.
INPUT_RTOL_DIGITS = 5


def etf_reference(summary, regime: str, M: int, d: int, dps: int = 30) -> ETFReference:
    """F at the simplex ETF for regimes I and II: closed form (mpmath) and direct evaluation (arb balls)."""
    act = summary.activation
    kern = dual_kernel(act)
    work = dps + 20
    with mpmath.workdps(work):
        rho0 = mpmath.mpf(-1) / (M - 1)
        k1, kr = kern.mp(1, work), kern.mp(rho0, work)
        lam = k1 + (M - 1) * kr
        if regime == "I":
            cf = etf_closed_form_mp(act, M, d, dps=work)
            # theory's closed form at abar = 1 (F is quadratic in abar); an exactly zero loss stays exactly zero
            closed = mpmath.mpf(summary.abar) ** 2 * cf.c_d * cf.relative_loss
            method = ("theory.etf_values closed form (mpmath) vs the exact ETF in ball arithmetic "
                      "(certified arb_mat.solve)")
        else:
            mu0, mu1 = mu_sq_mp(act, 0, work), mu_sq_mp(act, 1, work)
            m2 = mpmath.fsum(mpmath.mpf(x) ** 2 for x in summary.tilt)
            a0 = mpmath.mpf(summary.abar) * mu0
            closed = summary.constant_mp(work) - a0 * a0 * M / lam - mu1 * mu1 * m2 * M / ((M - 1) * (k1 - kr))
            method = ("closed form (best orientation, m in the span) vs the exact ETF with m in its span, "
                      "ball arithmetic (certified arb_mat.solve)")
    ball = _direct_arb(summary, regime, M, d, work)
    if ball is None:  # K not proven invertible (antipodal neurons of an even activation): mpmath pseudo-inverse
        rows = exact_etf_rows(M, d, work)
        if regime == "II":
            rows = _rotate_into(rows, [mpmath.mpf(x) for x in summary.tilt], work)
        direct, _, _ = value_and_gradient_mp(rows, summary, work)
        method = method.replace("certified arb_mat.solve", "K singular: mpmath pseudo-inverse")
        extra = {}
    else:
        direct = to_mpf(ball, work)
        extra = {"direct_ball": ball.str(dps, radius=True), "direct_radius": radius_str(ball),
                 "certified_digits": min(certified_digits(ball), float(work))}
    with mpmath.workdps(work):
        return ETFReference(mpmath.nstr(closed, dps, strip_zeros=False), mpmath.nstr(direct, dps, strip_zeros=False),
                            min(_digits(closed, direct), float(work)), dps, method, **extra)


def _direct_arb(summary, regime: str, M: int, d: int, work: int):
    """F = C - b^T K^{-1} b at the exact ETF (regime II: reflected so that m lies in its span) as an arb ball;
    None when arb cannot prove K invertible. kappa: numerics.kappa's hand-written form (not theory.kernels)."""
    rtol = mpmath.mpf(10) ** (-(work - INPUT_RTOL_DIGITS))
    with precision(work):
        V = simplex_etf_arb(M, d)
        if regime == "II":
            V = _reflect_arb(V, summary.tilt)
            if V is None:
                return None
        K = kernel_matrix_arb(summary.activation, V * V.transpose())
        if regime == "I":
            # b = abar c_d and C = abar^2 c_d with c_d recomputed at ``work`` digits (the summary keeps 40)
            c_d = from_mpf(sphere_average_value(summary.activation, d, work), rtol)
            abar = from_mpf(mpmath.mpf(summary.abar))
            b, const = [abar * c_d] * M, abar * abar * c_d
        else:
            a0 = from_mpf(mpmath.mpf(summary.abar)) * from_mpf(mu_sq_mp(summary.activation, 0, work), rtol)
            mu1 = from_mpf(mu_sq_mp(summary.activation, 1, work), rtol)
            m = [from_mpf(mpmath.mpf(x)) for x in summary.tilt]
            b = [a0 + mu1 * total(m[i] * V[j, i] for i in range(d)) for j in range(M)]
            const = from_mpf(summary.constant_mp(work), rtol)
        try:
            x = solve(K, column(b))
        except SingularError:
            return None
        return const - total(b[j] * x[j, 0] for j in range(M))


def _reflect_arb(V, tilt):
    """The Householder reflection of ``_rotate_into`` in arb (None if it cannot be formed at this precision)."""
    M, d = V.nrows(), V.ncols()
    m = [from_mpf(mpmath.mpf(x)) for x in tilt]
    nm = total(x * x for x in m).sqrt()
    if nm.is_zero():
        return V
    w = [V[0, i] - m[i] / nm for i in range(d)]
    nw2 = total(x * x for x in w)
    if nw2.is_zero():
        return V
    if nw2.contains(0):
        return None
    out = arb_mat(M, d)
    for j in range(M):
        c = 2 * total(V[j, i] * w[i] for i in range(d)) / nw2
        for i in range(d):
            out[j, i] = V[j, i] - c * w[i]
    return out


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
