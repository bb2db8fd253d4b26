"""Vectorised float64 interval arithmetic and second-order interval jets (numpy), with rigorous outward rounding.

An interval array is a pair (lo, hi) of float64 arrays. IEEE 754 round-to-nearest gives every +, -, *, /, sqrt
the exactly rounded result r of the exact value x, so |x - r| <= ulp(r) / 2 and x lies in
[nextafter(r, -inf), nextafter(r, +inf)] (also at powers of two, where the spacing below r is half the spacing
above, and in the subnormal range, where the rounding error is at most half of the smallest subnormal). Every
operation here therefore widens its rounded result outward by one ulp (``down``, ``up``); min/max of rounded
endpoints commute with that widening, so a product's four endpoint products are widened once. NaN never closes
anything: callers treat a non-finite bound as "no bound".

A jet of p parameters over N boxes is an interval array of shape (1 + p [+ p (p + 1) / 2], N): the value, the
gradient and (order 2) the Hessian's upper triangle, row by row. Forward-mode rules

    (u v)' = u' v + u v',    (u v)'' = u'' v + u v'' + u' v'^T + v' u'^T,    phi(u)'' = phi''(u) u' u'^T + phi'(u) u''

with phi, phi', phi'' enclosed on the value's interval give, for parameters seeded as intervals covering a box,
enclosures of the value, gradient and Hessian at every point of the box (the inclusion property); seeded with a
point they give them at that point with rounding errors enclosed.

References: Moore, Kearfott, Cloud, "Introduction to Interval Analysis" (2009), ch. 4-6; Griewank & Walther,
"Evaluating Derivatives" (2008), ch. 13; IEEE 754-2008 §4.3 (correct rounding of the basic operations).

Examples
--------
>>> lo, hi = mul((np.array([0.1]), np.array([0.1])), (np.array([3.0]), np.array([3.0])))
>>> bool(lo[0] < 0.30000000000000004 <= hi[0]) and bool(lo[0] <= 0.3 <= hi[0])
True
>>> x = Jet.variables(np.array([[2.0]]), np.array([[2.0]]), order=2)[0]
>>> f = x * x * x                                                      # f = x^3: 8, 12, 12
>>> [float(f.lo[k, 0]) <= v <= float(f.hi[k, 0]) for k, v in enumerate((8.0, 12.0, 12.0))]
[True, True, True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NINF, _PINF = -np.inf, np.inf


_EPS = 2.0 ** -52       # |r| * _EPS >= ulp(r) for every finite r
_TINY = 5e-324          # the smallest subnormal: one ulp at 0 and in the subnormal range


def down(x: np.ndarray) -> np.ndarray:
    """A float <= x - ulp(x): x - (|x| 2^-52 + 2^-1074). The subtrahend is >= ulp(x) (exact product, monotone
    rounding of the sum) and x - ulp(x) is representable, so the rounded difference is <= x - ulp(x)
    (rounding is monotone). Cheaper than np.nextafter and at most 2 ulp wider. NaN/inf propagate."""
    return x - (np.abs(x) * _EPS + _TINY)


def up(x: np.ndarray) -> np.ndarray:
    """A float >= x + ulp(x) (as ``down``)."""
    return x + (np.abs(x) * _EPS + _TINY)


def add(a, b):
    return down(a[0] + b[0]), up(a[1] + b[1])


def sub(a, b):
    return down(a[0] - b[1]), up(a[1] - b[0])


def neg(a):
    return -a[1], -a[0]


def mul(a, b):
    """Interval product (broadcasting)."""
    p1, p2, p3, p4 = a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]
    return down(np.minimum(np.minimum(p1, p2), np.minimum(p3, p4))), up(np.maximum(np.maximum(p1, p2),
                                                                                   np.maximum(p3, p4)))


def sqr(a):
    """Interval square (tight: [0, max^2] when a contains 0)."""
    lo2, hi2 = a[0] * a[0], a[1] * a[1]
    hi = up(np.maximum(lo2, hi2))
    lo = np.where((a[0] <= 0) & (a[1] >= 0), 0.0, down(np.minimum(lo2, hi2)))
    return lo, hi


def mag(a) -> np.ndarray:
    """An upper bound on |x| over the interval."""
    return np.maximum(np.abs(a[0]), np.abs(a[1]))


def intersect(a, b):
    """The intersection (both must contain the true value; NaN in one side keeps the other)."""
    lo = np.fmax(a[0], b[0])
    hi = np.fmin(a[1], b[1])
    return lo, hi


def const(lo: float, hi: float | None = None):
    """A constant interval [lo, hi] (scalars broadcast)."""
    return np.float64(lo), np.float64(lo if hi is None else hi)


def tri_pairs(p: int) -> tuple[np.ndarray, np.ndarray]:
    """The (i, k), i <= k, of the stored Hessian entries in storage order."""
    ii, kk = zip(*[(i, k) for i in range(p) for k in range(i, p)])
    return np.array(ii), np.array(kk)


@dataclass
class Jet:
    """Interval jet of ``p`` parameters over N boxes: lo, hi of shape (1 + p [+ p(p+1)/2], N)."""

    lo: np.ndarray
    hi: np.ndarray
    p: int
    order: int

    # ---- construction ----
    @staticmethod
    def variables(lo: np.ndarray, hi: np.ndarray, order: int = 2) -> list["Jet"]:
        """x_i ranging over [lo[:, i], hi[:, i]] (arrays of shape (N, p)): p jets."""
        n, p = lo.shape
        rows = 1 + p + (p * (p + 1) // 2 if order == 2 else 0)
        out = []
        for i in range(p):
            L = np.zeros((rows, n))
            H = np.zeros((rows, n))
            L[0], H[0] = lo[:, i], hi[:, i]
            L[1 + i] = H[1 + i] = 1.0
            out.append(Jet(L, H, p, order))
        return out

    def constant_like(self, c: float) -> "Jet":
        L = np.zeros_like(self.lo)
        L[0] = c
        return Jet(L, L.copy(), self.p, self.order)

    # ---- views ----
    @property
    def v(self):
        return self.lo[0], self.hi[0]

    @property
    def g(self):
        return self.lo[1:1 + self.p], self.hi[1:1 + self.p]

    @property
    def h(self):
        return self.lo[1 + self.p:], self.hi[1 + self.p:]

    def _new(self, parts) -> "Jet":
        lo = np.concatenate([np.atleast_2d(x[0]) for x in parts])
        hi = np.concatenate([np.atleast_2d(x[1]) for x in parts])
        return Jet(lo, hi, self.p, self.order)

    # ---- arithmetic ----
    def __add__(self, other):
        if isinstance(other, Jet):
            lo, hi = add((self.lo, self.hi), (other.lo, other.hi))
            return Jet(lo, hi, self.p, self.order)
        lo, hi = self.lo.copy(), self.hi.copy()
        c = other if isinstance(other, tuple) else (np.float64(other), np.float64(other))
        lo[0], hi[0] = add((lo[0], hi[0]), c)
        return Jet(lo, hi, self.p, self.order)

    def __neg__(self):
        return Jet(-self.hi, -self.lo, self.p, self.order)

    def __sub__(self, other):
        if isinstance(other, Jet):
            lo, hi = sub((self.lo, self.hi), (other.lo, other.hi))
            return Jet(lo, hi, self.p, self.order)
        c = other if isinstance(other, tuple) else (np.float64(other), np.float64(other))
        return self + neg(c)

    def scale(self, c) -> "Jet":
        """c times the jet, c an interval (pair of scalars) or a float (taken exactly). Multiplying by +-1 or +-2
        is exact (no widening; overflow would give inf, which never closes a box); by any other float or by an
        interval of one sign it costs two products per entry."""
        if not isinstance(c, tuple):
            c = float(c)
            if c in (1.0, 2.0):
                return Jet(self.lo * c, self.hi * c, self.p, self.order)
            if c in (-1.0, -2.0):
                return Jet(self.hi * c, self.lo * c, self.p, self.order)
            c = (np.float64(c), np.float64(c))
        if np.ndim(c[0]) > 0 or np.ndim(c[1]) > 0:   # one constant per box (arrays of shape (N,))
            lo, hi = mul((self.lo, self.hi), (np.asarray(c[0])[None], np.asarray(c[1])[None]))
            return Jet(lo, hi, self.p, self.order)
        clo, chi = float(c[0]), float(c[1])
        if clo >= 0:
            lo = np.where(self.lo >= 0, self.lo * clo, self.lo * chi)
            hi = np.where(self.hi >= 0, self.hi * chi, self.hi * clo)
            return Jet(down(lo), up(hi), self.p, self.order)
        if chi <= 0:
            lo = np.where(self.hi >= 0, self.hi * clo, self.hi * chi)
            hi = np.where(self.lo >= 0, self.lo * chi, self.lo * clo)
            return Jet(down(lo), up(hi), self.p, self.order)
        lo, hi = mul((self.lo, self.hi), c)
        return Jet(lo, hi, self.p, self.order)

    def __mul__(self, other):
        if not isinstance(other, Jet):
            return self.scale(other)
        a, b = self, other
        av, bv = a.v, b.v
        v = mul(av, bv)
        ag, bg = a.g, b.g
        avb = (av[0][None], av[1][None])
        bvb = (bv[0][None], bv[1][None])
        g = add(mul(avb, bg), mul(bvb, ag))
        if a.order == 1:
            return a._new([v, g])
        I, K = tri_pairs(a.p)
        h = add(mul(avb, b.h), mul(bvb, a.h))
        cross = add(mul((ag[0][I], ag[1][I]), (bg[0][K], bg[1][K])),
                    mul((ag[0][K], ag[1][K]), (bg[0][I], bg[1][I])))
        return a._new([v, g, add(h, cross)])

    def square(self) -> "Jet":
        """self * self with the value's and the diagonal outer products' squares taken tight."""
        v = sqr(self.v)
        av = self.v
        avb = (av[0][None], av[1][None])
        g0 = mul(avb, self.g)
        g = (down(2 * g0[0]), up(2 * g0[1]))
        if self.order == 1:
            return self._new([v, g])
        I, K = tri_pairs(self.p)
        ag = self.g
        h0 = mul(avb, self.h)
        gi = (ag[0][I], ag[1][I])
        gk = (ag[0][K], ag[1][K])
        outer = mul(gi, gk)
        diag = I == K
        sq = sqr(gi)
        outer = (np.where(diag[:, None], sq[0], outer[0]), np.where(diag[:, None], sq[1], outer[1]))
        h = add(h0, outer)
        return self._new([v, g, (down(2 * h[0]), up(2 * h[1]))])

    def apply(self, f0, f1, f2=None) -> "Jet":
        """phi(self) from enclosures f0, f1 (, f2) of phi, phi', phi'' on the value's interval (arrays (N,))."""
        f1b = (f1[0][None], f1[1][None])
        g = mul(f1b, self.g)
        if self.order == 1:
            return self._new([f0, g])
        I, K = tri_pairs(self.p)
        ag = self.g
        outer = mul((ag[0][I], ag[1][I]), (ag[0][K], ag[1][K]))
        diag = I == K
        sq = sqr((ag[0][I], ag[1][I]))
        outer = (np.where(diag[:, None], sq[0], outer[0]), np.where(diag[:, None], sq[1], outer[1]))
        h = add(mul((f2[0][None], f2[1][None]), outer), mul(f1b, self.h))
        return self._new([f0, g, h])

    def with_hessian(self, h) -> "Jet":
        """A copy with the Hessian rows replaced by the interval array h (shape (p(p+1)/2, N))."""
        lo, hi = self.lo.copy(), self.hi.copy()
        lo[1 + self.p:], hi[1 + self.p:] = h
        return Jet(lo, hi, self.p, self.order)

    def hess_full(self):
        """The Hessian as (p, p, N) interval arrays (symmetric)."""
        I, K = tri_pairs(self.p)
        n = self.lo.shape[1]
        L = np.empty((self.p, self.p, n))
        H = np.empty((self.p, self.p, n))
        hl, hh = self.h
        L[I, K], H[I, K] = hl, hh
        L[K, I], H[K, I] = hl, hh
        return L, H


def reciprocal_apply(x: Jet) -> Jet:
    """1 / x for a jet whose value interval is positive."""
    one = (np.ones_like(x.lo[0]), np.ones_like(x.lo[0]))
    r = div(one, x.v)
    r2 = sqr(r)
    f1 = neg(r2)
    f2 = None
    if x.order == 2:
        r3 = mul(r2, r)
        f2 = (down(2 * r3[0]), up(2 * r3[1]))
    return x.apply(r, f1, f2)


def div(a, b):
    """Interval quotient for b > 0 (NaN where b may vanish)."""
    bad = b[0] <= 0
    q1, q2, q3, q4 = a[0] / b[0], a[0] / b[1], a[1] / b[0], a[1] / b[1]
    lo = down(np.minimum(np.minimum(q1, q2), np.minimum(q3, q4)))
    hi = up(np.maximum(np.maximum(q1, q2), np.maximum(q3, q4)))
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def isqrt(a):
    """Interval sqrt of a nonnegative interval (negative lower ends clipped at 0: callers pass radicands >= 0)."""
    return down(np.sqrt(np.maximum(a[0], 0.0))).clip(min=0.0), up(np.sqrt(np.maximum(a[1], 0.0)))


def inv_sqrt_apply(x: Jet) -> Jet:
    """x^(-1/2) for a jet with positive value: phi' = -phi^3 / 2, phi'' = 3 phi^5 / 4."""
    s = isqrt(x.v)
    one = (np.ones_like(s[0]), np.ones_like(s[0]))
    r = div(one, s)
    r3 = mul(sqr(r), r)
    f1 = neg((down(r3[0] / 2), up(r3[1] / 2)))
    f2 = None
    if x.order == 2:
        r5 = mul(r3, sqr(r))
        f2 = (down(0.75 * r5[0]), up(0.75 * r5[1]))  # 0.75 * r: one rounding, widened
    return x.apply(r, f1, f2)


def tighten(box: Jet, centre: Jet, half: np.ndarray) -> Jet:
    """The box jet with value and gradient narrowed by the centred forms (Taylor with H(X) enclosing the Hessian)

        f(c + t) in f(c) + g(c).t + t^T H(X) t / 2,      g(c + t) in g(c) + H(X) t,      |t_i| <= half_i,

    each intersected with the natural enclosure. ``centre`` is the jet at the box centre (order >= 1), ``half``
    the half-widths (N, p)."""
    p = box.p
    HL, HH = box.hess_full()
    t = (-half.T, half.T)  # (p, N)
    Ht = [None] * p
    for i in range(p):
        acc = (np.zeros_like(t[0][0]), np.zeros_like(t[0][0]))
        for k in range(p):
            acc = add(acc, mul((HL[i, k], HH[i, k]), (t[0][k], t[1][k])))
        Ht[i] = acc
    cg = centre.g
    quad = (np.zeros_like(t[0][0]), np.zeros_like(t[0][0]))
    lin = (np.zeros_like(t[0][0]), np.zeros_like(t[0][0]))
    for i in range(p):
        quad = add(quad, mul(Ht[i], (t[0][i], t[1][i])))
        lin = add(lin, mul((cg[0][i], cg[1][i]), (t[0][i], t[1][i])))
    # t^T H t in [quad]: quad encloses sum_i t_i (H t)_i; the value is f(c) + lin + quad / 2
    v = add(add(centre.v, lin), (down(quad[0] / 2), up(quad[1] / 2)))
    v = intersect(box.v, v)
    glo, ghi = box.g
    glo, ghi = glo.copy(), ghi.copy()
    for i in range(p):
        gi = add((cg[0][i], cg[1][i]), Ht[i])
        glo[i], ghi[i] = intersect((glo[i], ghi[i]), gi)
    lo, hi = box.lo.copy(), box.hi.copy()
    lo[0], hi[0] = v
    lo[1:1 + p], hi[1:1 + p] = glo, ghi
    return Jet(lo, hi, p, box.order)
