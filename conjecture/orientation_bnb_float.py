"""Vectorised float64 branch-and-bound: a certified lower bound on min over ETF orientations of F at (M, d) = (4, 4).

Domain: the chart ``hyperplane_in_r4`` of ``conjecture.etf_orientations`` (x, y, z in [0, 1], 1 >= x >= y >= z;
a, b, c in [-1, 1], |a| + |b| + |c| <= 1), which covers every orientation of the ETF (B_4 on the left, the binary
tetrahedral group on the right). The boxes are processed level by level in numpy batches; each box X = c + [-h, h]
gets F(c), grad F(c) (point jets) and the box jet (``conjecture.orientation_objective_float``), and is closed by:

* ``natural``: the lower end of the narrowed enclosure of F(X) exceeds T;
* ``separable``: f(c) + sum_i min_{|t| <= h_i} (g_i t + H_ii^lo t^2 / 2) - sum_{i < k} |H_ik| h_i h_k > T (Taylor with
  the Lagrange remainder, H(xi) in H(X));
* ``secant`` (``orientation_objective_float.secant_lower``): H4 convex, so each kernel remainder lies below its
  chord on the box's range of rho; F is then bounded below by a function without kernel curvature (separable
  bound) plus a natural bound on F's small quadratic part;
* ``monotone``: some component of the gradient enclosure on X (natural, narrowed by g(c) + H(X) t) excludes 0.

Why ``monotone`` is sound. F∘chart is defined and C^1 on all of R^6 (u = (1, x, y, z) and q = (1, a, b, c) never
vanish; every theta gives an ETF orientation, so F∘chart >= F* := min over orientations everywhere; kappa_e is
C^1 on [-1, 1] and rho(theta) stays in [-1, 1], with rho = +-1 only at maxima of rho, where the composite is still
differentiable with gradient 0). The chart covers every orientation from the domain D (compact), so F* is
attained at some theta* in D, and theta* is a global minimiser of F∘chart on the open set R^6, hence
grad F(theta*) = 0. The kept leaf boxes cover D (``keep`` only drops boxes disjoint from D), so theta* lies in a
leaf; not in a ``monotone`` one (its gradient enclosure would contain 0); so in a leaf closed by a value test,
whose lower bound is then <= F(theta*) = F*: F* >= min over value-closed leaves of their bounds > T. Boundary points
of D need no special care: the argument uses criticality on R^6, not on D.

A box whose centre value is below T stops the search (T is not a lower bound). Otherwise an open box is bisected
along the coordinate with the largest slack |g_i| h_i + sum_k |H_ik| h_i h_k. Box end points are dyadic rationals
(bisections of [0, 1] and [-1, 1]), exact in float64, so the leaves are exported exactly.

References: Hansen & Walster, "Global Optimization Using Interval Analysis" (2004), ch. 12 (the monotonicity test,
Taylor bounds); docs/regime3.md §3.3-3.4 (the chart and the (4, 4) problem).

Examples
--------
>>> toy = toy_search(threshold=0.05)          # (x - 1/3)^2 + 1/10 on [0, 1] (min 1/10)
>>> toy.certified
True
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np

from conjecture.float_interval import down, up
from conjecture.orientation_objective_float import (natural_from_deltas, objective_jets, secant_lower,
                                                    separable_lower, split_slack)

LO0 = np.array([0.0, 0.0, 0.0, -1.0, -1.0, -1.0])
HI0 = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
KINDS = ("natural", "separable", "secant", "monotone")


def keep_44(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """False only for boxes disjoint from D (1 >= x >= y >= z >= 0 needs lo_y <= hi_x, lo_z <= hi_y; the
    octahedron needs sum_i min_{X_i} |t| <= 1, summed rounding down so that a dropped box is exactly outside)."""
    sorted_ok = (lo[:, 1] <= hi[:, 0]) & (lo[:, 2] <= hi[:, 1])
    amin = np.where((lo[:, 3:] <= 0) & (hi[:, 3:] >= 0), 0.0, np.minimum(np.abs(lo[:, 3:]), np.abs(hi[:, 3:])))
    s = down(down(amin[:, 0] + amin[:, 1]) + amin[:, 2])
    return sorted_ok & (s <= 1.0)


@dataclass(frozen=True)
class BoundResult:
    """Per box: the best value lower bound, which test closes it (or ''), the centre value, the split axis."""

    lower: np.ndarray
    kind: np.ndarray
    centre_upper: np.ndarray
    split: np.ndarray


def bound_boxes(jets: Callable, lo: np.ndarray, hi: np.ndarray, threshold: float,
                secant: Callable | None = None, lean: bool = False) -> BoundResult:
    """Evaluate the three tests on the boxes [lo, hi] (N, p). ``jets(lo, hi, order, centre, half)`` returns
    (F jet, intermediates) as ``objective_jets``. ``threshold`` must be a float <= T (we use T rounded down).
    ``secant(centre_store, box_store, half)``, when given, is a further value lower bound ('secant').
    ``lean``: only the secant and a natural bound from the deviations' ranges (no kernel Hessians, no monotone
    test; the split axis from the secant's linearised part): cheaper per box."""
    c = (lo + hi) / 2
    half = up(np.maximum(hi - c, c - lo))
    Fc, store = jets(c, c, 1)
    p = lo.shape[1]
    n = lo.shape[0]
    if lean:
        _, box_store = jets(lo, hi, 2, store, half, lean=True)
        sec, slack = secant(store, box_store, half, with_slack=True)
        natural = natural_from_deltas(box_store)
        lower = np.maximum(sec, natural)
        kind = np.full(n, "", dtype=object)
        kind[natural > threshold] = "natural"
        kind[(sec > threshold) & (sec >= natural)] = "secant"
        return BoundResult(lower, kind, Fc.v[1], np.argmax(slack, axis=0))
    Fb, box_store = jets(lo, hi, 2, store, half)
    fc_lo = Fc.v[0]
    gcl, gch = Fc.g
    HL, HH = Fb.hess_full()
    natural = Fb.v[0]
    sep = separable_lower(fc_lo, Fc.g, HL, HH, half)
    sec = secant(store, box_store, half) if secant is not None else np.full(n, -np.inf)
    natural = np.where(np.isfinite(natural), natural, -np.inf)
    lower = np.maximum(np.maximum(sep, natural), sec)
    kind = np.full(n, "", dtype=object)
    kind[natural > threshold] = "natural"
    kind[(sep > threshold) & (sep >= natural)] = "separable"
    kind[(sec > threshold) & (sec >= natural) & (sec >= sep)] = "secant"
    gl, gh = Fb.g
    mono = np.zeros(n, bool)
    for i in range(p):
        mono |= (gl[i] > 0) | (gh[i] < 0)
    kind[(kind == "") & mono] = "monotone"
    return BoundResult(lower, kind, Fc.v[1], np.argmax(split_slack(gcl, gch, HL, HH, half), axis=0))


@dataclass
class SearchStats:
    """What the search did: boxes per depth, closures per test and depth, seconds, the lowest value bound."""

    certified: bool = False
    reason: str = ""
    per_depth: list = field(default_factory=list)
    closed_per_depth: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=lambda: {k: 0 for k in KINDS})
    seconds: float = 0.0
    boxes: int = 0
    lowest_bound: float = float("inf")
    lowest_centre: float = float("inf")
    lowest_centre_at: list | None = None
    rate: float = 0.0

    def as_dict(self) -> dict:
        return {"certified": self.certified, "reason": self.reason, "per_depth": self.per_depth,
                "closed_per_depth": self.closed_per_depth, "kinds": self.kinds, "seconds": round(self.seconds, 2),
                "boxes": self.boxes, "lowest_value_bound": self.lowest_bound, "lowest_centre": self.lowest_centre,
                "lowest_centre_at": self.lowest_centre_at, "boxes_per_second": round(self.rate, 1)}


DROPPED, SPLIT = -1, 10   # tree codes: -1 outside the domain, 0..3 closed by KINDS[code], 10 + i split along axis i


def branch_and_bound(jets: Callable, lo0: np.ndarray, hi0: np.ndarray, threshold: float, *,
                     keep: Callable | None = None, batch: int = 2048, max_boxes: int = 10**9,
                     max_seconds: float = 3600.0, tree: list | None = None, progress: bool = False,
                     max_depth: int = 200, secant: Callable | None = None, log: Callable | None = None,
                     lean: bool = False) -> SearchStats:
    """Level-by-level branch-and-bound proving min F > threshold on the union of kept boxes from [lo0, hi0].

    ``tree``, when a list, receives one int8 array per depth: the code of every box of that level in order
    (DROPPED, the index of the closing test in KINDS, or SPLIT + axis). The children of the split boxes, each
    box's lower half then its upper half, in the order of their parents, form the next level; so the codes alone
    rebuild every box exactly (``replay_tree``)."""
    t0 = time.perf_counter()
    st = SearchStats()
    level_lo, level_hi = np.atleast_2d(lo0).astype(float), np.atleast_2d(hi0).astype(float)
    depth = 0
    say = log or print
    while len(level_lo):
        n_level = len(level_lo)
        codes = np.full(n_level, DROPPED, dtype=np.int8)
        kept = np.nonzero(keep(level_lo, level_hi))[0] if keep is not None else np.arange(n_level)
        if tree is not None:
            tree.append(codes)
        if not len(kept):
            break
        if depth > max_depth:
            st.reason = f"depth limit {max_depth} reached with {len(kept)} boxes open"
            break
        st.per_depth.append(int(len(kept)))
        closed = {k: 0 for k in KINDS}
        nxt_lo, nxt_hi = [], []
        for s in range(0, len(kept), batch):
            idx = kept[s:s + batch]
            lo, hi = level_lo[idx], level_hi[idx]
            if st.boxes + len(lo) > max_boxes or time.perf_counter() - t0 > max_seconds:
                st.reason = (f"budget exhausted at depth {depth} ({st.boxes} boxes, "
                             f"{time.perf_counter() - t0:.0f} s)")
                st.seconds = time.perf_counter() - t0
                st.rate = st.boxes / max(st.seconds, 1e-9)
                st.closed_per_depth[depth] = closed
                return st
            r = bound_boxes(jets, lo, hi, threshold, secant, lean)
            st.boxes += len(lo)
            cmin = int(np.argmin(r.centre_upper))
            if r.centre_upper[cmin] < st.lowest_centre:
                st.lowest_centre = float(r.centre_upper[cmin])
                st.lowest_centre_at = ((lo[cmin] + hi[cmin]) / 2).tolist()
            if np.any(r.centre_upper < threshold):
                st.reason = "a box centre has F below the threshold"
                st.seconds = time.perf_counter() - t0
                return st
            value_closed = (r.kind != "") & (r.kind != "monotone")
            if value_closed.any():
                st.lowest_bound = min(st.lowest_bound, float(r.lower[value_closed].min()))
            for code, k in enumerate(KINDS):
                hit = r.kind == k
                cnt = int(np.sum(hit))
                closed[k] += cnt
                st.kinds[k] += cnt
                codes[idx[hit]] = code
            open_ = r.kind == ""
            codes[idx[open_]] = SPLIT + r.split[open_]
            local = np.full(len(lo), DROPPED, dtype=np.int64)
            local[open_] = SPLIT + r.split[open_]
            clo, chi = _children(lo, hi, local)
            nxt_lo.append(clo)
            nxt_hi.append(chi)
        st.closed_per_depth[depth] = closed
        if progress:
            say(f"  depth {depth}: {st.per_depth[-1]} boxes, closed {closed}, {time.perf_counter() - t0:.1f} s, "
                f"lowest bound {st.lowest_bound:.12g}")
        level_lo = np.concatenate(nxt_lo) if nxt_lo else np.zeros((0, lo0.size))
        level_hi = np.concatenate(nxt_hi) if nxt_hi else np.zeros((0, lo0.size))
        depth += 1
    if not st.reason:
        st.certified = True
        st.reason = "every box closed"
    st.seconds = time.perf_counter() - t0
    st.rate = st.boxes / max(st.seconds, 1e-9)
    return st


def replay_tree(tree: list, lo0: np.ndarray = LO0, hi0: np.ndarray = HI0):
    """Yield (depth, lo, hi, codes) per level from the codes of ``branch_and_bound`` (exact: dyadic midpoints)."""
    lo, hi = np.atleast_2d(lo0).astype(float), np.atleast_2d(hi0).astype(float)
    for depth, codes in enumerate(tree):
        if len(codes) != len(lo):
            raise ValueError(f"level {depth}: {len(codes)} codes for {len(lo)} boxes")
        yield depth, lo, hi, codes
        lo, hi = _children(lo, hi, codes)


def certify_44(threshold: Fraction, **kw) -> SearchStats:
    """The (4, 4) search with T = ``threshold`` (a Fraction; compared as a float rounded down)."""
    kw.setdefault("secant", secant_lower)
    return branch_and_bound(objective_jets, LO0, HI0, threshold_float(threshold), keep=keep_44, **kw)


def threshold_float(T: Fraction) -> float:
    """The largest float64 <= T (closing against it is closing against T)."""
    f = float(T)
    while Fraction(f) > T:
        f = float(np.nextafter(f, -np.inf))
    return f


def write_tree(path: str, tree: list, meta: dict, lo0: np.ndarray = LO0, hi0: np.ndarray = HI0,
               roots: tuple | None = None) -> int:
    """The search tree as a compressed npz: ``codes`` (all levels concatenated, int8), ``level_sizes``, and
    ``meta`` (JSON). Replaying it from the initial box (``replay_tree``) gives every leaf box exactly (dyadic
    rationals) with the test that closed it, or DROPPED for boxes outside the domain."""
    codes = np.concatenate(tree) if tree else np.zeros(0, np.int8)
    sizes = np.array([len(c) for c in tree], dtype=np.int64)
    meta = {**meta, "kinds": list(KINDS), "lo0": np.asarray(lo0, float).tolist(), "hi0": np.asarray(hi0, float).tolist(),
            "codes": "-1: box disjoint from the domain; 0..3: closed by kinds[code]; 10 + i: split at the midpoint "
                     "of coordinate i, children (lower half, upper half) appended to the next level in order"}
    extra = {}
    if roots is not None:   # a resumed search: its level 0 is these boxes (float64 dyadics, exact)
        extra = {"roots_lo": np.asarray(roots[0], float), "roots_hi": np.asarray(roots[1], float)}
    np.savez_compressed(path, codes=codes, level_sizes=sizes, meta=np.array(json.dumps(meta)), **extra)
    return int(np.sum(codes < SPLIT))


def open_set(tree: list, lo0, hi0, keep: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The boxes a budget-stopped search left open: at its last recorded level the boxes coded DROPPED that
    ``keep`` keeps (never evaluated), plus the children of that level's split boxes (never recorded)."""
    last = None
    for depth, lo, hi, codes in replay_tree(tree, lo0, hi0):
        last = (lo, hi, codes)
    if last is None:
        return np.atleast_2d(lo0).astype(float), np.atleast_2d(hi0).astype(float)
    lo, hi, codes = last
    unproc = codes == DROPPED
    if keep is not None:
        unproc &= keep(lo, hi)
    clo, chi = _children(lo, hi, codes)
    return np.concatenate([lo[unproc], clo]), np.concatenate([hi[unproc], chi])


def _halves(lo: np.ndarray, hi: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(upper end of the left halves, lower end of the right halves) of boxes cut at the midpoint of ``axis``."""
    ar = np.arange(len(axis))
    mid = (lo[ar, axis] + hi[ar, axis]) / 2
    left_hi, right_lo = hi.copy(), lo.copy()
    left_hi[ar, axis] = mid
    right_lo[ar, axis] = mid
    return left_hi, right_lo


def _children(lo: np.ndarray, hi: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two halves of every box coded SPLIT + i (cut at the midpoint of axis i), left then right, in order."""
    sp = codes >= SPLIT
    olo, ohi = lo[sp], hi[sp]
    lhi, rlo = _halves(olo, ohi, codes[sp].astype(np.int64) - SPLIT)
    clo = np.empty((2 * len(olo), lo.shape[1]))
    chi = np.empty_like(clo)
    clo[0::2], clo[1::2] = olo, rlo
    chi[0::2], chi[1::2] = lhi, ohi
    return clo, chi


def load_tree(path: str) -> tuple[list, dict, np.ndarray, np.ndarray]:
    """(tree as per-level code arrays, meta, level-0 lo, level-0 hi) from ``write_tree``'s file."""
    d = np.load(path)
    meta = json.loads(str(d["meta"]))
    codes, sizes = d["codes"], d["level_sizes"]
    tree, off = [], 0
    for n in sizes:
        tree.append(codes[off:off + int(n)])
        off += int(n)
    if "roots_lo" in d:
        return tree, meta, d["roots_lo"], d["roots_hi"]
    return tree, meta, np.array(meta["lo0"])[None], np.array(meta["hi0"])[None]


# ---- a toy with a known optimum (tests) ----
def toy_jets(lo, hi, order, centre=None, half=None):
    """f(x) = (x - 1/3)^2 + 1/10 as a jet (one parameter)."""
    from conjecture.float_interval import Jet, tighten
    x = Jet.variables(lo, hi, order)[0]
    third = (np.float64(down(1 / 3)), np.float64(up(1 / 3)))
    f = (x - third).square() + (np.float64(down(0.1)), np.float64(up(0.1)))
    store = {"f": f}
    if centre is not None:
        f = tighten(f, centre["f"], half)
    return f, store


def toy_search(threshold: float) -> SearchStats:
    return branch_and_bound(toy_jets, np.array([0.0]), np.array([1.0]), threshold, batch=64)


@dataclass(frozen=True)
class TreeEstimate:
    """Knuth-style estimate of the level-by-level search: per depth the estimated boxes, the sampled boxes and
    the fraction of them each test closed; the estimated total and the seconds at the measured rate."""

    depths: tuple
    estimated_total: float
    rate: float
    projected_seconds: float
    finished: bool

    def as_dict(self) -> dict:
        return {"depths": list(self.depths), "estimated_total": self.estimated_total,
                "boxes_per_second": round(self.rate, 1), "projected_seconds": self.projected_seconds,
                "finished": self.finished}


def estimate_search(jets: Callable, lo0: np.ndarray, hi0: np.ndarray, threshold: float, *,
                    keep: Callable | None = None, sample: int = 2000, rng: np.random.Generator | None = None,
                    max_depth: int = 80, batch: int = 2048, progress: bool = False,
                    secant: Callable | None = None, lean: bool = False) -> TreeEstimate:
    """Run the level-by-level search on a random subsample of at most ``sample`` boxes per depth; each sampled
    box stands for (level size) / (sample size) boxes, so the per-depth sizes and their total are unbiased
    estimates of the full search's (Knuth 1975; Purdom 1978). Nothing is certified."""
    rng = rng or np.random.default_rng(0)
    lvl_lo, lvl_hi = np.atleast_2d(lo0).astype(float), np.atleast_2d(hi0).astype(float)
    size = float(len(lvl_lo))
    rows, total, t_eval, n_eval = [], 0.0, 0.0, 0
    finished = False
    for depth in range(max_depth):
        if keep is not None:
            m = keep(lvl_lo, lvl_hi)
            size *= m.mean() if len(m) else 0.0
            lvl_lo, lvl_hi = lvl_lo[m], lvl_hi[m]
        if not len(lvl_lo) or size <= 0:
            finished = True
            break
        if len(lvl_lo) > sample:
            idx = rng.choice(len(lvl_lo), sample, replace=False)
            lvl_lo, lvl_hi = lvl_lo[idx], lvl_hi[idx]
        t0 = time.perf_counter()
        kinds = []
        splits = []
        for s in range(0, len(lvl_lo), batch):
            r = bound_boxes(jets, lvl_lo[s:s + batch], lvl_hi[s:s + batch], threshold, secant, lean)
            kinds.append(r.kind)
            splits.append(r.split)
        t_eval += time.perf_counter() - t0
        n_eval += len(lvl_lo)
        kind = np.concatenate(kinds)
        split = np.concatenate(splits)
        frac = {k: float(np.mean(kind == k)) for k in KINDS}
        total += size
        rows.append({"depth": depth, "estimated_boxes": size, "sampled": int(len(lvl_lo)), "closed_fraction": frac})
        if progress:
            print(f"  depth {depth}: ~{size:.3g} boxes (sampled {len(lvl_lo)}), closed {frac}", flush=True)
        open_ = kind == ""
        olo, ohi = lvl_lo[open_], lvl_hi[open_]
        left_hi, right_lo = _halves(olo, ohi, split[open_])
        size = size * 2 * open_.mean()
        lvl_lo, lvl_hi = np.concatenate([olo, right_lo]), np.concatenate([left_hi, ohi])
    rate = n_eval / max(t_eval, 1e-9)
    return TreeEstimate(tuple(rows), total, rate, total / rate, finished)
