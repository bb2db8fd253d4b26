"""The ReLU even kernel minus its degree-4 Taylor polynomial, enclosed on float64 intervals (monotonicity).

kappa_e(r) = (kappa(r) + kappa(-r)) / 2 = e(r) / (2 pi),  e(r) = sqrt(1 - r^2) + r asin r,
e'(r) = asin r, e''(r) = 1 / sqrt(1 - r^2) = sum_n C(2n, n) 4^-n r^(2n), so
e(r) = 1 + r^2 / 2 + r^4 / 24 + sum_{n >= 2} C(2n, n) 4^-n r^(2n+2) / ((2n+1)(2n+2)). The remainder

    H4(r) = e(r) - 1 - r^2/2 - r^4/24     (even, >= 0, increasing in |r|; H4(1) = pi/2 - 37/24 = 0.0291),
    H4'(r) = asin r - r - r^3/6           (odd, increasing: H4'' >= 0),
    H4''(r) = 1/sqrt(1 - r^2) - 1 - r^2/2 (even, >= 0, increasing in |r|, +inf at |r| = 1),
    D(r) = (1 - r^2) H4''(r) = sqrt(1 - r^2) - (1 - r^2)(1 + r^2/2)   in [0, sqrt(1 - r^2)],

has all its Taylor coefficients >= 0 (so do the remainders after degree 6 and 8, ``degree``; the damped bound
holds for them too, since the subtracted polynomial of e'' is >= 0), so each of H4, H4', H4'' is monotone on r >= 0 with the parity above, and its
range on an interval of [-1, 1] is spanned by its values at the end points (or at 0). Those point values are
computed in float64 and widened by an absolute error bound ``POINT_ERROR`` (+ a relative one for H4'', which
grows like (1 - r^2)^(-1/2)): every term has magnitude <= 2 and there are <= 8 correctly rounded operations plus
one libm asin. ASSUMPTION (stated, not proved here): numpy's asin (the platform libm) is accurate to 4 ulp; glibc
documents < 1 ulp. 1 - r^2 is formed as (1 - |r|)(1 + |r|) (1 - |r| is exact for |r| >= 1/2 by Sterbenz's lemma),
so its relative error is <= 2 ulp even next to |r| = 1.

References: derived here (docs/regime3.md §3 uses kappa_e); Cho & Saul, "Kernel methods for deep learning" (2009)
(the arc-cosine kernel); Abramowitz & Stegun 4.4.40 (the series of asin).

Examples
--------
>>> import math
>>> lo, hi = h4_range((np.array([0.5]), np.array([0.5])))
>>> exact = math.sqrt(0.75) + 0.5 * math.asin(0.5) - 1 - 0.125 - 0.0625 / 24
>>> bool(lo[0] <= exact <= hi[0] and hi[0] - lo[0] < 1e-13)
True
"""

from __future__ import annotations


import numpy as np

from conjecture.float_interval import down, up

POINT_ERROR = 1e-14          # absolute error bound of one float64 point value of H4, H4', H4'' (see docstring)
RELATIVE_ERROR = 4e-15       # relative error bound of 1/sqrt(1 - r^2) (about 18 ulp)


def _one_minus_sq(a: np.ndarray) -> np.ndarray:
    return (1.0 - a) * (1.0 + a)


# Taylor coefficients: e''(r) = sum_n C(2n, n) 4^-n r^(2n); e' and e integrate it term by term.
_C = (1.0, 0.5, 0.375, 0.3125, 0.2734375)


def _poly_e(a, degree):
    """sum_{2k <= degree} (coefficient of r^(2k) in e) a^(2k)."""
    out = np.ones_like(a)
    a2 = a * a
    pw = np.ones_like(a)
    for n in range(degree // 2):
        pw = pw * a2
        out = out + _C[n] * pw / ((2 * n + 1) * (2 * n + 2))
    return out


def _poly_e1(a, degree):
    out = np.zeros_like(a)
    pw = a.copy()
    a2 = a * a
    for n in range(degree // 2):
        out = out + _C[n] * pw / (2 * n + 1)
        pw = pw * a2
    return out


def _poly_e2(a, degree):
    out = np.zeros_like(a)
    pw = np.ones_like(a)
    a2 = a * a
    for n in range(degree // 2):
        out = out + _C[n] * pw
        pw = pw * a2
    return out


def h4_point(r: np.ndarray, degree: int = 4) -> np.ndarray:
    """The remainder after degree ``degree`` (4, 6 or 8) of e at float points r in [-1, 1] (see POINT_ERROR)."""
    a = np.abs(r)
    return np.sqrt(np.maximum(_one_minus_sq(a), 0.0)) + a * np.arcsin(a) - _poly_e(a, degree)


def h4p_point(r: np.ndarray, degree: int = 4) -> np.ndarray:
    a = np.abs(r)
    return np.sign(r) * (np.arcsin(a) - _poly_e1(a, degree))


def h4pp_point(r: np.ndarray, degree: int = 4) -> np.ndarray:
    a = np.abs(r)
    om = _one_minus_sq(a)
    with np.errstate(divide="ignore"):
        inv = np.where(om > 0, 1.0 / np.sqrt(np.maximum(om, 0.0)), np.inf)
    return inv - _poly_e2(a, degree)


def _abs_range(r):
    """min |t| and max |t| over the interval r (inside [-1, 1])."""
    lo, hi = r
    amax = np.maximum(np.abs(lo), np.abs(hi))
    amin = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    return amin, amax


def h4_range(r, degree: int = 4):
    """Enclosure of the remainder on the interval r (even, increasing in |t|)."""
    amin, amax = _abs_range(r)
    return np.maximum(h4_point(amin, degree) - POINT_ERROR, 0.0), up(h4_point(amax, degree) + POINT_ERROR)


def h4p_range(r, degree: int = 4):
    """Enclosure of the remainder's derivative on r (odd, increasing)."""
    return down(h4p_point(r[0], degree) - POINT_ERROR), up(h4p_point(r[1], degree) + POINT_ERROR)


def h4pp_range(r, degree: int = 4):
    """Enclosure of the remainder's second derivative on r (even, increasing in |t|; +inf where |t| reaches 1)."""
    amin, amax = _abs_range(r)
    lo = h4pp_point(amin, degree)
    hi = h4pp_point(amax, degree)
    return (np.maximum(down(lo - POINT_ERROR - RELATIVE_ERROR * np.abs(lo)), 0.0),
            up(hi + POINT_ERROR + RELATIVE_ERROR * np.abs(hi)))


def damped_range(r):
    """Enclosure of D = (1 - t^2) H4''(t) on r: [0, sqrt(1 - min|t|^2)] (widened)."""
    amin, _ = _abs_range(r)
    top = np.sqrt(np.maximum(_one_minus_sq(amin), 0.0))
    return np.zeros_like(top), up(top * (1 + 1e-15) + 1e-300)


