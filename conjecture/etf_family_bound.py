"""A certified lower bound on min over ETF orientations of F (regime III, exact law), by branch-and-bound.

F(R) = C - M bbar(R)^2 / lambda - |b_R - bbar(R) 1|^2 / (kappa(1) - kappa(rho0)) on a chart of
``conjecture.etf_orientations``; every box of the chart is bounded below with ball arithmetic
(``conjecture.box_search``). The numerical minimum over the chart (multi-start L-BFGS-B in the chart
parameters, float64) locates the orientation and bounds the certified value from above: the ETF family's
minimum lies in [threshold, numeric minimum] once the search is certified.

References: derived here (docs/regime3.md, "certificates").

Examples
--------
>>> from theory.exact_anisotropic import exact_summary
>>> s = exact_summary("relu", 2, "rademacher")
>>> low = family_minimum(s, 3, 2, np.random.default_rng(0), starts=4)
>>> bool(abs(low.value - 0.002236246533466) < 1e-12)       # the best ETF orientation's F (abar = 1)
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb
from scipy.optimize import minimize

from conjecture.ball_objective import BallObjective, ball_objective
from conjecture.box_search import BoxSearchResult, box_search
from conjecture.etf_orientations import OrientationFamily, orientation_family
from conjecture.interval import interval_kernel, working_bits
from theory.errors import InputError
from theory.kernels import dual_kernel

# Working precision of the orientation branch-and-bound (margins ~1e-6 relative, radii ~1e-18 at 64 bits).
SEARCH_BITS = 64


@dataclass(frozen=True)
class FamilyMinimum:
    """The numerical minimum of F over a chart: value, parameters, rows, and the starts used."""

    value: float
    theta: tuple
    rows: tuple
    starts: int
    family: str

    def as_dict(self) -> dict:
        return {"value": self.value, "theta": list(self.theta), "rows": [list(r) for r in self.rows],
                "starts": self.starts, "family": self.family}


@dataclass(frozen=True)
class FamilyLowerBound:
    """min over ETF orientations of F >= threshold (``certified``), with the search's counts and time."""

    M: int
    d: int
    law: str
    family: str
    reduction: str
    threshold: str
    numeric: FamilyMinimum
    search: BoxSearchResult
    certified: bool
    seconds: float

    def as_dict(self) -> dict:
        return {"M": self.M, "d": self.d, "law": self.law, "family": self.family, "reduction": self.reduction,
                "threshold": self.threshold, "numeric_minimum": self.numeric.as_dict(),
                "search": self.search.as_dict(), "certified": self.certified, "seconds": round(self.seconds, 3)}


def etf_constants(summary, M: int):
    """(kappa(1), kappa(rho0), lambda) in float64 for the ETF's kernel matrix."""
    kern = dual_kernel(summary.activation)
    k1 = float(kern.numpy(np.array(1.0)))
    k0 = float(kern.numpy(np.array(-1.0 / (M - 1))))
    return k1, k0, k1 + (M - 1) * k0


def family_value(summary, M: int, rows: np.ndarray) -> np.ndarray:
    """F = C - b^T K_ETF^{-1} b at ETF frames (..., M, d) (float64)."""
    k1, k0, lam = etf_constants(summary, M)
    b = summary.b(rows)
    bbar = b.mean(axis=-1)
    return summary.constant() - M * bbar**2 / lam - np.sum((b - bbar[..., None]) ** 2, axis=-1) / (k1 - k0)


def family_minimum(summary, M: int, d: int, rng: np.random.Generator, *, starts: int = 16,
                   family: OrientationFamily | None = None) -> FamilyMinimum:
    """Multi-start L-BFGS-B over the chart's parameter box (starts drawn in the symmetry-reduced domain)."""
    fam = family or orientation_family(M, d)
    if fam is None:
        raise InputError("M", f"no ETF orientation chart for (M, d) = ({M}, {d})", got=M)
    lo = np.array([float(x) for x in fam.boxes[0][0]])
    hi = np.array([float(x) for x in fam.boxes[0][1]])

    def f(t):
        return float(family_value(summary, M, fam.rows_float(t)[None])[0])

    best = None
    for t0 in fam.sample(rng, starts):
        res = minimize(f, t0, method="L-BFGS-B", bounds=list(zip(lo, hi)), options={"ftol": 1e-15, "gtol": 1e-12})
        if best is None or res.fun < best.fun:
            best = res
    rows = fam.rows_float(best.x)
    return FamilyMinimum(float(best.fun), tuple(float(x) for x in best.x), tuple(tuple(float(v) for v in r) for r in rows),
                         starts, fam.name)


def family_pair(obj: BallObjective, fam: OrientationFamily):
    """params (Pairs) -> F as a Pair, F = C - M bbar^2/lambda - |b - bbar|^2/(kappa(1) - kappa(rho0))."""
    M = fam.M
    kap = interval_kernel(obj.activation).value
    k1, k0 = kap(arb(1)), kap(arb(-1) / (M - 1))
    lam = k1 + (M - 1) * k0
    C = obj.constant()

    def F(ps):
        bs = [obj.b_pair(v, numerator=num, factor=fac) for v, num, fac in fam.rows(ps)]
        total = bs[0]
        for b in bs[1:]:
            total = total + b
        bbar = total.scale(1 / arb(M))
        dev = None
        for b in bs:
            e = b - bbar
            dev = e * e if dev is None else dev + e * e
        return (bbar * bbar).scale(-M / lam) + dev.scale(-1 / (k1 - k0)) + C

    return F


def certify_family_lower(summary, M: int, d: int, threshold, *, rng: np.random.Generator | None = None,
                         numeric: FamilyMinimum | None = None, max_boxes: int = 200_000,
                         max_seconds: float = 600.0, order: str = "depth") -> FamilyLowerBound:
    """Prove min over ETF orientations of F > threshold on the (M, d) chart (see the module docstring)."""
    t0 = time.perf_counter()
    fam = orientation_family(M, d)
    if fam is None:
        raise InputError("M", f"no ETF orientation chart for (M, d) = ({M}, {d}); charts: (3, 2), (3, 3), (4, 3), "
                              "(4, 4)", got=M)
    if numeric is None:
        numeric = family_minimum(summary, M, d, rng or np.random.default_rng(0), family=fam)
    with working_bits(SEARCH_BITS):
        obj = ball_objective(summary, d)
        fn = family_pair(obj, fam)
    res = box_search(fn, list(fam.boxes), Fraction(threshold), sense="min", keep=fam.keep, max_boxes=max_boxes,
                     max_seconds=max_seconds, bits=SEARCH_BITS, order=order, domain_volume=fam.domain_volume)
    return FamilyLowerBound(M, d, summary.law, fam.name, fam.reduction, str(Fraction(threshold)), numeric, res,
                            res.certified, time.perf_counter() - t0)
