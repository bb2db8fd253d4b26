"""Charts of the simplex-ETF orientations modulo symmetry, for branch-and-bound over SO(d) (regime III).

At the ETF the Gram matrix, hence K, is fixed; only b_R = (b(R u_j))_j depends on the rotation R, so

    F(R) = C - b_R^T K_ETF^{-1} b_R = C - M bbar^2 / lambda - |b_R - bbar 1|^2 / (kappa(1) - kappa(rho0)),

lambda = kappa(1) + (M - 1) kappa(rho0), bbar the mean of b_R (K_ETF = (kappa(1) - kappa(rho0)) I + kappa(rho0) 1 1^T).
F is invariant under signed permutations of coordinates acting on the left (b is, K is unchanged) and under
permutations of the rows (the symmetries of the ETF acting on the right), so each chart covers every orientation
at least once, which is all a lower bound needs:

* ``planar`` (M = 3, d = 2): v_j = (cos(phi + 2 pi j/3), sin(phi + 2 pi j/3)); rotations by 90 degrees and
  reflections (B_2) and by 120 degrees (rows) leave F unchanged: phi in [0, pi/12] (15 degrees). 1 parameter.
* ``plane_in_r3`` (M = 3, d = 3): the ETF spans the plane with normal n = u / |u|, u = (1, x, y), and B_3 maps any
  normal into 1 >= x >= y >= 0; in the plane, A = w x u and B = u x A (w = (0, 1, -1), never parallel to u) give the
  orthonormal basis A/|A|, B/(|u| |A|), and v_j = cos(psi_j) A/|A| + sin(psi_j) B/(|u||A|), psi_j = psi + 2 pi j/3,
  psi in [0, 2 pi/3] (a set of three directions 120 degrees apart is fixed by psi mod 120 degrees). 3 parameters.
* ``hyperplane_in_r4`` (M = 4, d = 4): the ETF spans the hyperplane u^perp, u = (1, x, y, z), 1 >= x >= y >= z >= 0
  (B_4); as quaternions, u i, u j, u k / |u| are an orthonormal basis of u^perp, and the regular tetrahedron t_j
  (cube diagonals, even number of minus signs) is rotated by a unit quaternion q: v_j = u (q t_j q^-1) / |u|. The
  rotation group of the tetrahedron is the binary tetrahedral group on the right, whose Dirichlet cell around 1 is
  q_0 >= |q_1| + |q_2| + |q_3|: q = (1, a, b, c) with |a| + |b| + |c| <= 1. Improper rotations of the tetrahedron
  are among its symmetries, so SO(3) suffices. 6 parameters.
* ``tetrahedron_in_r3`` (M = 4, d = 3): v_j = q t_j q^-1, q = (1, a, b, c), |a| + |b| + |c| <= 1 (no left reduction).

Every chart gives its rows as numerator * factor (a polynomial vector over a norm), which keeps ball enclosures
tight (``conjecture.ball_objective.BallObjective.b_pair``).

References: derived here (docs/regime3.md, "certificates"); Conway & Smith, "On Quaternions and Octonions" (2003),
ch. 3 (the binary tetrahedral group and the 24-cell).

Examples
--------
>>> fam = orientation_family(3, 3)
>>> rows = fam.rows_float(np.array([0.3, 0.1, 0.5]))
>>> bool(np.allclose(rows @ rows.T, (3 * np.eye(3) - 1) / 2))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np
from flint import arb


TETRAHEDRON = ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1))  # cube diagonals, an even number of minus signs


def _abs_min(lo: Fraction, hi: Fraction) -> Fraction:
    return Fraction(0) if lo <= 0 <= hi else min(abs(lo), abs(hi))


def _sorted_ok(lo, hi, idx) -> bool:
    """The box can meet 1 >= x_idx[0] >= x_idx[1] >= ... (each coordinate's lower end below the previous upper)."""
    return all(lo[idx[i + 1]] <= hi[idx[i]] for i in range(len(idx) - 1))


def _octa_ok(lo, hi, idx) -> bool:
    return sum(_abs_min(lo[i], hi[i]) for i in idx) <= 1


@dataclass(frozen=True)
class OrientationFamily:
    """One chart of ETF orientations: parameter boxes, a domain filter, rows as Pairs and as floats."""

    name: str
    M: int
    d: int
    parameters: tuple
    boxes: tuple
    keep: Callable
    pair_rows: Callable
    float_rows: Callable
    reduction: str
    domain_volume: float = 1.0  # volume of the reduced domain inside the boxes (chart units)

    @property
    def dim(self) -> int:
        return len(self.parameters)

    def rows_float(self, theta) -> np.ndarray:
        """The M unit rows at parameters theta (float64)."""
        return self.float_rows(np.asarray(theta, dtype=float))

    def rows(self, params: list) -> list:
        """[(vector, numerator, factor)] per row, Pairs (vector = numerator * factor, unit)."""
        return self.pair_rows(params)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n parameter points drawn uniformly from the initial boxes and kept inside the domain."""
        out = []
        lo = np.array([[float(x) for x in b[0]] for b in self.boxes])
        hi = np.array([[float(x) for x in b[1]] for b in self.boxes])
        while len(out) < n:
            k = rng.integers(len(self.boxes))
            t = lo[k] + (hi[k] - lo[k]) * rng.random(self.dim)
            box = (tuple(Fraction(float(x)) for x in t), tuple(Fraction(float(x)) for x in t))
            if self.keep(box):
                out.append(t)
        return np.array(out)


# ---- planar: M = 3, d = 2 ----
def _planar_pairs(ps):
    phi = ps[0]
    out = []
    for j in range(3):
        a = phi + arb.pi() * 2 * j / 3
        v = [a.cos(), a.sin()]
        out.append((v, None, None))
    return out


def _planar_float(t):
    a = t[0] + 2 * np.pi * np.arange(3) / 3
    return np.stack([np.cos(a), np.sin(a)], axis=1)


# ---- plane in R^3: M = 3, d = 3 ----
def _plane_pairs(ps):
    x, y, psi = ps
    one = x.constant_like(1)
    u2 = x * x + y * y + 1
    nu = u2.sqrt()
    A = [x + y, -one, -one]
    B = [y - x, x * y + y * y + 1, -(x * x) - x * y - 1]
    nA = (A[0] * A[0] + 2).sqrt()
    factor = (nu * nA).reciprocal()
    out = []
    for j in range(3):
        a = psi + arb.pi() * 2 * j / 3
        c, s = a.cos(), a.sin()
        num = [c * nu * Ak + s * Bk for Ak, Bk in zip(A, B)]
        out.append(([n * factor for n in num], num, factor))
    return out


def _plane_float(t):
    x, y, psi = t
    u = np.array([1.0, x, y])
    A = np.cross([0.0, 1.0, -1.0], u)
    B = np.cross(u, A)
    e1, e2 = A / np.linalg.norm(A), B / np.linalg.norm(B)
    a = psi + 2 * np.pi * np.arange(3) / 3
    return np.cos(a)[:, None] * e1 + np.sin(a)[:, None] * e2


# ---- quaternion helpers ----
def _rot_numerators(q):
    """|q|^2 R(q) as a 3 x 3 list (entries quadratic in q = (q0, q1, q2, q3))."""
    q0, q1, q2, q3 = q
    return [[q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, (q1 * q2 - q0 * q3) * 2, (q1 * q3 + q0 * q2) * 2],
            [(q1 * q2 + q0 * q3) * 2, q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, (q2 * q3 - q0 * q1) * 2],
            [(q1 * q3 - q0 * q2) * 2, (q2 * q3 + q0 * q1) * 2, q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3]]


def _left_pure(u, p):
    """The quaternion product u * (0, p)."""
    u0, u1, u2, u3 = u
    p1, p2, p3 = p
    return [-(u1 * p1) - u2 * p2 - u3 * p3, u0 * p1 + u2 * p3 - u3 * p2, u0 * p2 - u1 * p3 + u3 * p1,
            u0 * p3 + u1 * p2 - u2 * p1]


def _tetra_rows(R):
    rows = []
    for t in TETRAHEDRON:
        rows.append([sum((R[i][k] * t[k] for k in range(1, 3)), R[i][0] * t[0]) for i in range(3)])
    return rows


def _hyper_pairs(ps):
    x, y, z, a, b, c = ps
    one = x.constant_like(1)
    q = [one, a, b, c]
    u = [one, x, y, z]
    q2 = a * a + b * b + c * c + 1
    nu = (x * x + y * y + z * z + 1).sqrt()
    factor = (nu * q2).reciprocal().scale(1 / arb(3).sqrt())
    R = _rot_numerators(q)
    out = []
    for p in _tetra_rows(R):
        num = _left_pure(u, p)
        out.append(([n * factor for n in num], num, factor))
    return out


def _quat_rot(q):
    q0, q1, q2, q3 = q
    n = q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3
    R = np.array([[q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3, 2 * (q1 * q2 - q0 * q3), 2 * (q1 * q3 + q0 * q2)],
                  [2 * (q1 * q2 + q0 * q3), q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3, 2 * (q2 * q3 - q0 * q1)],
                  [2 * (q1 * q3 - q0 * q2), 2 * (q2 * q3 + q0 * q1), q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3]])
    return R / n


def _hyper_float(t):
    x, y, z, a, b, c = t
    R = _quat_rot((1.0, a, b, c))
    P = (np.array(TETRAHEDRON, dtype=float) / math.sqrt(3)) @ R.T
    u = np.array([1.0, x, y, z])
    rows = np.array([_left_pure(u, p) for p in P]) / np.linalg.norm(u)
    return rows


def _tetra_pairs(ps):
    a, b, c = ps
    one = a.constant_like(1)
    q2 = a * a + b * b + c * c + 1
    factor = q2.reciprocal().scale(1 / arb(3).sqrt())
    R = _rot_numerators([one, a, b, c])
    return [([n * factor for n in num], num, factor) for num in _tetra_rows(R)]


def _tetra_float(t):
    R = _quat_rot((1.0, *t))
    return (np.array(TETRAHEDRON, dtype=float) / math.sqrt(3)) @ R.T


F0, F1 = Fraction(0), Fraction(1)
PHI_MAX = Fraction(2618, 10000)    # > pi / 12 = 0.261799...
PSI_MAX = Fraction(20944, 10000)   # > 2 pi / 3 = 2.094395...

FAMILIES = {
    (3, 2): OrientationFamily("planar", 3, 2, ("phi",), (((F0,), (PHI_MAX,)),), lambda box: True, _planar_pairs,
                              _planar_float, "phi in [0, pi/12]: B_2 (rotations by 90 degrees, reflections) and "
                                             "the rows' 120-degree rotation", float(PHI_MAX)),
    (3, 3): OrientationFamily("plane_in_r3", 3, 3, ("x", "y", "psi"), (((F0, F0, F0), (F1, F1, PSI_MAX)),),
                              lambda box: _sorted_ok(box[0], box[1], (0, 1)), _plane_pairs, _plane_float,
                              "normal (1, x, y) with 1 >= x >= y >= 0 (B_3), in-plane angle psi in [0, 2 pi/3]",
                              float(PSI_MAX) / 2),
    (4, 4): OrientationFamily("hyperplane_in_r4", 4, 4, ("x", "y", "z", "a", "b", "c"),
                              (((F0, F0, F0, -F1, -F1, -F1), (F1, F1, F1, F1, F1, F1)),),
                              lambda box: _sorted_ok(box[0], box[1], (0, 1, 2)) and _octa_ok(box[0], box[1], (3, 4, 5)),
                              _hyper_pairs, _hyper_float,
                              "normal (1, x, y, z), 1 >= x >= y >= z >= 0 (B_4); tetrahedron rotated by q = (1, a, b, "
                              "c), |a| + |b| + |c| <= 1 (binary tetrahedral group)", (1 / 6) * (4 / 3)),
    (4, 3): OrientationFamily("tetrahedron_in_r3", 4, 3, ("a", "b", "c"), (((-F1, -F1, -F1), (F1, F1, F1)),),
                              lambda box: _octa_ok(box[0], box[1], (0, 1, 2)), _tetra_pairs, _tetra_float,
                              "q = (1, a, b, c), |a| + |b| + |c| <= 1 (binary tetrahedral group); no left reduction",
                              4 / 3),
}


def orientation_family(M: int, d: int) -> OrientationFamily | None:
    """The chart for (M, d), or None where none is implemented ((3, 2), (3, 3), (4, 3), (4, 4) are)."""
    return FAMILIES.get((int(M), int(d)))
