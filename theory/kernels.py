"""Dual kernels kappa(rho) = E[sigma(u) sigma(v)] for unit-variance Gaussians of correlation rho.

For sigma = p relu^n(t) + q relu^n(-t):
    kappa(rho) = (p^2 + q^2) k_n(rho) + 2 p q k_n(-rho),
with k_n the arc-cosine kernel of order n (Cho & Saul 2009), k_n(cos th) = J_n(th) / (2 pi),
J_n(th) = (-1)^n sin(th)^(2n+1) (1/sin th d/dth)^n ((pi - th)/sin th).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from theory.activations import Activation
from theory.closed_form import tidy_number

RHO = sp.Symbol("rho", real=True)
_THETA = sp.Symbol("theta", real=True)


# k_n for n <= 3 as the J_n recursion below derives them (its output, verbatim): parsing costs milliseconds where
# the symbolic derivation (simplify of trigonometric forms) costs about a second per process. The test
# tests/test_theory_kernels.py::test_stored_arccos_kernels_equal_the_derivation re-derives and compares them.
_DERIVED_KERNELS = {
    0: "(pi - acos(rho))/(2*pi)",
    1: "(-rho*acos(rho) + pi*rho + sqrt(1 - rho**2))/(2*pi)",
    2: "(-2*rho**2*acos(rho) + 2*pi*rho**2 + 3*rho*sqrt(1 - rho**2) - acos(rho) + pi)/(2*pi)",
    3: "(-6*rho**3*acos(rho) + 6*pi*rho**3 + 11*rho**2*sqrt(1 - rho**2) - 9*rho*acos(rho) + 9*pi*rho"
       " + 4*sqrt(1 - rho**2))/(2*pi)",
}


@lru_cache(maxsize=None)
def arccos_kernel(n: int) -> sp.Expr:
    """k_n(rho) = J_n(arccos rho) / (2 pi): the J_n recursion's result (``derive_arccos_kernel``), stored for
    n <= 3 and derived for larger n.

    References: Cho & Saul, "Kernel methods for deep learning", NIPS 2009, eq. (7);
    docs/model.md §3 'Dual kernel'; docs/derivations.md §2 'Dual kernels'.

    Examples
    --------
    >>> arccos_kernel(1).subs(RHO, 0)
    1/(2*pi)
    >>> arccos_kernel(2).subs(RHO, 1)
    3/2
    """
    if n in _DERIVED_KERNELS:
        return sp.sympify(_DERIVED_KERNELS[n], locals={"rho": RHO})
    return derive_arccos_kernel(n)


def derive_arccos_kernel(n: int) -> sp.Expr:
    """k_n(rho) derived symbolically: J_n(th) = (-1)^n sin(th)^(2n+1) (1/sin th d/dth)^n ((pi - th)/sin th)."""
    f = (sp.pi - _THETA) / sp.sin(_THETA)
    for _ in range(n):
        f = sp.diff(f, _THETA) / sp.sin(_THETA)
    j_n = sp.simplify((-1) ** n * sp.sin(_THETA) ** (2 * n + 1) * f)
    j_n = sp.expand(sp.expand_trig(j_n))
    expr = j_n.subs(sp.sin(_THETA), sp.sqrt(1 - RHO**2)).subs(sp.cos(_THETA), RHO).subs(_THETA, sp.acos(RHO))
    return sp.simplify(expr / (2 * sp.pi))


@lru_cache(maxsize=None)
def arccos_kernel_derivative(n: int) -> sp.Expr:
    """k_n'(rho): n^2 k_{n-1}(rho) for n >= 1 (kernel of sigma'), 1/(2 pi sqrt(1-rho^2)) for n = 0."""
    if n == 0:
        return 1 / (2 * sp.pi * sp.sqrt(1 - RHO**2))
    return n**2 * arccos_kernel(n - 1)


def _combine(act: Activation, base: sp.Expr, odd_sign: int) -> sp.Expr:
    p, q = act.p, act.q
    if q == 0 and p**2 == 1:  # (p^2 + q^2) base: base itself, which is already simplify's fixed point (tested)
        return base
    return sp.simplify((p**2 + q**2) * base + odd_sign * 2 * p * q * base.subs(RHO, -RHO))


@dataclass(frozen=True)
class DualKernel:
    """Closed-form dual kernel of one activation, with numpy and mpmath evaluators.

    ``expr`` and ``derivative_expr`` are exact sympy expressions in ``RHO``.
    Numeric evaluators clip rho to [-1, 1] (Gram entries of unit vectors can overshoot by rounding).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> kern = dual_kernel(get_activation("relu"))
    >>> float(kern.at_one)
    0.5
    >>> round(float(kern.numpy(np.array([0.0]))[0]) * 2 * np.pi, 12)
    1.0
    """

    activation: Activation
    expr: sp.Expr
    derivative_expr: sp.Expr
    _np: Callable = field(repr=False, compare=False)
    _np_prime: Callable = field(repr=False, compare=False)
    _mp: Callable = field(repr=False, compare=False)
    _mp_prime: Callable = field(repr=False, compare=False)
    tail_bound: sp.Expr = sp.Integer(0)
    method: str = "closed form (arc-cosine kernel)"
    # n + 1 for a closed form of degree n (see guard_digits); 0 for the truncated series
    guard_order: int = 0

    @property
    def at_one(self) -> sp.Expr:
        """kappa(1) = E sigma(g)^2 (exact second moment, also for a truncated series)."""
        if self.tail_bound != 0:
            return self.activation.second_moment()
        return sp.simplify(self.expr.subs(RHO, 1))

    def numpy(self, rho: np.ndarray) -> np.ndarray:
        """kappa(rho), float64, elementwise."""
        r = np.clip(np.asarray(rho, dtype=float), -1.0, 1.0)
        return np.broadcast_to(self._np(r), r.shape).astype(float)

    def numpy_prime(self, rho: np.ndarray) -> np.ndarray:
        """kappa'(rho), float64, elementwise (infinite at +-1 for the step activation)."""
        r = np.clip(np.asarray(rho, dtype=float), -1.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.broadcast_to(self._np_prime(r), r.shape).astype(float)

    def guard_digits(self, rho, dps: int = 30) -> int:
        """Extra working digits for ``mp``/``mp_prime`` at rho: 10 + ceil(guard_order * log10(1 / (1 - |rho|))).

        Why this many: near rho = -1 the closed form adds terms of size O(g^(1/2)), g = 1 - |rho| (sqrt(1 - rho^2)
        and pi - acos(rho)), whose rounding errors are O(10^-p g^-(1/2)) at p working digits (1 - rho^2 loses
        log10(1/g) digits, and its square root halves the relative error), while the value k_n(rho) is
        O(g^(n+1/2)). The relative error is therefore O(10^-p g^-(n+1)): n + 1 = ``guard_order`` digits per decade
        of g, plus 10 digits for the constant factors. The derivative (degree n - 1, or 1/sqrt(1 - rho^2) for the
        step) loses no more. Near rho = +1 the same count bounds the error of the k_n(-rho) part of a mixture,
        which is small next to the total. The truncated series (``guard_order`` 0) needs no extra digits near
        the ends. g is read at dps + 20 digits; g = 0 (rho = +-1, where every term vanishes exactly) needs none.
        """
        if self.guard_order == 0:
            return 10
        with mpmath.workdps(dps + 20):
            gap = 1 - abs(mpmath.mpf(rho))
            if gap <= 0:
                return 10
            # mag(g) = floor(log2 g) + 1 (an upper bound on log2 g), so -mag(g) + 1 >= log2(1/g) bounds it safely
            decades = max(0, -mpmath.mag(gap) + 1) * 0.30103
        return 10 + int(math.ceil(self.guard_order * decades))

    def _at(self, fn, rho, dps: int):
        with mpmath.workdps(dps + self.guard_digits(rho, dps)):
            r = mpmath.mpf(rho)
            r = min(max(r, mpmath.mpf(-1)), mpmath.mpf(1))
            try:
                value = fn(r)
            except ZeroDivisionError:  # 1/sqrt(1 - rho^2) of the step's derivative at rho = +-1
                value = mpmath.inf
        with mpmath.workdps(dps):
            return +value

    def mp(self, rho, dps: int = 30):
        """kappa(rho) in mpmath, correct to ``dps`` significant digits (rho clipped to [-1, 1]).

        rho (a number or a decimal string) is read at the working precision, dps plus ``guard_digits``, which
        absorbs the cancellation of the closed form near rho = -1 (at rho = -0.999999 and 40 digits, ReLU kept
        29 digits and ReLU^3 17 before the guard).
        """
        return self._at(self._mp, rho, dps)

    def mp_prime(self, rho, dps: int = 30):
        """kappa'(rho) in mpmath, correct to ``dps`` digits (guarded as ``mp``); mpmath.inf where it is infinite
        (the step activation at rho = +-1)."""
        return self._at(self._mp_prime, rho, dps)


SERIES_ORDER = 40


def _float_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every power of 1 - rho^2 taken of (1 - rho)(1 + rho), for float evaluation: the product
    has relative error <= 3u/2 on [-1, 1], while 1 - rho*rho loses up to 2^-28 relative next to rho = +-1
    (numerics.kappa._sine_of_cosine).  The same function; only its rounding changes."""
    one_minus_sq = 1 - RHO**2
    return expr.replace(lambda e: e.is_Pow and e.base == one_minus_sq,
                        lambda e: sp.Pow(sp.Mul(1 - RHO, 1 + RHO, evaluate=False), e.exp, evaluate=False))


@lru_cache(maxsize=None)
def dual_kernel(act: Activation, order: int = SERIES_ORDER) -> DualKernel:
    """The closed-form dual kernel of ``act`` (cached per activation).

    For a non-homogeneous piecewise polynomial (theory.custom_activation.PiecewiseActivation) it is the truncated
    Hermite series sum_{k<=order} mu_k^2 rho^k, with ``tail_bound`` = E sigma^2 - sum_{k<=order} mu_k^2, an exact,
    rigorous bound on |kappa - series| for |rho| <= 1 (all mu_k^2 >= 0). The derivative's error is not bounded.
    """
    if not isinstance(act, Activation):
        return _series_kernel(act, order)
    expr = _combine(act, arccos_kernel(act.degree), +1)
    deriv = _combine(act, arccos_kernel_derivative(act.degree), -1)
    return DualKernel(
        activation=act,
        expr=expr,
        derivative_expr=deriv,
        _np=sp.lambdify(RHO, _float_form(expr), "numpy"),
        _np_prime=sp.lambdify(RHO, _float_form(deriv), "numpy"),
        _mp=sp.lambdify(RHO, expr, "mpmath"),
        _mp_prime=sp.lambdify(RHO, deriv, "mpmath"),
        guard_order=act.degree + 1,
    )


def kernel_series(act, order: int) -> sp.Expr:
    """sum_{k<=order} mu_k^2 rho^k, the power series of kappa (exact coefficients).

    References: docs/model.md §3 'Dual kernel' (Hermite expansion of the dual kernel).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> kernel_series(get_activation("relu"), 4)
    rho**4/(48*pi) + rho**2/(4*pi) + rho/4 + 1/(2*pi)
    """
    coeffs = (tidy_number(act.hermite_coefficient(k) ** 2) for k in range(order + 1))
    return sum((sp.nsimplify(c) if c.has(sp.Float) else c) * RHO**k for k, c in enumerate(coeffs))


def _series_kernel(act, order: int) -> DualKernel:
    coeffs = [sp.expand(act.hermite_coefficient(k) ** 2) for k in range(order + 1)]
    expr = sum(c * RHO**k for k, c in enumerate(coeffs))
    deriv = sum(k * c * RHO ** (k - 1) for k, c in enumerate(coeffs) if k >= 1)
    tail = sp.expand(act.second_moment() - sum(coeffs))
    return DualKernel(
        activation=act, expr=expr, derivative_expr=deriv,
        _np=sp.lambdify(RHO, expr, "numpy"), _np_prime=sp.lambdify(RHO, deriv, "numpy"),
        _mp=sp.lambdify(RHO, expr, "mpmath"), _mp_prime=sp.lambdify(RHO, deriv, "mpmath"),
        tail_bound=tail, method=f"truncated Hermite series, order {order}, |error| <= tail_bound on [-1, 1]",
    )
