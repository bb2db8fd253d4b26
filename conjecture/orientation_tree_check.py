"""An independent checker of the (4, 4) orientation certificate (tree.npz of ``orientation_bnb_float``).

Shares no code with the producer (``float_interval``, ``relu_kernel_float``, ``orientation_objective_float``,
``orientation_bnb_float``): it reads the codes, rebuilds the boxes itself, and re-proves each checked leaf in arb
ball arithmetic (python-flint) with the repository's arb jets (``conjecture.ball_jets``, which the producer does not
use), from the formulas:

* rows v_j = u (0, N(q) t_j) / (|u| |q|^2 sqrt 3) (u = (1, x, y, z), q = (1, a, b, c), N(q) = |q|^2 R(q), t_j the
  cube diagonals with an even number of minus signs), rho_js = <s, v_j> / 2 for the 8 sign vectors with s_1 = 1;
* b(v) = A - p4(v) / (384 pi) + (1 / (16 pi)) sum_s H4(rho_s), A = (1 + 1/8 + 3/384) / (2 pi),
  H4(r) = sqrt(1 - r^2) + r asin r - 1 - r^2/2 - r^4/24 (convex, even);
* F = C0 - (8A/lambda) dbar - (4/lambda) dbar^2 - sum_j (delta_j - dbar)^2 / (kappa(1) - kappa(-1/3)),
  C0 = C - 4 A^2 / lambda, C = sum_k C(4, k) kappa(1 - k/2) / 16;
* the secant bound: H4 <= its chord on the box's range of each rho, so F >= Q(theta) + min_X Qd with Q free of the
  kernel's curvature (separable second-order bound from Q's centre jet and box Hessian) and Qd the quadratic part
  bounded from the deviations' ranges.

A dropped box (code -1) is checked to be disjoint from the domain (lo_y > hi_x, lo_z > hi_y, or the octahedron's
sum of min |t| exceeds 1), exactly. A leaf that the checker's own bound cannot close is bisected (up to ``extra``
levels) and its pieces are checked: the leaves only need to cover the domain. The 'monotone' leaves (none in the
runs recorded) would need a gradient check; they are reported as unchecked.

    python -m conjecture.orientation_tree_check TREE.npz [TREE2.npz ...] [--sample N] [--seed S]

A search stopped by its budget and resumed (``bench_orientation_float.py --resume``) gives several parts; the
checker requires each part's roots to be exactly the previous part's open boxes and the last part to end closed.
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction

import numpy as np
from flint import arb, ctx, fmpq

from conjecture.ball_jets import Pair

TETRA = ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1))
SIGN_PAIRS = [(1, s1, s2, s3) for s1 in (1, -1) for s2 in (1, -1) for s3 in (1, -1)]


def _q(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


class Constants:
    """C0, 8A/lambda, 4/lambda, 1/(k1 - k0), 1/(384 pi), 1/(16 pi) as arb balls."""

    def __init__(self):
        pi = arb.pi()

        def kappa(t):
            if t == 1:
                return arb(1) / 2
            if t == -1:
                return arb(0)
            t = arb(t) if not isinstance(t, arb) else t
            return ((1 - t * t).sqrt() + (pi - t.acos()) * t) / (2 * pi)
        C = (kappa(1) + 4 * kappa(arb(1) / 2) + 6 * kappa(0) + 4 * kappa(arb(-1) / 2) + kappa(-1)) / 16
        k1, k0 = kappa(1), kappa(arb(-1) / 3)
        lam = k1 + 3 * k0
        A = (1 + arb(1) / 8 + arb(3) / 384) / (2 * pi)
        self.C0 = C - 4 * A * A / lam
        self.lin = 8 * A / lam
        self.quad = 4 / lam
        self.dev = 1 / (k1 - k0)
        self.cp4 = 1 / (384 * pi)
        self.ch4 = 1 / (16 * pi)
        self.s3 = 1 / arb(3).sqrt()


def _clip(t: arb) -> arb:
    """An exact point clipped into [-1, 1] (a ball's end point may poke out by rounding)."""
    return arb(1) if t > 1 else (arb(-1) if t < -1 else t)


def h4(r: arb) -> arb:
    """H4 at a point (or thin ball) of [-1, 1] (arb's asin; sqrt of the nonnegative part)."""
    r = _clip(r) if r.rad() == 0 else r
    return (1 - r * r).nonnegative_part().sqrt() + r * r.asin() - 1 - r * r / 2 - r * r * r * r / 24


def h4_range(r: arb) -> arb:
    """H4 on a ball inside [-1, 1]: even and increasing in |t| (nonnegative Taylor coefficients), so spanned by its
    values at min |t| and max |t|."""
    lo, hi = arb(r.lower()), arb(r.upper())
    amax = _clip(arb(abs(r).upper()))
    amin = arb(0) if (lo <= 0 and hi >= 0) else (lo if lo > 0 else -hi)
    return arb(h4(amin).lower()).union(arb(h4(amax).upper()))


def _rows(centre: list[arb], deltas: list[arb]):
    """(rho Pairs [j][s], poly Pairs [j]) on the box centre + deltas (``ball_jets.Pair``: a box jet narrowed by
    centred forms at each product, and the centre jet)."""
    x, y, z, a, b, c = Pair.variables(centre, deltas)
    one = arb(1)
    a2, b2, c2 = a * a, b * b, c * c
    N = [[a2 - b2 - c2 + one, (a * b - c) * 2, (a * c + b) * 2],
         [(a * b + c) * 2, b2 - a2 - c2 + one, (b * c - a) * 2],
         [(a * c - b) * 2, (b * c + a) * 2, c2 - a2 - b2 + one]]
    q2 = a2 + b2 + c2 + one
    nu = (x * x + y * y + z * z + one).sqrt()
    fac = ((nu * q2).reciprocal() * KON.s3).tight()
    rhos, polys = [], []
    for t in TETRA:
        p1, p2, p3 = [N[i][0] * t[0] + N[i][1] * t[1] + N[i][2] * t[2] for i in range(3)]
        num = [-(x * p1 + y * p2 + z * p3), p1 + y * p3 - z * p2, p2 - x * p3 + z * p1, p3 + x * p2 - y * p1]
        v = [(n * fac).tight() for n in num]
        p4 = None
        for comp in v:
            w = (comp * comp).tight()
            w = (w * w).tight()
            p4 = w if p4 is None else p4 + w
        polys.append((p4 * (-KON.cp4)).tight())
        rhos.append([((num[0] * s[0] + num[1] * s[1] + num[2] * s[2] + num[3] * s[3]) * fac * (arb(1) / 2)).tight()
                     for s in SIGN_PAIRS])
    return rhos, polys


def _centred(box_jet: Pair, cen_jet: Pair, T: list[arb]) -> arb:
    """Value range on the box: natural, intersected with f(c) + g(c).t + t^T H(X) t / 2."""
    p = len(T)
    v = cen_jet.v
    for i in range(p):
        v += cen_jet.g[i] * T[i]
    quad = arb(0)
    for i in range(p):
        for k in range(p):
            quad += box_jet.hess(i, k) * T[i] * T[k]
    v += quad / 2
    return v.intersection(box_jet.v) if box_jet.v.is_finite() else v


def _separable(cv: arb, cg: list, box_jet_h, half: list[arb]) -> arb:
    p = len(half)
    sep = cv
    for i in range(p):
        gam = arb(abs(cg[i]).upper())
        a = arb(box_jet_h(i, i).lower())
        h = half[i]
        if a > 0 and gam < a * h:
            sep -= gam * gam / (2 * a)
        else:
            sep += -gam * h + a * h * h / 2
        for k in range(i + 1, p):
            sep -= arb(abs(box_jet_h(i, k)).upper()) * h * half[k]
    return arb(sep.lower())


def leaf_lower(lo: list[Fraction], hi: list[Fraction]) -> arb:
    """The checker's lower bound on F over the box [lo, hi] (exact rationals)."""
    cen = [(a + b) / 2 for a, b in zip(lo, hi)]
    half = [_q((b - a) / 2) for a, b in zip(lo, hi)]
    T = [arb(0).union(h).union(-h) for h in half]
    cpt = [_q(c) for c in cen]
    rp, pp = _rows(cpt, T)
    unit = arb(0, 1)
    Qc = Qb = None
    deltas = []
    for j in range(4):
        dj = pp[j].box.v
        accc, accb = pp[j].centre, pp[j].box
        hsum = arb(0)
        for si in range(8):
            r = rp[j][si].box.v.intersection(unit)
            rl, rh = _clip(arb(r.lower())), _clip(arb(r.upper()))
            Ul, Uh = arb(h4(rl).upper()), arb(h4(rh).upper())
            hsum += h4_range(r)
            s = arb(((Uh - Ul) / (rh - rl)).mid()) if rh > rl else arb(0)
            e1, e2 = Ul - s * rl, Uh - s * rh
            icpt = arb(e1.upper()) if e1.upper() > e2.upper() else arb(e2.upper())   # line >= both end values
            accc = accc + (rp[j][si].centre * s + icpt) * KON.ch4
            accb = accb + (rp[j][si].box * s + icpt) * KON.ch4
        deltas.append(dj + KON.ch4 * hsum)
        Qc = accc if Qc is None else Qc + accc
        Qb = accb if Qb is None else Qb + accb
    Qc = Qc * (-KON.lin / 4) + KON.C0
    Qb = Qb * (-KON.lin / 4) + KON.C0
    lin_part = _separable(Qc.v, Qc.g, Qb.hess, half)
    dbar = (deltas[0] + deltas[1] + deltas[2] + deltas[3]) / 4
    qd = KON.quad * dbar * dbar
    dev = arb(0)
    for j in range(4):
        e = (deltas[j] * 3 - sum((deltas[k] for k in range(4) if k != j), arb(0))) / 4
        dev += arb(abs(e).upper()) ** 2
    return arb((lin_part - qd - KON.dev * dev).lower())


def _disjoint_many(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether each box lies outside the chart's domain (x_1 > x_0, or x_2 > x_1, or sum_i min |x_i| > 1 over
    i = 3, 4, 5), exactly: the end points are multiples of 2^-49 below 4 in magnitude (asserted), so the
    comparisons and the three-term sums below are exact in float64."""
    if len(lo) == 0:
        return np.zeros(0, bool)
    scaled = np.concatenate([lo, hi]) * 2.0 ** 49
    if not np.all(scaled == np.rint(scaled)) or np.abs(scaled).max() >= 2.0 ** 51:
        raise SystemExit("box end points are not dyadic with <= 49 bits below 4: this checker cannot decide them")
    sorted_out = (lo[:, 1] > hi[:, 0]) | (lo[:, 2] > hi[:, 1])
    amin = np.where((lo[:, 3:] <= 0) & (hi[:, 3:] >= 0), 0.0, np.minimum(np.abs(lo[:, 3:]), np.abs(hi[:, 3:])))
    return sorted_out | (amin.sum(axis=1) > 1)


def replay(codes: np.ndarray, sizes: np.ndarray, lo0: np.ndarray, hi0: np.ndarray):
    """Rebuild the recorded tree from its level-0 boxes: (leaf lo, leaf hi, leaf code, whether the leaf is on the
    last level, open lo, open hi): the leaves are the boxes coded < 10, the open boxes the children of the last
    level's split boxes (a budget-stopped part; none for a finished one)."""
    lo, hi = np.atleast_2d(lo0).astype(float), np.atleast_2d(hi0).astype(float)
    off = 0
    out_lo, out_hi, out_code, out_last = [], [], [], []
    for li, n in enumerate(sizes):
        c = codes[off:off + n]
        off += n
        if len(c) != len(lo):
            raise ValueError("tree codes do not match the rebuilt level")
        leaf = c < 10
        out_lo.append(lo[leaf])
        out_hi.append(hi[leaf])
        out_code.append(c[leaf])
        out_last.append(np.full(int(leaf.sum()), li == len(sizes) - 1))
        sp = ~leaf
        olo, ohi, ax = lo[sp], hi[sp], c[sp].astype(np.int64) - 10
        ar = np.arange(len(ax))
        mid = (olo[ar, ax] + ohi[ar, ax]) * 0.5
        lhi, rlo = ohi.copy(), olo.copy()
        lhi[ar, ax] = mid
        rlo[ar, ax] = mid
        lo = np.empty((2 * len(ax), 6))
        hi = np.empty_like(lo)
        lo[0::2], lo[1::2] = olo, rlo
        hi[0::2], hi[1::2] = lhi, ohi
    if off != len(codes):
        raise ValueError("trailing codes")
    return (np.concatenate(out_lo), np.concatenate(out_hi), np.concatenate(out_code), np.concatenate(out_last),
            lo, hi)


def _same_boxes(alo, ahi, blo, bhi) -> bool:
    if len(alo) != len(blo):
        return False
    a = np.concatenate([alo, ahi], axis=1)
    b = np.concatenate([blo, bhi], axis=1)
    a = a[np.lexsort(a.T[::-1])]
    b = b[np.lexsort(b.T[::-1])]
    return bool(np.array_equal(a, b))


def check_box(lo, hi, threshold: arb, extra: int) -> bool:
    if leaf_lower(lo, hi) > threshold:
        return True
    if extra <= 0:
        return False
    widths = [(b - a) for a, b in zip(lo, hi)]
    i = int(np.argmax([float(w) for w in widths]))
    mid = (lo[i] + hi[i]) / 2
    left_hi = list(hi)
    left_hi[i] = mid
    right_lo = list(lo)
    right_lo[i] = mid
    return check_box(lo, left_hi, threshold, extra - 1) and check_box(right_lo, hi, threshold, extra - 1)


KON: Constants


def main(argv=None) -> dict:
    """Check the trees named in ``argv`` (the command line when None); prints and returns the report.  The arb
    precision ``--bits`` holds inside this call only."""
    ap = argparse.ArgumentParser()
    ap.add_argument("tree", nargs="+", help="tree.npz, then the parts of resumed searches in order")
    ap.add_argument("--sample", type=int, default=200, help="closed leaves re-proved (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extra", type=int, default=3)
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--no-reprove", action="store_true", help="check the structure only")
    args = ap.parse_args(argv)
    with ctx.workprec(args.bits):
        return _check(args)


def _check(args) -> dict:
    global KON
    KON = Constants()
    t0 = time.perf_counter()
    parts = []
    carry = None
    T = None
    for k, path in enumerate(args.tree):
        d = np.load(path)
        meta = json.loads(str(d["meta"]))
        if T is None:
            T = Fraction(meta["threshold"])
        elif Fraction(meta["threshold"]) != T:
            raise SystemExit("the parts have different thresholds")
        if "roots_lo" in d:
            r_lo, r_hi = d["roots_lo"], d["roots_hi"]
        else:
            r_lo, r_hi = np.array(meta["lo0"])[None], np.array(meta["hi0"])[None]
        if k == 0:
            lo0, hi0 = np.array(meta["lo0"]), np.array(meta["hi0"])
            if not (np.array_equal(r_lo, lo0[None]) and np.array_equal(r_hi, hi0[None])):
                raise SystemExit("the first part must start from the whole chart box")
        elif not _same_boxes(r_lo, r_hi, carry[0], carry[1]):
            raise SystemExit(f"part {k}: its roots are not the open boxes of part {k - 1}")
        lo, hi, code, last, olo, ohi = replay(d["codes"], d["level_sizes"], r_lo, r_hi)
        # a box coded -1 must be disjoint from the domain, except on a budget-stopped part's last level, where it
        # may be a box never evaluated: it is then carried to the next part
        drop = np.nonzero(code == -1)[0]
        dis = _disjoint_many(lo[drop], hi[drop])
        bad = drop[~dis] if len(drop) else drop
        if len(bad) and not np.all(last[bad]):
            raise SystemExit(f"part {k}: a box before the last level is coded dropped but meets the domain")
        carry = (np.concatenate([lo[bad], olo]), np.concatenate([hi[bad], ohi]))
        keep_leaf = np.ones(len(code), bool)
        keep_leaf[bad] = False
        parts.append((lo[keep_leaf], hi[keep_leaf], code[keep_leaf], meta))
    if len(carry[0]):
        raise SystemExit(f"{len(carry[0])} boxes left open after the last part: nothing is certified")
    Ta = _q(T)
    lo = np.concatenate([p[0] for p in parts])
    hi = np.concatenate([p[1] for p in parts])
    code = np.concatenate([p[2] for p in parts])
    meta = parts[0][3]
    rep = {"threshold": str(T), "parts": len(parts), "leaves": int(len(code)), "dropped": int(np.sum(code == -1)),
           "closed": {k: int(np.sum(code == i)) for i, k in enumerate(meta["kinds"])}}
    # the leaves must tile the initial box: each is dyadic, w_i = w0_i / 2^m_i, so the volumes add up to the
    # initial volume iff sum_leaves 2^(-sum_i m_i) = 1, checked in exact integers (with no overlaps, which the
    # tree structure gives: children halve their parent)
    w0 = hi0 - lo0
    m = np.rint(np.log2(w0[None] / (hi - lo))).astype(np.int64)
    exact = bool(np.all((hi - lo) * 2.0 ** m == w0[None]))
    msum = m.sum(axis=1)
    top = int(msum.max()) if len(msum) else 0
    levels, counts = np.unique(msum, return_counts=True)
    total = sum(int(c) << (top - int(lv)) for lv, c in zip(levels, counts))
    rep["volume_ok"] = exact and total == (1 << top)
    dropped = code == -1  # every dropped leaf left after the carries must lie outside the domain: re-checked
    rep["dropped_not_disjoint"] = int(np.sum(~_disjoint_many(lo[dropped], hi[dropped])))
    closed = np.nonzero(code >= 0)[0] if not args.no_reprove else np.zeros(0, np.int64)
    rng = np.random.default_rng(args.seed)
    pick = closed if args.sample == 0 or args.sample >= len(closed) else rng.choice(closed, args.sample,
                                                                                     replace=False)
    ok = fail = mono = 0
    for b in pick:
        if meta["kinds"][code[b]] == "monotone":
            mono += 1
            continue
        if check_box([Fraction(v) for v in lo[b]], [Fraction(v) for v in hi[b]], Ta, args.extra):
            ok += 1
        else:
            fail += 1
    rep.update(checked=int(len(pick)), reproved=ok, not_reproved=fail, monotone_unchecked=mono,
               seconds=round(time.perf_counter() - t0, 1))
    print(json.dumps(rep))
    return rep


if __name__ == "__main__":
    main()
