"""Interval (ball) arithmetic for the dual kernels: sympy closed forms compiled to python-flint ``arb``.

The compiler walks the sympy tree of kappa, kappa' and kappa'' (whitelisted node types only) and returns
a function of an ``arb`` ball t subset of [-1, 1] whose result encloses every value on that ball.
arccos is evaluated as 2 atan(sqrt((1 - t)/(1 + t))) (or pi minus the mirrored form), which stays finite on
balls touching +-1 where arb's own acos returns NaN; square roots use the non-negative part of their argument,
which is exact here because every radicand is 1 - t^2 >= 0 on [-1, 1].

References: Johansson, "Arb: efficient arbitrary-precision midpoint-radius interval arithmetic",
IEEE Trans. Comput. 66 (2017).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable

import flint
import sympy as sp
from flint import arb, fmpq

from theory.activations import Activation
from theory.kernels import RHO, dual_kernel

ArbFn = Callable[[arb], arb]


def _acos(t: arb) -> arb:
    """Enclosure of arccos on a ball inside [-1, 1]."""
    one = arb(1)
    if t.upper() <= arb(0):
        r = ((one + t) / (one - t)).nonnegative_part().sqrt()
        return arb.pi() - 2 * r.atan()
    r = ((one - t) / (one + t)).nonnegative_part().sqrt()
    return 2 * r.atan()


def _ipow(x: arb, n: int) -> arb:
    """x^n for an integer n >= 0 by multiplication (python-flint 0.9's ``arb ** n`` is nan for a ball centred at 0);
    even powers start from |x|, which keeps them nonnegative."""
    base = abs(x) if n % 2 == 0 else x
    out = arb(1)
    for _ in range(n):
        out = out * base
    return out


def compile_arb(expr: sp.Expr) -> ArbFn:
    """Turn a sympy expression in RHO into an enclosure function on arb balls (whitelist of node types).

    Examples
    --------
    >>> f = compile_arb(sp.acos(RHO) * 2 + sp.sqrt(1 - RHO**2))
    >>> f(arb(1)).contains(0)
    True
    """
    if expr == RHO:
        return lambda t: t
    if expr.is_Rational:
        q = fmpq(int(expr.p), int(expr.q))
        return lambda t: arb(q)
    if expr == sp.pi:
        return lambda t: arb.pi()
    if isinstance(expr, sp.Add):
        parts = [compile_arb(a) for a in expr.args]
        return lambda t: sum((p(t) for p in parts[1:]), parts[0](t))
    if isinstance(expr, sp.Mul):
        parts = [compile_arb(a) for a in expr.args]

        def mul(t):
            out = parts[0](t)
            for p in parts[1:]:
                out = out * p(t)
            return out

        return mul
    if isinstance(expr, sp.Pow):
        base, ex = compile_arb(expr.args[0]), expr.args[1]
        if ex.is_Integer:
            n = int(ex)
            return (lambda t: _ipow(base(t), n)) if n >= 0 else (lambda t: 1 / _ipow(base(t), -n))
        if ex.is_Rational and ex.q == 2:
            n = int(ex.p)
            root = lambda t: base(t).nonnegative_part().sqrt()
            return (lambda t: _ipow(root(t), n)) if n >= 0 else (lambda t: 1 / _ipow(root(t), -n))
        raise ValueError(f"unsupported power in kernel expression: {expr}")
    if isinstance(expr, sp.acos):
        inner = compile_arb(expr.args[0])
        return lambda t: _acos(inner(t))
    if isinstance(expr, sp.asin):
        inner = compile_arb(expr.args[0])
        return lambda t: arb.pi() / 2 - _acos(inner(t))
    raise ValueError(f"unsupported node {type(expr).__name__} in kernel expression")


@dataclass(frozen=True)
class IntervalKernel:
    """Enclosures of kappa, kappa', kappa'' of one activation on arb balls."""

    activation: Activation
    value: ArbFn
    first: ArbFn
    second: ArbFn


@lru_cache(maxsize=None)
def interval_kernel(act: Activation) -> IntervalKernel:
    """Compile kappa and its first two derivatives for ``act`` (cached).

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> k = interval_kernel(get_activation("relu"))
    >>> k.value(arb(0)).overlaps(1 / (2 * arb.pi()))
    True
    """
    kern = dual_kernel(act)
    second = sp.simplify(sp.diff(kern.derivative_expr, RHO))
    return IntervalKernel(act, compile_arb(kern.expr), compile_arb(kern.derivative_expr), compile_arb(second))


def ball(lo: Fraction, hi: Fraction) -> arb:
    """The arb ball [lo, hi] (exact endpoints as rationals; the ball encloses them)."""
    return arb(fmpq(lo.numerator, lo.denominator)).union(arb(fmpq(hi.numerator, hi.denominator)))


def point(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def working_bits(bits: int):
    """Context manager setting flint's working precision locally (restored on exit)."""

    class _Prec:
        def __enter__(self):
            self.old = flint.ctx.prec
            flint.ctx.prec = bits

        def __exit__(self, *exc):
            flint.ctx.prec = self.old

    return _Prec()
