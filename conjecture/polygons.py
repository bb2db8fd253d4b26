"""Regime (I), d = 2: best configurations of M neurons in the plane and whether the regular M-gon is optimal.

In d = 2, relu(t) = (t + |t|)/2: a frame acts through its lines (directions mod sign) and its linear part
sum_j beta_j v_j. For odd M the regular M-gon gives M distinct, equally spaced lines with zero linear part; for
even M its vertices come in antipodal pairs (only M/2 lines), which docs/model.md §5 says wastes neurons.
Candidates: the regular M-gon, all sign patterns on the M equally spaced lines (``frames.signed_lines``),
unions of two polygons, and Haar-random starts; all are refined, the best is polished in mpmath.

References: docs/model.md §5 ("Example d = 2").
"""

from __future__ import annotations

import time

import mpmath
import numpy as np

from conjecture import frames as fr
from conjecture.cost import ReducedCost
from conjecture.polish import polish
from conjecture.refine import refine
from conjecture.verdict import SEARCH_RTOL
from theory.regimes import regime_summary


def _angles(x: np.ndarray) -> list[float]:
    th = np.degrees(np.arctan2(x[:, 1], x[:, 0]))
    th = np.sort(np.mod(th - th[0], 360.0))
    return np.round(th, 4).tolist()


def _gaps(x: np.ndarray) -> list[float]:
    a = np.array(_angles(x))
    return np.round(np.diff(np.r_[a, 360.0]), 4).tolist()


def _lines(x: np.ndarray) -> list[float]:
    th = np.mod(np.degrees(np.arctan2(x[:, 1], x[:, 0])), 180.0)
    th = np.sort(np.mod(th - th.min(), 180.0))
    return np.round(th, 4).tolist()


def polygon_study(Ms=range(3, 10), *, activation: str = "relu", random_starts: int = 256, seed: int = 0, dps: int = 30) -> dict:
    """For each M: best value (structured + random), the regular M-gon's value, both polished to ``dps`` digits.

    Examples
    --------
    >>> out = polygon_study([3], random_starts=8, dps=20)
    >>> out["rows"][0]["polygon_optimal"]
    True
    """
    rng = np.random.default_rng(seed)
    summary = regime_summary("I", activation, 2, abar=1.0)
    cost = ReducedCost(summary)
    C = summary.constant()
    rows = []
    for M in Ms:
        t0 = time.perf_counter()
        fam = fr.structured_frames(M, 2)
        structured = np.concatenate(list(fam.values()))
        rand = fr.random_frames(rng, random_starts, M, 2)
        r_s = refine(cost, structured, max_iter=500)
        r_r = refine(cost, rand, max_iter=500)
        best_struct, best_rand = float(r_s.values.min()), float(r_r.values.min())
        use_struct = best_struct <= best_rand
        res = r_s if use_struct else r_r
        x = res.points[res.best]
        poly = fr.regular_polygon(M, 2)
        pol_best = polish(x, summary, dps=dps)
        pol_poly = polish(poly, summary, dps=dps)
        with mpmath.workdps(dps + 10):
            vb, vp = mpmath.mpf(pol_best.value), mpmath.mpf(pol_poly.value)
            diff = vp - vb
            rel = float(diff / mpmath.mpf(C))
        optimal = rel <= SEARCH_RTOL
        hits_random = int(np.sum(r_r.values <= min(best_struct, best_rand) + SEARCH_RTOL * C))
        rows.append({
            "M": M, "best_value": pol_best.value, "polygon_value": pol_poly.value, "polygon_minus_best_rel": rel,
            "polygon_optimal": bool(optimal), "best_from": "structured" if use_struct else "random",
            "best_structured": best_struct, "best_random": best_rand,
            "random_starts_reaching_best": f"{hits_random}/{random_starts}",
            "best_angles_deg": _angles(pol_best.point), "best_gaps_deg": _gaps(pol_best.point),
            "best_lines_mod_180": _lines(pol_best.point), "best_beta": [float(b) for b in pol_best.beta],
            "best_hessian": {"negative": pol_best.hessian.negative, "zero": pol_best.hessian.zero, "positive": pol_best.hessian.positive},
            "polygon_hessian": {"negative": pol_poly.hessian.negative, "zero": pol_poly.hessian.zero, "positive": pol_poly.hessian.positive},
            "seconds": round(time.perf_counter() - t0, 2),
        })
    return {"activation": activation, "d": 2, "seed": seed, "random_starts": random_starts, "dps": dps, "rows": rows,
            "tolerance_rel": SEARCH_RTOL}
