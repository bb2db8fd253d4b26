"""A cheap, real sweep cell: the regime-I value 1^T K^{-1} 1 at the simplex ETF, two ways.

    q(M) = 1^T K^{-1} 1 = M / (kappa(1) + (M - 1) kappa(-1/(M-1))),   K_jl = kappa(<v^_j, v^_l>) at the ETF,
    Ltilde*(ETF) = c_d - c_d^2 q(M)   (abar = 1, beta_j = c_d q / M).

Computed (a) from the closed form above and (b) as 1^T K^{-1} 1 by a certified ball-arithmetic solve
(``arb_mat.solve``) with K built in arb from the exact simplex ETF rows (numerics.arb_linalg); the ball's radius
is reported as certified digits. K singular (an even activation at M = 2): 1^T K^+ 1 from mpmath's symmetric
eigendecomposition instead (flint has no certified pseudo-inverse). Both at ``dps`` digits; (c) a float64 check at a randomly rotated ETF drawn
from the cell's seed (F(V) = C - b^T K^+ b via ``theory.objective.optimal_beta``), which Ltilde's rotation invariance must
leave unchanged to float64 accuracy.  Used by the evidence tests (store, resume, Dask, reproduce)
and the ``twolayer etf-sweep`` demo.

References: docs/model.md §4 and §5 (q(2) = 4, q(3) = 4.926126323245372539...).

Examples
--------
>>> r = etf_cell({"activation": "relu", "M": 3, "d": 2, "dps": 25}, seed=0)
>>> r["verdict"], r["values"]["one_K_inv_one"][:20]
('agree', '4.926126323245372539')
"""

from __future__ import annotations

import math

from dataclasses import dataclass

import mpmath
import numpy as np
from flint import arb

from numerics.arb_linalg import (SingularError, certified_digits, column, from_mpf, kernel_matrix_arb, precision,
                                 radius_str, simplex_etf_arb, solve, to_mpf, total)
from theory.activations import get_activation
from theory.errors import InputError
from theory.etf import check_neurons_dim, simplex_etf
from theory.kernels import dual_kernel
from theory.objective import optimal_beta, unit_rows
from theory.regimes import sphere_average_value
from theory.summaries import IsotropicSummary
from numerics.evidence.sweep import register_cell_kind

KIND = "etf-value"
# Closed form and eigen-solve agree to dps minus the digits the solve can lose (log10 cond K <= 3 for
# M <= 40) minus two guard digits; this is also the precision the values are claimed to.
GUARD_DIGITS = 5
# float64 route: about 16 digits less the conditioning of K and the rotation's rounding.
FLOAT64_DIGITS = 11
MAX_DPS = 200


def _check_params(params: dict) -> tuple:
    if not isinstance(params, dict):
        raise InputError("params", "expected a dict with activation, M, d, dps", got=params)
    unknown = set(params) - {"activation", "M", "d", "dps"}
    if unknown:
        raise InputError("params", "unknown keys; valid: activation, M, d, dps", got=sorted(unknown))
    act = get_activation(params.get("activation", "relu"))
    M, d = check_neurons_dim(params.get("M"), params.get("d"))
    dps = params.get("dps", 30)
    if isinstance(dps, bool) or not isinstance(dps, int) or not GUARD_DIGITS + 5 <= dps <= MAX_DPS:
        raise InputError("dps", f"expected an integer from {GUARD_DIGITS + 5} to {MAX_DPS}", got=dps)
    return act, M, d, dps


def etf_cell(params: dict, seed: int) -> dict:
    """q(M) = 1^T K^{-1} 1 and Ltilde* at the simplex ETF (regime I, abar = 1), closed form vs certified solve.

    ``params``: {'activation': name, 'M': int, 'd': int with M <= d + 1, 'dps': digits}.
    Returns {'verdict': 'agree' | 'disagree', 'values': {...decimal strings...}, 'bounds': {...},
    'precision_digits': {...}, 'digits_agreed': float, 'certified': {...}, 'source': ...}.
    """
    act, M, d, dps = _check_params(params)
    kern = dual_kernel(act)
    work = dps + 10
    with mpmath.workdps(work):
        k1 = kern.mp(1, work)
        lam = k1 if M == 1 else k1 + (M - 1) * kern.mp(mpmath.mpf(-1) / (M - 1), work)
        if abs(lam) <= mpmath.mpf(10) ** (-work // 2) * abs(k1):  # a linear activation at M = 2: K = 0 on 1
            raise InputError("activation", "kappa(1) + (M-1) kappa(-1/(M-1)) = 0: K is singular at the ETF "
                                           f"(M = {M})", got=act.name)
        closed = M / lam
    solved = _solve_at_etf(act, M, work)
    with mpmath.workdps(work):
        via_eig = solved.value
        c_d = sphere_average_value(act, d, work)
        lstar = c_d - c_d**2 * closed
        beta = c_d * closed / M
        diff = abs(closed - via_eig)
        agreed = float(-mpmath.log10(diff / abs(closed))) if diff != 0 else float(work)
        tol = mpmath.mpf(10) ** (-(dps - GUARD_DIGITS))
        verdict = "agree" if diff <= tol * abs(closed) else "disagree"
        lo, hi = min(closed, via_eig) - tol * abs(closed), max(closed, via_eig) + tol * abs(closed)
        # the closed form (mpmath, ``work`` digits, error well below 10^-(work-5)) lies in the certified ball
        contains = None
        if solved.ball is not None:
            with precision(work):
                contains = bool(solved.ball.overlaps(from_mpf(closed, mpmath.mpf(10) ** (-(work - 5)))))

    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))  # Haar-distributed rotation
    frame = simplex_etf(M, d) @ Q.T
    summary = IsotropicSummary(act, d, 1.0, c_d)
    # F(V) = C - b^T K^+ b at the rotated frame, in float64 (the value of theory.objective.reduced_objective,
    # computed without its gradient, which is infinite for the step activation at antipodal neurons)
    units, _ = unit_rows(frame)
    rotated = float(summary.constant() - np.sum(optimal_beta(frame, summary) * summary.b(units), axis=-1))

    def s(v) -> str:
        return mpmath.nstr(v, dps, strip_zeros=False)

    return {
        "verdict": verdict,
        "values": {
            "one_K_inv_one": s(closed),
            "one_K_inv_one_eig": s(via_eig),
            "c_d": s(c_d),
            "ltilde_star": s(lstar),
            "beta_star": s(beta),
            "ltilde_star_float64_rotated": rotated,
        },
        "bounds": {"one_K_inv_one": [s(lo), s(hi)]},
        "precision_digits": {
            "one_K_inv_one": dps - GUARD_DIGITS,
            "one_K_inv_one_eig": dps - GUARD_DIGITS,
            "c_d": dps - GUARD_DIGITS,
            "ltilde_star": dps - GUARD_DIGITS,
            "beta_star": dps - GUARD_DIGITS,
            "ltilde_star_float64_rotated": FLOAT64_DIGITS,
        },
        "digits_agreed": round(min(agreed, float(work)), 2),
        "kernel_rank": solved.rank,
        # the solve route's own error statement: a ball from arb (None when K is singular and mpmath's
        # pseudo-inverse was used), its radius and the digits it guarantees, and whether it holds the closed form
        "certified": {"one_K_inv_one_eig": None if solved.ball is None else solved.ball.str(dps, radius=True),
                      "radius": None if solved.ball is None else radius_str(solved.ball),
                      "certified_digits": None if solved.ball is None else min(certified_digits(solved.ball), float(work)),
                      "contains_closed_form": contains, "method": solved.method},
        "rotation_check_digits": _digits(rotated, float(lstar)),
        "source": "docs/model.md §5: q(M) = M/(kappa(1) + (M-1) kappa(-1/(M-1))); "
                  "1^T K^{-1} 1 by a certified arb_mat.solve at the exact ETF in ball arithmetic (mpmath.eigsy "
                  "pseudo-inverse only for a singular K); c_d from its Gamma closed form; "
                  "F(V) = C - b^T K^+ b (theory.objective.optimal_beta) at a seeded Haar rotation",
    }


def _digits(a: float, b: float) -> float:
    if a == b:
        return 16.0
    return round(-math.log10(abs(a - b) / max(abs(b), 1e-300)), 2)


@dataclass(frozen=True)
class ETFSolve:
    """1^T K^+ 1 at the exact ETF: value (mpf), its certified ball (None for the pseudo-inverse), rank of K, method."""

    value: object
    ball: object
    rank: int
    method: str


def _solve_at_etf(act, M: int, work: int) -> ETFSolve:
    """1^T K^{-1} 1 with K built in ball arithmetic from the exact ETF rows (sqrt of rationals), so the solve route
    does not assume the off-diagonal value -1/(M-1) it is checking; kappa is numerics.kappa's hand-written form.

    K singular (antipodal neurons of an even activation, M = 2): arb cannot invert it, and flint has no certified
    pseudo-inverse, so 1^T K^+ 1 comes from mpmath's symmetric eigendecomposition of K's midpoints, with
    eigenvalues below 10^-(work - GUARD_DIGITS) max |lambda| counted as zero.
    """
    with precision(work):
        V = simplex_etf_arb(M, max(M - 1, 1))
        K = kernel_matrix_arb(act, V * V.transpose())
        try:
            x = solve(K, column([arb(1)] * M))
            ball = total(x[i, 0] for i in range(M))
            return ETFSolve(to_mpf(ball, work), ball, M, "arb_mat.solve (certified)")
        except SingularError:
            Kmp = mpmath.matrix([[to_mpf(K[j, l], work) for l in range(M)] for j in range(M)])
    with mpmath.workdps(work):
        evals, evecs = mpmath.eigsy(Kmp)
        cutoff = mpmath.mpf(10) ** (-(work - GUARD_DIGITS)) * max(abs(e) for e in evals)
        kept = [i for i in range(M) if evals[i] > cutoff]
        via = mpmath.fsum(mpmath.fsum(evecs[r, i] for r in range(M)) ** 2 / evals[i] for i in kept)
    return ETFSolve(via, None, len(kept), "mpmath.eigsy pseudo-inverse (K singular)")


register_cell_kind(KIND, etf_cell)
