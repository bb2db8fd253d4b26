"""Second-order jets in ball arithmetic: (f, grad f, Hess f) of a function of p parameters, every entry an arb ball.

Forward-mode differentiation: each elementary operation maps jets to jets by the chain rule,

    (u v)'' = u'' v + 2 u' v'^T (symmetrised) + u v'',      phi(u)'' = phi''(u) u' u'^T + phi'(u) u'',

with phi, phi', phi'' evaluated on the value's ball. Seeded with the parameters as balls covering a box, the result
encloses the value, gradient and Hessian of the function at every point of the box (the inclusion property of
interval arithmetic); seeded with thin balls it gives them at a point with rigorous rounding bounds. ``order = 1``
drops the Hessian (cheaper, for centre gradients). The Hessian is stored as its upper triangle, row by row.

References: Griewank & Walther, "Evaluating Derivatives" (2008), ch. 13 (Taylor arithmetic); Moore, Kearfott,
Cloud, "Introduction to Interval Analysis" (2009), ch. 6 (the inclusion property and mean-value forms).

Examples
--------
>>> from flint import arb
>>> x, y = Jet.variables([arb(2), arb(3)])
>>> f = x * x * y + (x * y).apply(arb(6).sin(), arb(6).cos(), -arb(6).sin())   # x^2 y + sin(x y)
>>> [float(v.mid()) for v in f.g] == [float((2 * 2 * 3 + 3 * arb(6).cos()).mid()), float((4 + 2 * arb(6).cos()).mid())]
True
>>> f.hess(0, 0).overlaps(2 * 3 - 9 * arb(6).sin())
True
"""

from __future__ import annotations

from flint import arb


def _tri(p: int) -> list[tuple[int, int]]:
    return [(i, k) for i in range(p) for k in range(i, p)]


_PAIRS: dict[int, list[tuple[int, int]]] = {}


def pairs(p: int) -> list[tuple[int, int]]:
    """The (i, k), i <= k, of the stored Hessian entries, in storage order."""
    if p not in _PAIRS:
        _PAIRS[p] = _tri(p)
    return _PAIRS[p]


class Jet:
    """Value ``v`` (arb), gradient ``g`` (p arbs) and, at order 2, Hessian upper triangle ``h`` (p (p + 1) / 2 arbs)."""

    __slots__ = ("v", "g", "h")

    def __init__(self, v: arb, g: list, h: list | None):
        self.v, self.g, self.h = v, g, h

    # ---- construction ----
    @staticmethod
    def variables(values, order: int = 2) -> list["Jet"]:
        """Independent variables x_i = values[i] (balls)."""
        p = len(values)
        zero = arb(0)
        out = []
        for i, x in enumerate(values):
            g = [zero] * p
            g[i] = arb(1)
            out.append(Jet(arb(x), g, [zero] * (p * (p + 1) // 2) if order == 2 else None))
        return out

    @staticmethod
    def constant(c, p: int, order: int = 2) -> "Jet":
        zero = arb(0)
        return Jet(arb(c), [zero] * p, [zero] * (p * (p + 1) // 2) if order == 2 else None)

    @property
    def order(self) -> int:
        return 1 if self.h is None else 2

    def hess(self, i: int, k: int) -> arb:
        """The Hessian entry (i, k)."""
        if i > k:
            i, k = k, i
        p = len(self.g)
        return self.h[i * p - i * (i - 1) // 2 + (k - i)]

    # ---- arithmetic ----
    def _lift(self, other) -> "Jet":
        if isinstance(other, Jet):
            return other
        return Jet.constant(other, len(self.g), self.order)

    def __add__(self, other):
        if not isinstance(other, Jet):
            return Jet(self.v + other, self.g, self.h)
        h = None if self.h is None or other.h is None else [a + b for a, b in zip(self.h, other.h)]
        return Jet(self.v + other.v, [a + b for a, b in zip(self.g, other.g)], h)

    __radd__ = __add__

    def __neg__(self):
        return Jet(-self.v, [-a for a in self.g], None if self.h is None else [-a for a in self.h])

    def __sub__(self, other):
        return self + (-other if isinstance(other, Jet) else -arb(other))

    def __rsub__(self, other):
        return (-self) + other

    def scale(self, c) -> "Jet":
        """c times the jet, c a constant (arb or number)."""
        return Jet(self.v * c, [a * c for a in self.g], None if self.h is None else [a * c for a in self.h])

    def __mul__(self, other):
        if not isinstance(other, Jet):
            return self.scale(other)
        a, b = self, other
        v = a.v * b.v
        g = [a.v * gb + b.v * ga for ga, gb in zip(a.g, b.g)]
        h = None
        if a.h is not None and b.h is not None:
            p = len(a.g)
            h = [a.v * hb + b.v * ha + a.g[i] * b.g[k] + a.g[k] * b.g[i]
                 for (i, k), ha, hb in zip(pairs(p), a.h, b.h)]
        return Jet(v, g, h)

    __rmul__ = __mul__

    def apply(self, f0: arb, f1: arb, f2: arb | None) -> "Jet":
        """phi(self) given phi, phi', phi'' at the value's ball (f2 unused at order 1)."""
        g = [f1 * a for a in self.g]
        h = None
        if self.h is not None:
            p = len(self.g)
            h = [f2 * self.g[i] * self.g[k] + f1 * hh for (i, k), hh in zip(pairs(p), self.h)]
        return Jet(f0, g, h)

    def reciprocal(self) -> "Jet":
        r = 1 / self.v
        return self.apply(r, -r * r, 2 * r * r * r if self.h is not None else None)

    def __truediv__(self, other):
        if not isinstance(other, Jet):
            return self.scale(1 / arb(other))
        return self * other.reciprocal()

    def sqrt(self) -> "Jet":
        s = self.v.sqrt()
        f1 = 1 / (2 * s)
        return self.apply(s, f1, -f1 / (2 * self.v) if self.h is not None else None)

    def cos(self) -> "Jet":
        c, s = self.v.cos(), self.v.sin()
        return self.apply(c, -s, -c)

    def sin(self) -> "Jet":
        c, s = self.v.cos(), self.v.sin()
        return self.apply(s, c, -s)


def dot(xs, ys):
    """sum_i xs_i ys_i for jets or constants (at least one jet per product)."""
    total = None
    for x, y in zip(xs, ys):
        term = y * x if isinstance(y, (Jet, Pair)) else x * y
        total = term if total is None else total + term
    return total


def norm_bound(vector: list[Jet], i: int) -> arb:
    """An upper bound (as an exact ball) on |d vector / d x_i| over the jet's domain."""
    s = arb(0)
    for c in vector:
        c = c.box if isinstance(c, Pair) else c
        s += c.g[i] * c.g[i]
    return arb(arb(s.upper()).sqrt().upper())


def tighten(box: Jet, centre: Jet, deltas: list) -> Jet:
    """The box jet with value and gradient narrowed by the second-order centred forms

        f(c + d) in f(c) + grad f(c) . d + d^T H(X) d / 2,     grad f(c + d) in grad f(c) + H(X) d,

    (``centre``: the jet at the box centre, at least order 1; ``deltas``: the balls [-h_i, h_i] of d), each
    intersected with the natural enclosure. Both contain the true values (Taylor's theorem with H(X) enclosing
    the Hessian on the box), so their intersection does."""
    p = len(box.g)
    h = box.h
    full = [[None] * p for _ in range(p)]
    quad = arb(0)
    idx = 0
    for i in range(p):
        di = deltas[i]
        for k in range(i, p):
            hh = h[idx]
            idx += 1
            full[i][k] = full[k][i] = hh
            quad += hh * di * deltas[k] if i == k else 2 * hh * di * deltas[k]
    v = centre.v + quad / 2
    for gc, dl in zip(centre.g, deltas):
        v += gc * dl
    if box.v.is_finite():
        v = v.intersection(box.v)
    g = []
    for i in range(p):
        gi = centre.g[i]
        row = full[i]
        for k in range(p):
            gi += row[k] * deltas[k]
        bg = box.g[i]
        g.append(gi.intersection(bg) if bg.is_finite() else gi)
    return Jet(v, g, h)


class Pair:
    """A function of p parameters on a box, carried two ways: ``box`` (order-2 jet on the whole box) and ``centre``
    (order-1 jet at the box centre), with ``deltas`` the balls [-h_i, h_i] of the offsets from the centre.

    Every nonlinear operation narrows the box jet's value and gradient by the centred forms of ``tighten``
    before its result is used, which keeps the dependency of interval arithmetic from compounding (a ratio
    u / ||u|| on a box of radius 0.002 is enclosed to ~1e-7 instead of ~1e-3).

    Examples
    --------
    >>> x, = Pair.variables([arb(1)], [arb(0, 1e-3)])
    >>> y = (x * x + 1).sqrt()                       # sqrt(1 + x^2) on [1 - 1e-3, 1 + 1e-3]
    >>> bool(y.box.v.rad() < 1e-3 and y.box.v.contains(arb(2).sqrt()))
    True
    """

    __slots__ = ("box", "centre", "deltas")

    def __init__(self, box: Jet, centre: Jet, deltas: list):
        self.box, self.centre, self.deltas = box, centre, deltas

    @staticmethod
    def variables(centres, deltas) -> list["Pair"]:
        boxes = Jet.variables([c + dl for c, dl in zip(centres, deltas)], 2)
        cents = Jet.variables(list(centres), 1)
        return [Pair(b, c, list(deltas)) for b, c in zip(boxes, cents)]

    def constant_like(self, c) -> "Pair":
        p = len(self.deltas)
        return Pair(Jet.constant(c, p, 2), Jet.constant(c, p, 1), self.deltas)

    def _make(self, box: Jet, centre: Jet, narrow: bool = True) -> "Pair":
        return Pair(tighten(box, centre, self.deltas) if narrow else box, centre, self.deltas)

    def __add__(self, other):
        if isinstance(other, Pair):
            return Pair(self.box + other.box, self.centre + other.centre, self.deltas)
        return Pair(self.box + other, self.centre + other, self.deltas)

    __radd__ = __add__

    def __neg__(self):
        return Pair(-self.box, -self.centre, self.deltas)

    def __sub__(self, other):
        return self + (-other if isinstance(other, Pair) else -arb(other))

    def __rsub__(self, other):
        return (-self) + other

    def scale(self, c) -> "Pair":
        return Pair(self.box.scale(c), self.centre.scale(c), self.deltas)

    def __mul__(self, other):
        if not isinstance(other, Pair):
            return self.scale(other)
        return self._make(self.box * other.box, self.centre * other.centre, narrow=False)

    def tight(self) -> "Pair":
        """The same Pair with its box value and gradient narrowed (``tighten``)."""
        return self._make(self.box, self.centre)

    __rmul__ = __mul__

    def reciprocal(self) -> "Pair":
        x = self.tight()
        return self._make(x.box.reciprocal(), x.centre.reciprocal())

    def __truediv__(self, other):
        if not isinstance(other, Pair):
            return self.scale(1 / arb(other))
        return self * other.reciprocal()

    def sqrt(self) -> "Pair":
        x = self.tight()
        return self._make(x.box.sqrt(), x.centre.sqrt())

    def cos(self) -> "Pair":
        x = self.tight()
        return self._make(x.box.cos(), x.centre.cos())

    def sin(self) -> "Pair":
        x = self.tight()
        return self._make(x.box.sin(), x.centre.sin())
