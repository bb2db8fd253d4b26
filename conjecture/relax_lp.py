"""Delsarte-Yudin linear-programming lower bound for beta >= 0 (any frame of M unit vectors in R^d).

For h(t) = sum_{k=0}^K h_k G_k(t), G_k the Gegenbauer polynomials of S^{d-1} normalised by G_k(1) = 1,
with h_k >= 0 for k >= 1 and h <= kappa on [-1, 1], every beta >= 0 and every frame satisfy
    beta^T K(V) beta >= sum_j beta_j^2 kappa(1) + sum_{j != l} beta_j beta_l h(rho_jl)     (beta_j beta_l >= 0, kappa >= h)
                      = (kappa(1) - h(1)) sum_j beta_j^2 + sum_{j,l} beta_j beta_l h(rho_jl)
                      >= (kappa(1) - h(1)) (sum beta)^2 / M + h_0 (sum beta)^2
because kappa(1) - h(1) >= 0, sum beta_j^2 >= (sum beta)^2 / M, and each G_k (k >= 1) is positive definite on
S^{d-1} (Schoenberg) while G_0 = 1. Write A(h) = h_0 + (kappa(1) - h(1)) / M. In regime (I) (b(v) = b constant)
    Ltilde >= C - 2 b s + A s^2 >= C - b^2 / A,     s = sum beta,
and the simplex ETF with equal beta attains C - b^2 / Q_ETF, Q_ETF = (kappa(1) + (M - 1) kappa(rho0)) / M,
rho0 = -1/(M-1). The tangent line h(t) = kappa(rho0) + kappa'(rho0) (t - rho0) gives A = Q_ETF exactly when
kappa is convex and increasing (the kappa'(rho0) terms cancel), so the bound is tight (docs/model.md §5).

The LP maximises A(h) over (h_0..h_K) on a grid; the candidate h is then rounded to exact rationals, shifted
down by delta, and h - delta <= kappa on all of [-1, 1] is proved with interval arithmetic
(``certify.certify_lower``). The certified bound is A_cert = h_0 - delta + (kappa(1) - h(1) + delta) / M.

References: Delsarte, Goethals, Seidel, "Spherical codes and designs", Geom. Dedicata 6 (1977);
Yudin, "Minimum potential energy of a point system of charges", Discrete Math. Appl. 3 (1993);
Schoenberg, "Positive definite functions on spheres", Duke Math. J. 9 (1942); docs/model.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp
from flint import arb, fmpq

from conjecture.certify import NonnegativityCertificate, certify_lower, poly_arb
from conjecture.interval import interval_kernel, working_bits
from conjecture.solver_call import solve_status
from theory.activations import Activation
from theory.kernels import dual_kernel

_T = sp.Symbol("t")
# Shift of h below kappa that the interval proof must establish: 1e-60 keeps the certified bound equal to
# the ETF value far beyond the 30 digits reported, and costs about 100 bisection levels at a tangency.
DEFAULT_DELTA = Fraction(1, 10**60)
PROOF_BITS = 320
BITS = PROOF_BITS


@lru_cache(maxsize=None)
def gegenbauer_monomials(k: int, d: int) -> tuple[Fraction, ...]:
    """Exact monomial coefficients of G_k^{(d)}(t) / G_k^{(d)}(1) (Chebyshev T_k for d = 2, Legendre for d = 3).

    Examples
    --------
    >>> gegenbauer_monomials(2, 3)   # (3 t^2 - 1) / 2
    (Fraction(-1, 2), Fraction(0, 1), Fraction(3, 2))
    """
    if d == 1:  # S^0 = {-1, 1}: t^2 = 1 there, only degrees 0 and 1 are distinct
        poly = sp.Integer(1) if k == 0 else _T
    elif d == 2:
        poly = sp.chebyshevt(k, _T)
    else:
        lam = sp.Rational(d - 2, 2)
        g = sp.gegenbauer(k, lam, _T)
        poly = sp.expand(g / g.subs(_T, 1))
    coeffs = sp.Poly(poly, _T).all_coeffs()[::-1]
    return tuple(Fraction(int(sp.Rational(c).p), int(sp.Rational(c).q)) for c in coeffs)


def max_degree(d: int, requested: int) -> int:
    return 1 if d == 1 else requested


@dataclass(frozen=True)
class LPBound:
    """A certified Delsarte-Yudin bound: beta^T K beta >= A (sum beta)^2 for all beta >= 0 and all frames.

    ``a_certified`` is a rigorous lower end (arb), ``q_etf`` the ETF quantity (kappa(1) + (M-1) kappa(rho0)) / M,
    ``gap`` an upper bound on q_etf - a_certified (<= 0 means the bound meets or exceeds it),
    ``h`` the Gegenbauer coefficients used (exact rationals), ``source`` 'tangent' or 'lp'.
    """

    M: int
    d: int
    activation: str
    source: str
    h: tuple[Fraction, ...]
    delta: Fraction
    a_certified: float
    a_certified_str: str
    q_etf_str: str
    gap_upper: float
    certificate: NonnegativityCertificate
    lp_status: str

    @property
    def valid(self) -> bool:
        return self.certificate.holds and all(c >= 0 for c in self.h[1:])


def _q_etf(act: Activation, M: int) -> arb:
    k = interval_kernel(act).value
    rho0 = arb(fmpq(-1, M - 1))
    return (k(arb(1)) + (M - 1) * k(rho0)) / M


def _certify(act: Activation, M: int, d: int, h: tuple[Fraction, ...], delta: Fraction, source: str, lp_status: str) -> LPBound:
    kern = interval_kernel(act)
    mono = [Fraction(0)] * (len(h) if d > 1 else 2)
    for k, hk in enumerate(h):
        for i, c in enumerate(gegenbauer_monomials(k, d)):
            mono[i] += hk * c
    p, _, _ = poly_arb(mono)
    cert = _kappa_minus_polynomial(act, tuple(mono), delta)
    with working_bits(BITS):
        h0 = arb(fmpq(h[0].numerator, h[0].denominator))
        h1 = p(arb(1))
        dl = arb(fmpq(delta.numerator, delta.denominator))
        a = h0 - dl + (kern.value(arb(1)) - h1 + dl) / M
        q = _q_etf(act, M)
        gap = q - a
        return LPBound(M, d, act.name, source, h, delta, float(a.lower().mid()), a.str(40, radius=False), q.str(40, radius=False),
                       float(gap.upper().mid()), cert, lp_status)


@lru_cache(maxsize=512)
def _kappa_minus_polynomial(act: Activation, mono: tuple[Fraction, ...], delta: Fraction) -> NonnegativityCertificate:
    """The interval certificate of kappa - p >= -delta on [-1, 1], p = sum mono_i t^i; memoised, since a tangent
    line's monomials are the same for every d (G_0 = 1, G_1 = t), so the cells of one M share it."""
    kern = interval_kernel(act)
    p, p1, p2 = poly_arb(list(mono))
    return certify_lower(lambda t: kern.value(t) - p(t), lambda t: kern.first(t) - p1(t), lambda t: kern.second(t) - p2(t),
                         delta=delta, bits=BITS)


def tangent_bound(act: Activation, M: int, d: int, *, delta: Fraction = DEFAULT_DELTA) -> LPBound:
    """The tangent line of kappa at rho0 = -1/(M-1), rounded to rationals, certified by intervals.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> bound = tangent_bound(get_activation("relu"), 3, 2)
    >>> bound.valid, bound.gap_upper < 1e-50
    (True, True)
    """
    kern = dual_kernel(act)
    with mpmath.workdps(80):
        rho0 = mpmath.mpf(-1) / (M - 1)
        slope = kern.mp_prime(rho0, 80)
        if not mpmath.isfinite(slope):  # kappa' infinite at rho0 (step activation, M = 2): no tangent line
            return _failed(act, M, d, "kappa'(rho0) is infinite")
        slope = max(slope, mpmath.mpf(0))  # Gegenbauer coefficient h_1 must be >= 0
        h0 = kern.mp(rho0, 80) - slope * rho0
        h = (Fraction(mpmath.nstr(h0, 75)), Fraction(mpmath.nstr(slope, 75)))
    return _certify(act, M, d, h, delta, "tangent", "n/a")


def tangent_quadratic_bound(act: Activation, M: int, d: int, *, delta: Fraction = DEFAULT_DELTA) -> LPBound:
    """For d = M - 1: h = h_0 + h_1 G_1 + h_2 G_2 tangent to kappa at rho0, with the smallest h_2 >= 0 that makes
    h_1 = kappa'(rho0) - h_2 G_2'(rho0) >= 0; certified by intervals like the tangent line.

    When M = d + 1 the simplex ETF is a spherical 2-design, sum_{j,l} G_2(rho_jl) = 0, so a degree-2 term costs nothing
    at the ETF: A(h) = Q_ETF exactly whenever h(rho0) = kappa(rho0). This covers kappa'(rho0) < 0 (e.g. |t|, whose
    kappa is even), where the tangent line has a negative Gegenbauer coefficient.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> b = tangent_quadratic_bound(get_activation("abs"), 3, 2)
    >>> b.valid, b.gap_upper < 1e-50
    (True, True)
    """
    if d != M - 1 or d < 2:
        return _failed(act, M, d, "the quadratic certificate needs d = M - 1 >= 2")
    kern = dual_kernel(act)
    g2 = gegenbauer_monomials(2, d)  # G_2(t) = g2[0] + g2[2] t^2
    with mpmath.workdps(80):
        rho0 = mpmath.mpf(-1) / (M - 1)
        slope = kern.mp_prime(rho0, 80)
        if not mpmath.isfinite(slope):
            return _failed(act, M, d, "kappa'(rho0) is infinite")
        c0, c2 = mpmath.mpf(g2[0].numerator) / g2[0].denominator, mpmath.mpf(g2[2].numerator) / g2[2].denominator
        g2p = 2 * c2 * rho0  # < 0 for rho0 < 0
        h2 = max(mpmath.mpf(0), slope / g2p) if slope < 0 else mpmath.mpf(0)
        h1 = max(mpmath.mpf(0), slope - h2 * g2p)
        h0 = kern.mp(rho0, 80) - h1 * rho0 - h2 * (c0 + c2 * rho0**2)
        h = tuple(Fraction(mpmath.nstr(x, 75)) for x in (h0, h1, h2))
    return _certify(act, M, d, h, delta, "tangent_quadratic", "n/a")


def lp_bound(act: Activation, M: int, d: int, *, degree: int = 8, grid: int = 1001, delta: Fraction | None = None,
             solver: str = "CLARABEL", override=None) -> LPBound:
    """Maximise A(h) over Gegenbauer coefficients on a Chebyshev grid, then certify the rounded h.

    delta defaults to twice the largest grid-free violation seen on a 20001-point check grid (at least
    DEFAULT_DELTA), doubled until the interval proof succeeds (at most 8 times).
    ``override`` (fault injection for tests) maps the solver's rounded h to the h that is certified, or raises
    to simulate a solver failure; the interval check then decides, whatever the solver claimed.
    """
    import cvxpy as cp

    K = max_degree(d, degree)
    kern = dual_kernel(act)
    t = np.cos(np.pi * (np.arange(grid) + 0.5) / grid)
    t = np.concatenate([t, [-1.0, 1.0, -1.0 / (M - 1)]])
    basis = np.stack([np.polynomial.polynomial.polyval(t, [float(c) for c in gegenbauer_monomials(k, d)]) for k in range(K + 1)], axis=1)
    h = cp.Variable(K + 1)
    kap = kern.numpy(t)
    k1 = float(kern.at_one)
    objective = cp.Maximize(h[0] + (k1 - cp.sum(h)) / M)
    cons = [basis @ h <= kap, h[1:] >= 0]
    prob = cp.Problem(objective, cons)
    status = solve_status(prob, solver)
    if h.value is None:
        return _failed(act, M, d, status)
    hv = np.array(h.value, dtype=float)
    hv[1:] = np.maximum(hv[1:], 0.0)
    hq = tuple(Fraction(float(x)) for x in hv)
    if override is not None:
        try:
            hq = tuple(override(hq))
        except Exception as err:  # an injected failure is reported like a solver failure
            return _failed(act, M, d, f"solver error: {err}")
    hv = np.array([float(x) for x in hq])
    if delta is None:
        check = np.linspace(-1, 1, 20001)
        cb = np.stack([np.polynomial.polynomial.polyval(check, [float(c) for c in gegenbauer_monomials(k, d)]) for k in range(K + 1)], axis=1)
        viol = float(np.max(cb @ hv - kern.numpy(check)))
        delta = max(DEFAULT_DELTA, Fraction(2 * max(viol, 0.0)) + Fraction(1, 10**12))
    for _ in range(8):
        out = _certify(act, M, d, hq, delta, "lp", status)
        if out.certificate.holds:
            return out
        delta *= 2
    return out


def _failed(act: Activation, M: int, d: int, status: str) -> LPBound:
    cert = NonnegativityCertificate(False, Fraction(0), 0, 0, BITS, float("nan"), None)
    return LPBound(M, d, act.name, "lp", (), Fraction(0), float("nan"), "nan", "nan", float("inf"), cert, status)
