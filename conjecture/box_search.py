"""Rigorous branch-and-bound: prove min_{x in D} f(x) > T (or max < T) over a union of boxes, with ball arithmetic.

Each box X = c + [-h, h] is bounded below by the best of three enclosures of f on X (``conjecture.ball_jets.Pair``
gives f(c), grad f(c) and an enclosure H(X) of the Hessian on X):

* natural: the lower end of the (centred-form narrowed) enclosure of f(X);
* second order, separable: f(c) + sum_i min_{|t| <= h_i} (g_i t + H_ii t^2 / 2) - sum_{i != k} |H_ik| h_i h_k / 2
  (Taylor's theorem with the Lagrange remainder: f(c + t) = f(c) + g.t + t^T H(xi) t / 2, H(xi) in H(X));
* Newton: if A = Q^T H(X) Q is proved positive definite (Gershgorin, lambda_min(A) >= lam > 0, Q the float
  eigenvectors of the midpoint of H(X)), then f(c + t) >= f(c) + (Q^T g).s + lam |s|^2 / 2 >= f(c) - |Q^T g|^2 / (2 lam)
  with t = Q s. This bound does not degrade at a minimiser inside X.

A box whose lower bound exceeds T is done; a box whose centre value is below T ends the search (T is not a lower
bound); any other box is bisected along the coordinate that contributes most to the bound's slack. Boxes outside
the domain (``keep``) or inside a region proved separately (``excluded``) are dropped. The search records the boxes
evaluated per depth and stops at ``max_boxes`` or ``max_seconds`` (then nothing is claimed).

References: Moore, Kearfott, Cloud, "Introduction to Interval Analysis" (2009), ch. 6 and 9; Hansen & Walster,
"Global Optimization Using Interval Analysis" (2004), ch. 12 (Taylor and Newton bounds).

Examples
--------
>>> from fractions import Fraction as Q
>>> f = lambda x: (x[0] - arb(1) / 3) * (x[0] - arb(1) / 3) + arb(1) / 10       # min 1/10 at x = 1/3
>>> res = box_search(lambda ps: f(ps), [((Q(0),), (Q(1),))], Q(1, 20))
>>> res.certified, res.boxes < 10
(True, True)
>>> box_search(lambda ps: f(ps), [((Q(0),), (Q(1),))], Q(1, 5)).reason
'a box centre has f below the threshold (f(c) = 0.128 < 0.2)'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
from flint import arb, arb_mat, fmpq

from conjecture.ball_jets import Pair, pairs
from conjecture.interval import working_bits

Box = tuple  # (lo: tuple[Fraction], hi: tuple[Fraction])


def _q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


@dataclass(frozen=True)
class BoxSearchResult:
    """Outcome of ``box_search``: ``certified`` means every box of the domain was bounded on the right side of T.

    ``per_depth[k]`` counts the boxes evaluated at bisection depth k; ``lowest_centre`` is the smallest f at a box
    centre seen (min sense; the largest for max), a float for the record; ``bound_kinds`` counts which bound
    closed each box (natural, separable, newton)."""

    certified: bool
    sense: str
    threshold: str
    boxes: int
    closed: int
    per_depth: tuple
    seconds: float
    reason: str
    lowest_centre: float | None
    lowest_centre_at: tuple | None
    bound_kinds: dict
    bits: int
    excluded_boxes: int = 0
    covered_fraction: float = 0.0  # volume of the boxes closed or excluded / the domain's volume (see box_search)
    order: str = "depth"

    def projected_seconds(self) -> float | None:
        """Time to cover the whole domain at the rate so far (seconds / covered fraction): a rough projection."""
        if self.certified or self.covered_fraction <= 0:
            return None
        return self.seconds / self.covered_fraction

    def as_dict(self) -> dict:
        return {"certified": self.certified, "sense": self.sense, "threshold": self.threshold, "boxes": self.boxes,
                "closed": self.closed, "per_depth": list(self.per_depth), "seconds": round(self.seconds, 3),
                "reason": self.reason, "lowest_centre": self.lowest_centre,
                "lowest_centre_at": None if self.lowest_centre_at is None else list(self.lowest_centre_at),
                "bound_kinds": dict(self.bound_kinds), "bits": self.bits, "excluded_boxes": self.excluded_boxes,
                "covered_fraction": self.covered_fraction, "order": self.order,
                "projected_seconds": self.projected_seconds()}


def _sym_matrix(pair: Pair) -> arb_mat:
    p = len(pair.deltas)
    H = arb_mat(p, p)
    for (i, k), v in zip(pairs(p), pair.box.h):
        H[i, k] = v
        H[k, i] = v
    return H


def gershgorin_lower(A: arb_mat) -> arb:
    """A lower bound (an exact point) on lambda_min of every symmetric matrix in the ball matrix A (Gershgorin)."""
    p = A.nrows()
    best = None
    for i in range(p):
        r = arb(0)
        for k in range(p):
            if k != i:
                r += arb(abs(A[i, k]).upper())
        val = arb((arb(A[i, i].lower()) - r).lower())
        if best is None or val < best:
            best = val
    return best


def rotated_lower(H: arb_mat):
    """(lam, Q): lam a lower bound on lambda_min(Q^T H Q), Q the float eigenvectors of mid(H) as an exact arb matrix;
    lam > 0 proves every H in the ball matrix positive definite (congruence preserves inertia). (None, None) when
    H has no finite midpoint."""
    p = H.nrows()
    mid = np.array([[float(H[i, k].mid()) for k in range(p)] for i in range(p)])
    if not np.all(np.isfinite(mid)) or not all(H[i, k].is_finite() for i in range(p) for k in range(p)):
        return None, None
    _, Q = np.linalg.eigh((mid + mid.T) / 2)
    Qa = arb_mat([[float(Q[i, k]) for k in range(p)] for i in range(p)])
    return gershgorin_lower(Qa.transpose() * H * Qa), Qa


def lower_bounds(pair: Pair, halfwidths: Sequence[arb]) -> dict:
    """The three lower bounds of the module docstring (arb lower ends; -inf when not available)."""
    p = len(pair.deltas)
    fc, g = pair.centre.v, pair.centre.g
    out = {"natural": arb(pair.box.v.lower()) if pair.box.v.is_finite() else arb("-inf")}
    if not all(x.is_finite() for x in pair.box.h):
        out["separable"] = out["newton"] = arb("-inf")
        return out
    sep = fc
    for i in range(p):
        gam = arb(abs(g[i]).upper())
        a = arb(pair.box.hess(i, i).lower())
        h = halfwidths[i]
        if a > 0 and gam < a * h:
            sep -= gam * gam / (2 * a)
        else:
            sep += -gam * h + a * h * h / 2
        for k in range(i + 1, p):
            sep -= arb(abs(pair.box.hess(i, k)).upper()) * h * halfwidths[k]
    out["separable"] = arb(sep.lower())
    out["newton"] = arb("-inf")
    lam, Qa = rotated_lower(_sym_matrix(pair))
    if lam is not None:
        if lam > 0:
            gq = Qa.transpose() * arb_mat([[x] for x in g])
            norm2 = sum((gq[i, 0] * gq[i, 0] for i in range(p)), arb(0))
            out["newton"] = arb((fc - norm2 / (2 * lam)).lower())
    return out


def box_search(fn: Callable[[list], Pair], boxes: Sequence[Box], threshold, *, sense: str = "min",
               keep: Callable[[Box], bool] | None = None, excluded: Callable[[Box], bool] | None = None,
               max_boxes: int = 200_000, max_seconds: float = 600.0, bits: int = 64,
               order: str = "depth", domain_volume: float | None = None) -> BoxSearchResult:
    """Prove f > threshold (sense 'min') or f < threshold (sense 'max') on the union of ``boxes``.

    ``fn`` maps the parameter Pairs of a box to f as a Pair; ``keep(box)`` is False for a box outside the domain;
    ``excluded(box)`` True for a box inside a region proved otherwise; ``order`` 'depth' (a stack: little memory)
    or 'breadth' (a queue: level by level, for measuring how the open boxes grow). ``domain_volume``: the volume
    of the domain inside the boxes (default: the boxes' volume less what ``keep`` drops so far), for the covered
    fraction (closed and excluded volume over it) and the projected time. Returns a BoxSearchResult."""
    if sense not in ("min", "max"):
        raise ValueError("sense must be 'min' or 'max'")
    if order not in ("depth", "breadth"):
        raise ValueError("order must be 'depth' or 'breadth'")
    from collections import deque

    def volume(lo, hi) -> float:
        out = 1.0
        for a, b in zip(lo, hi):
            out *= float(b - a)
        return out
    sign = 1 if sense == "min" else -1
    t0 = time.perf_counter()
    with working_bits(bits):
        T = _q(Fraction(threshold)) if not isinstance(threshold, arb) else threshold
        Ts = T if sign == 1 else -T
        stack = deque((tuple(Fraction(x) for x in lo), tuple(Fraction(x) for x in hi), 0) for lo, hi in boxes)
        total_volume = sum(volume(lo, hi) for lo, hi, _ in stack) or 1.0
        covered = dropped = 0.0
        take = stack.pop if order == "depth" else stack.popleft
        per_depth: dict[int, int] = {}
        kinds = {"natural": 0, "separable": 0, "newton": 0}
        count = closed = skipped = 0
        lowest, lowest_at = None, None
        reason = "every box bounded"
        certified = True
        while stack:
            lo, hi, depth = take()
            if keep is not None and not keep((lo, hi)):
                dropped += volume(lo, hi)
                continue
            if excluded is not None and excluded((lo, hi)):
                skipped += 1
                covered += volume(lo, hi)
                continue
            if count >= max_boxes or time.perf_counter() - t0 > max_seconds:
                certified = False
                reason = (f"budget exhausted ({count} boxes, {time.perf_counter() - t0:.1f} s); "
                          f"{len(stack) + 1} boxes left open")
                break
            count += 1
            per_depth[depth] = per_depth.get(depth, 0) + 1
            centre = [(a + b) / 2 for a, b in zip(lo, hi)]
            half = [(b - a) / 2 for a, b in zip(lo, hi)]
            ha = [_q(h) for h in half]
            deltas = [arb(0).union(h).union(-h) for h in ha]
            pair = fn(Pair.variables([_q(c) for c in centre], deltas))
            if sign == -1:
                pair = -pair
            fc = pair.centre.v
            val = float(fc.mid())
            if lowest is None or val < lowest:
                lowest, lowest_at = val, tuple(float(c) for c in centre)
            if fc.upper() < Ts:
                certified = False
                shown = sign * val
                reason = (f"a box centre has f {'below' if sign == 1 else 'above'} the threshold "
                          f"(f(c) = {shown:.3g} {'<' if sign == 1 else '>'} {float(T.mid()):.3g})")
                break
            bounds = lower_bounds(pair, ha)
            name, best = max(bounds.items(), key=lambda kv: float(kv[1].mid()) if kv[1].is_finite() else -np.inf)
            if best.is_finite() and best > Ts:
                kinds[name] += 1
                closed += 1
                covered += volume(lo, hi)
                continue
            # split where the slack is largest: |g_i| h_i + sum_k |H_ik| h_i h_k
            p = len(lo)
            slack = []
            for i in range(p):
                s = abs(float(pair.centre.g[i].mid())) * float(half[i])
                for k in range(p):
                    hik = pair.box.hess(i, k)
                    s += (abs(float(hik.mid())) + float(hik.rad())) * float(half[i]) * float(half[k]) \
                        if hik.is_finite() else float(half[i]) * 1e9
                slack.append(s)
            i = int(np.argmax(slack))
            mid = centre[i]
            stack.append((lo, tuple(mid if k == i else x for k, x in enumerate(hi)), depth + 1))
            stack.append((tuple(mid if k == i else x for k, x in enumerate(lo)), hi, depth + 1))
        seconds = time.perf_counter() - t0
        return BoxSearchResult(certified, sense, str(Fraction(threshold)) if not isinstance(threshold, arb) else
                               threshold.str(20), count, closed, tuple(per_depth.get(k, 0) for k in
                                                                      range(max(per_depth) + 1 if per_depth else 0)),
                               seconds, reason, None if lowest is None else sign * lowest, lowest_at, kinds, bits,
                               skipped, 1.0 if certified else covered / (domain_volume or
                                                                           max(total_volume - dropped, 1e-300)),
                               order)
