"""Regime (II): how the optimal frame tilts towards m as ||m|| grows, and where the optimum changes type.

Two families compete (abar = 1; everything depends on ||m|| / abar only, since F scales as abar^2):
  A  the equal-tilt ETF: v_j = cos(t) m^ + sin(t) s_j, s_j a simplex ETF in m^perp; F_A(r) = min_t of the closed
     form theory.etf_values.tilted_value (golden section in mpmath);
  B  frames containing an antipodal pair: relu(t) - relu(-t) = t, so the pair's free linear coefficient absorbs the
     linear part <m, x> exactly and F_B does not depend on r = ||m||. F_B is the polished (mpmath Newton) value of
     the best type-B frame found by free search at r = 2, checked to be the same at r = 3.
The type change is the root r* of F_A(r) = F_B, located by bisection with both values at ``dps`` digits; free
multi-start searches on both sides of r* check that the global optimum is the predicted family.

References: docs/model.md §4 (II); theory.etf_values (tilted family).
"""

from __future__ import annotations

import time

import mpmath
import numpy as np

from conjecture import frames as fr
from conjecture.cost import ReducedCost
from conjecture.polish import polish
from conjecture.refine import refine
from theory.etf_values import best_tilt
from theory.regimes import regime_summary

# Two rows are an antipodal pair when <v_i, v_j> < -1 + PAIR_TOL (the refine tolerance leaves ~1e-6 slack).
PAIR_TOL = 1e-5


def _summary(M: int, d: int, r: float, activation: str):
    m = np.zeros(d)
    m[0] = r
    return regime_summary("II", activation, d, abar=1.0, tilt=m)


def _has_pair(x: np.ndarray) -> bool:
    G = x @ x.T
    return bool(np.any(G[np.triu_indices(len(G), 1)] < -1 + PAIR_TOL))


def free_search(M: int, d: int, r: float, activation: str, rng: np.random.Generator, starts: int) -> dict:
    """Best frame from Haar-random and tilted-ETF starts at ||m|| = r: value, type, cosines with m^."""
    s = _summary(M, d, r, activation)
    x0 = np.concatenate([fr.random_frames(rng, starts, M, d), np.array([fr.tilted_etf(M, d, t) for t in np.linspace(0.1, 1.4, 6)])])
    res = refine(ReducedCost(s), x0, max_iter=500)
    x = res.points[res.best]
    return {"r": r, "value": float(res.values[res.best]), "antipodal_pair": _has_pair(x),
            "cosines_with_m": np.round(np.sort(x[:, 0]), 6).tolist(), "beta": np.round(res.betas[res.best], 6).tolist(), "point": x}


def tilt_study(M: int = 3, *, activation: str = "relu", dps: int = 30, seed: int = 0, starts: int = 64,
               r_grid=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), bisect_tol: float = 1e-9) -> dict:
    """Tilt angle of family A against r, F_B, the threshold r* (bisection) and free-search checks.

    Examples
    --------
    >>> out = tilt_study(3, dps=15, starts=8, r_grid=(0.2,), bisect_tol=1e-3)
    >>> 0.5 < out["threshold"] < 1.0 and out["checks_agree"]
    True
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    d = M + 1
    # F_B from the type-B optimum at r = 2, polished; the same at r = 3 (independence of r)
    fb = {}
    for r in (2.0, 3.0):
        fs = free_search(M, d, r, activation, rng, starts)
        pol = polish(fs["point"], _summary(M, d, r, activation), dps=dps + 5)
        fb[r] = {"value": pol.value, "antipodal_pair": _has_pair(pol.point), "converged": pol.converged,
                 "cosines_with_m": np.round(np.sort(pol.point[:, 0]), 8).tolist()}
    with mpmath.workdps(dps + 10):
        FB = mpmath.mpf(fb[2.0]["value"])
        fb_digits = float(-mpmath.log10(abs(FB - mpmath.mpf(fb[3.0]["value"])) / FB)) if FB != mpmath.mpf(fb[3.0]["value"]) else float(dps + 5)

    def FA(r):
        return best_tilt(activation, M, 1.0, r, dps=dps, grid=80)

    table = []
    for r in r_grid:
        a = FA(r)
        table.append({"r": r, "F_A": mpmath.nstr(a.value, 15), "tilt_angle_from_m_deg": float(mpmath.degrees(a.angle)),
                      "cos_with_m": float(mpmath.cos(a.angle)), "F_A_below_F_B": bool(a.value < FB)})
    # bracket: F_A(0) < F_B; grow r until F_A > F_B
    lo, hi = 0.0, 0.5
    while FA(hi).value < FB:
        lo, hi = hi, 2 * hi
        if hi > 64:
            raise RuntimeError("no type change found for ||m|| <= 64")
    steps = 0
    while hi - lo > bisect_tol:
        mid = (lo + hi) / 2
        if FA(mid).value < FB:
            lo = mid
        else:
            hi = mid
        steps += 1
    r_star = (lo + hi) / 2
    a_star = FA(r_star)
    checks = []
    for r in (0.9 * r_star, 1.1 * r_star):
        fs = free_search(M, d, r, activation, rng, starts)
        predicted = min(float(FA(r).value), float(FB))
        checks.append({"r": r, "free_search_value": fs["value"], "predicted_min(F_A, F_B)": predicted,
                       "antipodal_pair": fs["antipodal_pair"], "expected_pair": r > r_star,
                       "agree": abs(fs["value"] - predicted) <= 1e-9 and fs["antipodal_pair"] == (r > r_star)})
    return {"M": M, "d": d, "activation": activation, "dps": dps, "seed": seed,
            "F_B": mpmath.nstr(FB, dps), "F_B_r2_vs_r3_digits": fb_digits, "F_B_frames": fb,
            "tilt_table": table, "threshold": r_star, "threshold_bracket": [lo, hi], "bisection_steps": steps,
            "tilt_angle_at_threshold_deg": float(mpmath.degrees(a_star.angle)),
            "checks": checks, "checks_agree": all(c["agree"] for c in checks),
            "seconds": round(time.perf_counter() - t0, 2)}
