"""A certified global maximum of b(v^) on S^{d-1} for an exact regime III law (ball arithmetic, branch-and-bound).

b is invariant under the hyperoctahedral group B_d (signed permutations: the law of w is), so it suffices to bound
it on the fundamental region v_1 >= v_2 >= ... >= v_d >= 0, written in the chart v^(x) = (1, x) / ||(1, x)|| with
1 >= x_1 >= ... >= x_{d-1} >= 0 (x_i = v_{i+1} / v_1). The candidates are the points fixed by large subgroups,
v*_k = (1, ..., 1, 0, ..., 0) / sqrt(k) (k ones; the diagonal for k = d, e_1 for k = 1), chart corners x*_k.

Proof that b <= b(v*) everywhere:
1. grad b(v*) = 0 exactly: the stabiliser of v*_k in B_d (permutations of the first k and of the last d - k
   coordinates, sign changes of the last d - k) fixes no nonzero tangent vector at v*_k, and the Riemannian gradient
   there is fixed by it; so the chart gradient at x* vanishes too.
2. On a box X0 around x* the chart Hessian of b(v^(x)) is proved negative definite (ball enclosure, rotated
   Gershgorin): b(v^(x)) is concave on the convex X0 with zero gradient at x*, so b <= b(v*) on X0.
3. Every other box of the region is bounded above by b(v*) minus a positive margin (``conjecture.box_search``,
   sense 'max').

References: derived here (docs/regime3.md, "certificates"); Hansen & Walster, "Global Optimization Using Interval
Analysis" (2004).

Examples
--------
>>> cert = certify_b_maximum("relu", 2, "rademacher")
>>> cert.certified, cert.maximiser
(True, 'diagonal (1, 1) / sqrt 2')
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb

from conjecture.ball_jets import Pair
from conjecture.ball_objective import BallObjective, ball_objective
from conjecture.box_search import BoxSearchResult, _sym_matrix, box_search, rotated_lower
from conjecture.interval import working_bits

# Half-widths tried for the concavity box X0 around the maximiser's chart point (largest first).
CONCAVITY_RADII = tuple(Fraction(1, 2**k) for k in range(3, 16))
# Working precision of the branch-and-bound (the margins are ~1e-6 relative; 64 bits leave 1e-19).
SEARCH_BITS = 64
# Precision of the reported maximum b(v*) (a ball of radius ~1e-90).
VALUE_BITS = 320


@dataclass(frozen=True)
class BMaxCertificate:
    """max_{S^{d-1}} b = b(v*), proved (``certified``) by the concavity box and the branch-and-bound."""

    law: str
    activation: str
    dim: int
    maximiser: str
    maximiser_rows: tuple        # one representative v* (floats); its B_d orbit are the maximisers found
    candidates: dict             # b at every candidate v*_k (floats)
    b_max: str                   # ball of b(v*) at VALUE_BITS
    concavity_radius: str | None
    concavity_lambda: float | None
    search: BoxSearchResult | None
    certified: bool
    reason: str
    seconds: float

    def as_dict(self) -> dict:
        return {"law": self.law, "activation": self.activation, "d": self.dim, "maximiser": self.maximiser,
                "maximiser_row": list(self.maximiser_rows), "candidates": self.candidates, "b_max": self.b_max,
                "concavity_radius": self.concavity_radius, "concavity_lambda_max_upper": self.concavity_lambda,
                "search": None if self.search is None else self.search.as_dict(), "certified": self.certified,
                "reason": self.reason, "seconds": round(self.seconds, 3)}


def chart_b(obj: BallObjective, xs: list[Pair]) -> Pair:
    """b(v^(x)), v^(x) = (1, x) / ||(1, x)||, as a Pair."""
    n2 = xs[0] * xs[0]
    for x in xs[1:]:
        n2 = n2 + x * x
    inv = (n2 + 1).sqrt().reciprocal()
    u = [xs[0].constant_like(1)] + list(xs)
    return obj.b_pair([c * inv for c in u], numerator=u, factor=inv)


def _name(k: int, d: int) -> str:
    if k == 1:
        return "axis e_1"
    if k == d:
        return f"diagonal ({', '.join(['1'] * d)}) / sqrt {d}"
    return f"({', '.join(['1'] * k + ['0'] * (d - k))}) / sqrt {k}"


def _in_region(box) -> bool:
    lo, hi = box
    return all(lo[i + 1] <= hi[i] for i in range(len(lo) - 1))


def certify_b_maximum(activation, dim: int, law="rademacher", *, max_boxes: int = 100_000,
                      max_seconds: float = 300.0, candidate: int | None = None) -> BMaxCertificate:
    """Certify the global maximum of b on S^{d-1} (see the module docstring); d = 1 is trivial (b(1) = b(-1)).

    ``candidate`` k tries v*_k instead of the best candidate (a wrong one must fail: the tests use it)."""
    t0 = time.perf_counter()
    obj = ball_objective(activation, dim, law)
    s = obj.summary
    d = dim
    cands = {}
    for k in range(1, d + 1):
        v = np.zeros(d)
        v[:k] = k ** -0.5
        cands[k] = float(s.b(v[None])[0])
    k = max(cands, key=lambda j: cands[j]) if candidate is None else int(candidate)
    vstar = np.zeros(d)
    vstar[:k] = k ** -0.5
    with working_bits(VALUE_BITS):
        bstar_hi = ball_objective(s, d).b([arb(1)] * k + [arb(0)] * (d - k))
    common = dict(law=s.law, activation=s.activation.name, dim=d, maximiser=_name(k, d),
                  maximiser_rows=tuple(float(x) for x in vstar),
                  candidates={_name(j, d): cands[j] for j in cands}, b_max=bstar_hi.str(40, radius=True))
    if d == 1:
        return BMaxCertificate(**common, concavity_radius=None, concavity_lambda=None, search=None, certified=True,
                               reason="d = 1: b(1) = b(-1) by symmetry", seconds=time.perf_counter() - t0)
    xstar = tuple(Fraction(1) if i < k - 1 else Fraction(0) for i in range(d - 1))
    with working_bits(SEARCH_BITS):
        obj64 = ball_objective(s, d)
        bstar = obj64.b([arb(1)] * k + [arb(0)] * (d - k))
        radius, lam_hi = None, None
        for r in CONCAVITY_RADII:
            ra = arb(r.numerator) / r.denominator
            delta = arb(0).union(ra).union(-ra)
            pair = chart_b(obj64, Pair.variables([arb(x.numerator) / x.denominator for x in xstar], [delta] * (d - 1)))
            gc_zero = all(g.contains(0) for g in pair.centre.g)
            if not gc_zero:
                break  # not a critical point: the candidate is wrong (the symmetry argument says it cannot happen)
            lam, _ = rotated_lower(-_sym_matrix(pair))
            if lam is not None and lam > 0:
                radius, lam_hi = r, -float(lam.mid())
                break
    if radius is None:
        return BMaxCertificate(**common, concavity_radius=None, concavity_lambda=None, search=None, certified=False,
                               reason="no box around the candidate with a certified negative definite Hessian",
                               seconds=time.perf_counter() - t0)

    def excluded(box) -> bool:
        lo, hi = box
        return all(xstar[i] - radius <= lo[i] and hi[i] <= xstar[i] + radius for i in range(d - 1))

    start = [(tuple(Fraction(0) for _ in range(d - 1)), tuple(Fraction(1) for _ in range(d - 1)))]
    res = box_search(lambda ps: chart_b(obj64, ps), start, bstar.lower(), sense="max", keep=_in_region,
                     excluded=excluded, max_boxes=max_boxes, max_seconds=max_seconds, bits=SEARCH_BITS)
    why = (f"b <= b(v*) on S^{d - 1}: concave on the box of half-width {radius} around v* (Hessian eigenvalues <= "
           f"{lam_hi:.2e}), below b(v*) on the other {res.closed} boxes" if res.certified else res.reason)
    return BMaxCertificate(**common, concavity_radius=str(radius), concavity_lambda=lam_hi, search=res,
                           certified=res.certified, reason=why, seconds=time.perf_counter() - t0)
