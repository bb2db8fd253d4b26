"""Exact memorisation constructions for two-layer networks, with rational weights.

Bubeck, Eldan, Lee and Mikulincer (NeurIPS 2020, arXiv:2006.02855) cite Baum (1988): ceil(n/d) threshold
neurons memorise binary labels of n points in general position in R^d, and four times as many ReLUs fit
arbitrary real labels.  The full text is not available here; these are the toolkit's own constructions.

Points are integer vectors x in Z^d; every hyperplane is h(x) = w.x + w0 with an integer, primitive (w, w0),
so on a data point off the hyperplane |h(x)| >= 1.  Groups of d points span a unique hyperplane when they
are affinely independent (checked: the integer null space of [x_i, 1] has dimension 1).

* Threshold slabs (binary labels 0/1): the minority-label points, d at a time; around each group's
  hyperplane two parallel threshold units 1[h + t >= 0] and 1[h - t >= 0] with output weights +-(y_min - y_maj),
  and output bias y_maj, where 0 < t < min_{x off the plane} |h(x)| (the slab is as wide as the data allow).
  Their difference is 1 exactly when h(x) = 0.  Neurons: 2 ceil(n_minority / d).
* ReLU groups (rational labels): all points, d at a time; the affine tilt l(x) = v.x + v0 (minimum-norm
  solution of l(x_i) = y_i on the group) and, with L = max |y_i| on the group and
  A >= max_{x off the plane} (L + |l(x)|) / |h(x)|,
      + relu(A h + l + L) - relu(A h + L) - relu(A h + l - L) + relu(A h - L)
  equals l(x) = y_i on the group (h = 0) and exactly 0 off it.  Neurons: 4 ceil(n / d).

t and A come from float64 values of h and l with rigorous rounding bounds (and |h| >= 1 for integer data
off the plane), rounded to multiples of 1/1024 in the safe direction; the network is then checked exactly.

The last, partial group is padded with auxiliary integer points (not data) to fix its hyperplane.
Correctness on the data needs one property, checked exactly in ``numerics.memorization_check``: no data
point outside a group lies on that group's hyperplane.

Examples
--------
>>> hyperplane_through([(0, 0), (1, 1)])
(1, -1, 0)
>>> c = relu_construction([(0, 0), (1, 2), (3, 1)], [Fraction(1), Fraction(-2), Fraction(1, 2)], d=2,
...                       pad=lambda k: [(5, 7)] * k)
>>> c.neurons, c.bound
(8, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence

import flint
import numpy as np

from theory.errors import InputError

ACTIVATIONS = ("threshold", "relu")
# Most padding attempts for a partial group before giving up (a random pad is affinely independent almost surely).
MAX_PAD_TRIES = 20


@dataclass(frozen=True)
class Block:
    """Neurons sharing a denominator D: neuron j computes z_j(x) = rows[j] . (x, 1) / D and contributes
    out[j] * relu(z_j) (ReLU) or out[j] * 1[z_j >= 0] (threshold).  ``rows`` are integers."""

    rows: tuple[tuple[int, ...], ...]
    out: tuple[Fraction, ...]
    denominator: int = 1


@dataclass(frozen=True)
class Construction:
    """A two-layer network f(x) = output_bias + sum over blocks, and how it was built."""

    activation: str
    d: int
    blocks: tuple[Block, ...]
    output_bias: Fraction
    groups: tuple[tuple[int, ...], ...]       # data indices of each block's group
    hyperplanes: tuple[tuple[int, ...], ...]  # integer (w_1..w_d, w0) of each group
    bound: int                                # the claimed neuron count: ceil(n/d) or 4 ceil(n/d)

    @property
    def neurons(self) -> int:
        return sum(len(b.rows) for b in self.blocks)


def hyperplane_through(points: Sequence[Sequence[int]]) -> tuple[int, ...] | None:
    """Primitive integer (w, w0) with w.x + w0 = 0 at each of d integer points in Z^d (sign: first nonzero
    entry positive); None when the points are affinely dependent (the hyperplane is not unique)."""
    d = len(points[0])
    if len(points) != d:
        raise InputError("points", f"expected {d} points to fix a hyperplane in R^{d}", got=len(points))
    M = flint.fmpz_mat([[int(v) for v in p] + [1] for p in points])
    N, nullity = M.nullspace()
    if nullity != 1:
        return None
    vec = [int(N[i, 0]) for i in range(d + 1)]
    g = 0
    for v in vec:
        g = math.gcd(g, v)
    vec = [v // g for v in vec]
    if next(v for v in vec if v != 0) < 0:
        vec = [-v for v in vec]
    return tuple(vec)


def _group_hyperplane(pts: list, d: int, pad: Callable[[int], list]) -> tuple[int, ...]:
    for _ in range(MAX_PAD_TRIES):
        full = pts + ([] if len(pts) == d else [tuple(int(v) for v in q) for q in pad(d - len(pts))])
        h = hyperplane_through(full)
        if h is not None:
            return h
        if len(pts) == d:
            break
    raise InputError("points", "a group of points is affinely dependent (not in general position)",
                     got=[list(p) for p in pts][:3])


U = 2.0 ** -53
GRID = 1024  # t and A are multiples of 1/GRID


def _affine_with_error(coef: Sequence, Xf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 values of coef . (x, 1) at the rows of Xf and a rigorous bound on their error (coef exact)."""
    c = np.array([float(v) for v in coef])
    vals = Xf @ c[:-1] + c[-1]
    mag = np.abs(Xf) @ np.abs(c[:-1]) + abs(c[-1])
    return vals, 4.0 * (len(coef) + 2) * U * mag * (1 + 1e-6)


def _plane_gaps(h: Sequence[int], Xf: np.ndarray) -> np.ndarray:
    """Rigorous lower bounds of |h(x)| at the data points (>= 1 off the plane: h is an integer there)."""
    vals, err = _affine_with_error(h, Xf)
    return np.maximum(np.abs(vals) - err, 1.0)


def _groups(indices: Sequence[int], d: int) -> list[tuple[int, ...]]:
    return [tuple(indices[i:i + d]) for i in range(0, len(indices), d)]


def threshold_construction(points: Sequence[Sequence[int]], labels: Sequence[int], d: int,
                           pad: Callable[[int], list]) -> Construction:
    """Baum-style slabs for labels in {0, 1}: 2 ceil(n_minority / d) threshold units (see module docstring)."""
    n = len(points)
    if any(y not in (0, 1) for y in labels):
        raise InputError("labels", "threshold labels must be 0 or 1")
    ones = [i for i in range(n) if labels[i] == 1]
    y_min = 1 if len(ones) <= n - len(ones) else 0
    minority = [i for i in range(n) if labels[i] == y_min]
    jump = Fraction(y_min - (1 - y_min))
    Xf = np.asarray(points, dtype=np.float64).reshape(n, d)
    blocks, groups, planes = [], [], []
    for grp in _groups(minority, d):
        h = _group_hyperplane([tuple(int(v) for v in points[i]) for i in grp], d, pad)
        gaps = np.delete(_plane_gaps(h, Xf), list(grp))
        half = float(gaps.min()) / 2 if gaps.size else 0.5
        t = Fraction(max(math.floor(half * (1 - 1e-9) * GRID), 1), GRID)  # 0 < t <= min |h| / 2 off the plane
        w = [GRID * v for v in h[:d]]
        w0 = GRID * h[d]
        tt = int(t * GRID)
        rows = (tuple(w) + (w0 + tt,), tuple(w) + (w0 - tt,))
        blocks.append(Block(rows, (jump, -jump)))
        groups.append(grp)
        planes.append(h)
    return Construction("threshold", d, tuple(blocks), Fraction(1 - y_min), tuple(groups), tuple(planes),
                        -(-n // d))


def _min_norm_tilt(pts: list, ys: list, d: int) -> list[Fraction]:
    """(v_1..v_d, v0) of minimum Euclidean norm with v.x_i + v0 = y_i (exact: z = A^T (A A^T)^-1 y)."""
    A = flint.fmpq_mat([[int(v) for v in p] + [1] for p in pts])
    y = flint.fmpq_mat([[flint.fmpq(Fraction(t).numerator, Fraction(t).denominator)] for t in ys])
    z = A.transpose() * (A * A.transpose()).solve(y)
    return [Fraction(int(z[i, 0].p), int(z[i, 0].q)) for i in range(d + 1)]


def relu_construction(points: Sequence[Sequence[int]], labels: Sequence[Fraction], d: int,
                      pad: Callable[[int], list]) -> Construction:
    """Four ReLUs per group of d points interpolating rational labels exactly (see module docstring)."""
    n = len(points)
    pts_all = [tuple(int(v) for v in p) for p in points]
    Xf = np.asarray(pts_all, dtype=np.float64).reshape(n, d)
    blocks, groups, planes = [], [], []
    for grp in _groups(list(range(n)), d):
        pts = [pts_all[i] for i in grp]
        ys = [Fraction(labels[i]) for i in grp]
        h = _group_hyperplane(pts, d, pad)
        tilt = _min_norm_tilt(pts, ys, d)
        L = max((abs(t) for t in ys), default=Fraction(0)) or Fraction(1)
        lv, lerr = _affine_with_error(tilt, Xf)
        need = (float(L) * (1 + 1e-9) + np.abs(lv) + lerr) / _plane_gaps(h, Xf)
        need = np.delete(need, list(grp))
        A = Fraction(math.ceil(float(need.max()) * (1 + 1e-9) * GRID), GRID) if need.size else Fraction(0)
        den = math.lcm(*(t.denominator for t in tilt), L.denominator, A.denominator)
        hs = [int(A * den) * c for c in h]                              # den * A h
        tl = [int(t * den) for t in tilt]                               # den * l
        Ld = int(L * den)
        plus = tuple(a + b for a, b in zip(hs, tl))
        rows = (plus[:d] + (plus[d] + Ld,), tuple(hs[:d]) + (hs[d] + Ld,),
                plus[:d] + (plus[d] - Ld,), tuple(hs[:d]) + (hs[d] - Ld,))
        one = Fraction(1)
        blocks.append(Block(rows, (one, -one, -one, one), den))
        groups.append(grp)
        planes.append(h)
    return Construction("relu", d, tuple(blocks), Fraction(0), tuple(groups), tuple(planes), 4 * -(-n // d))


def build(activation: str, points, labels, d: int, pad: Callable[[int], list]) -> Construction:
    """The construction named ``activation`` ('threshold' or 'relu')."""
    if activation == "threshold":
        return threshold_construction(points, labels, d, pad)
    if activation == "relu":
        return relu_construction(points, labels, d, pad)
    raise InputError("construction", f"expected one of {', '.join(ACTIVATIONS)}", got=activation)
